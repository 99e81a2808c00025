"""Questions, votes and the outbox's counts: what `hubs-bot stats` reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    func,
    insert,
    select,
)

from bot.store.base import StoreBase
from bot.store.schema import (
    feedback,
    normalise_query,
    outbox,
    query_log,
    utcnow,
)


class UsageMixin(StoreBase):
    def record_query(self, source: str, query: str, section_key: str | None) -> None:
        """One row per question asked in Slack: what people look for, and what is missing."""
        with self.write() as conn:
            conn.execute(
                insert(query_log).values(
                    asked_at=utcnow(),
                    source=source,
                    query=normalise_query(query),
                    section_key=section_key,
                )
            )

    def record_feedback(self, voter: str, query: str, section_key: str, vote: int) -> None:
        """👍 (+1) or 👎 (-1) on an answer; the voter's latest click counts."""
        values = {
            "voter": voter,
            "query": normalise_query(query),
            "section_key": section_key,
            "vote": 1 if vote > 0 else -1,
            "voted_at": utcnow(),
        }
        with self.write() as conn:
            conn.execute(self._upsert(feedback, values))

    def usage_since(self, since: datetime) -> tuple[list[tuple], list[tuple]]:
        """(query rows, feedback rows) since a moment, for `hubs-bot stats`."""
        with self.engine.connect() as conn:
            queries = conn.execute(
                select(query_log.c.query, query_log.c.section_key, query_log.c.source).where(
                    query_log.c.asked_at >= since
                )
            ).all()
            votes = conn.execute(
                select(feedback.c.section_key, feedback.c.vote, feedback.c.query).where(
                    feedback.c.voted_at >= since
                )
            ).all()
        return [tuple(r) for r in queries], [tuple(r) for r in votes]

    def outbox_counts(self) -> dict[str, int]:
        """Replies still waiting for Slack (``pending``) and given up (``dead``, kept a week)."""
        with self.engine.connect() as conn:
            query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
            return {"pending": 0, "dead": 0} | dict(conn.execute(query).all())
