"""The digest's shuffle bag: no item repeats until every item was drawn."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Connection,
    delete,
    func,
    select,
    update,
)

from bot.store.base import StoreBase
from bot.store.schema import (
    BagEntry,
    digest_bag,
)


class BagMixin(StoreBase):
    def bag(self, channel: str) -> list[BagEntry]:
        """The current cycle's entries in draw order (drawn ones included)."""
        with self.engine.connect() as conn:
            cycle = self._current_cycle(conn, channel)
            rows = conn.execute(
                select(digest_bag)
                .where(digest_bag.c.channel == channel, digest_bag.c.cycle == cycle)
                .order_by(digest_bag.c.position, digest_bag.c.item_id)
            )
            return [BagEntry(r.item_id, r.cycle, r.position, r.drawn_week) for r in rows]

    def start_cycle(self, channel: str, ordered_item_ids: Sequence[str]) -> int:
        """Begin a new cycle with this order; returns the cycle number."""
        with self.write() as conn:
            cycle = self._current_cycle(conn, channel) + 1
            if ordered_item_ids:
                conn.execute(
                    self._insert_ignore(digest_bag),
                    [
                        {"channel": channel, "cycle": cycle, "item_id": item, "position": i}
                        for i, item in enumerate(ordered_item_ids)
                    ],
                )
            return cycle

    def add_to_cycle(
        self,
        channel: str,
        cycle: int,
        placed: Iterable[tuple[str, int]],
        drawn_week: str | None = None,
    ) -> None:
        """New corpus items join the current cycle at the given positions (``drawn_week``:
        as already drawn that week)."""
        rows = [
            {
                "channel": channel,
                "cycle": cycle,
                "item_id": item,
                "position": position,
                "drawn_week": drawn_week,
            }
            for item, position in placed
        ]
        if rows:
            with self.write() as conn:
                conn.execute(self._insert_ignore(digest_bag), rows)

    def remove_from_cycle(self, channel: str, cycle: int, item_ids: Iterable[str]) -> None:
        """Items gone from the corpus leave the cycle (unless already drawn: history)."""
        ids = list(item_ids)
        if ids:
            with self.write() as conn:
                conn.execute(
                    delete(digest_bag).where(
                        digest_bag.c.channel == channel,
                        digest_bag.c.cycle == cycle,
                        digest_bag.c.item_id.in_(ids),
                        digest_bag.c.drawn_week.is_(None),
                    )
                )

    def mark_drawn(self, channel: str, item_id: str, week: str) -> None:
        with self.write() as conn:
            cycle = self._current_cycle(conn, channel)
            conn.execute(
                update(digest_bag)
                .where(
                    digest_bag.c.channel == channel,
                    digest_bag.c.cycle == cycle,
                    digest_bag.c.item_id == item_id,
                )
                .values(drawn_week=week)
            )

    def current_cycle(self, channel: str) -> int:
        """The channel's latest cycle number (0 before the first)."""
        with self.engine.connect() as conn:
            return self._current_cycle(conn, channel)

    @staticmethod
    def _current_cycle(conn: Connection, channel: str) -> int:
        value = conn.execute(
            select(func.max(digest_bag.c.cycle)).where(digest_bag.c.channel == channel)
        ).scalar()
        return int(value or 0)
