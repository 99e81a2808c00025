"""Weekly digest runs: the (channel, week) claim that makes a post exactly-once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Connection,
    delete,
    select,
    update,
)

from bot.store.base import StoreBase
from bot.store.schema import (
    DigestRun,
    _to_run,
    digest_runs,
    utcnow,
)


class RunsMixin(StoreBase):
    def claim_week(self, channel: str, week: str, now: datetime) -> DigestRun | None:
        """Insert this week's run row; the one caller whose insert lands owns the post."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(digest_runs)
                .values(
                    channel=channel,
                    week=week,
                    status="claimed",
                    attempts=1,
                    claimed_at=now,
                    updated_at=now,
                )
                .returning(digest_runs.c.id)
            ).first()
            if inserted is None:  # the unique (channel, week) key said: someone else has it
                return None
            return self._run(conn, channel, week)

    def retake_failed(self, run: DigestRun, now: datetime) -> DigestRun | None:
        """Compare-and-set a failed (or stale claimed) run back to claimed; one winner."""
        with self.write() as conn:
            result = conn.execute(
                update(digest_runs)
                .where(
                    digest_runs.c.id == run.id,
                    digest_runs.c.status == run.status,
                    digest_runs.c.attempts == run.attempts,
                )
                .values(
                    status="claimed",
                    attempts=run.attempts + 1,
                    claimed_at=now,
                    updated_at=now,
                    next_attempt_at=None,
                )
            )
            if result.rowcount != 1:
                return None
            return self._run(conn, run.channel, run.week)

    def set_run_item(self, run_id: int, item_id: str) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(item_id=item_id, updated_at=utcnow())
            )

    def mark_posted(self, run_id: int, message_ts: str, now: datetime) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(status="posted", message_ts=message_ts, error=None, updated_at=now)
            )

    def mark_failed(self, run_id: int, error: str, retry_at: datetime, now: datetime) -> None:
        with self.write() as conn:
            conn.execute(
                update(digest_runs)
                .where(digest_runs.c.id == run_id)
                .values(status="failed", error=error, next_attempt_at=retry_at, updated_at=now)
            )

    def posted_runs(self, weeks: Iterable[str]) -> set[tuple[str, str]]:
        """(channel, week) of every run posted in these weeks, in one query."""
        wanted = sorted(set(weeks))
        if not wanted:
            return set()
        query = select(digest_runs.c.channel, digest_runs.c.week).where(
            digest_runs.c.week.in_(wanted), digest_runs.c.status == "posted"
        )
        with self.engine.connect() as conn:
            return {(row.channel, row.week) for row in conn.execute(query)}

    def get_run(self, channel: str, week: str) -> DigestRun | None:
        with self.engine.connect() as conn:
            return self._run(conn, channel, week)

    def delete_run(self, channel: str, week: str) -> None:
        """For ``digest --post-now --force``: forget this week's run so it can be claimed."""
        with self.write() as conn:
            conn.execute(
                delete(digest_runs).where(
                    digest_runs.c.channel == channel, digest_runs.c.week == week
                )
            )

    def history(self, channel: str | None = None, limit: int = 52) -> list[DigestRun]:
        query = select(digest_runs).order_by(digest_runs.c.week.desc(), digest_runs.c.channel)
        if channel:
            query = query.where(digest_runs.c.channel == channel)
        with self.engine.connect() as conn:
            return [_to_run(row) for row in conn.execute(query.limit(limit))]

    @staticmethod
    def _run(conn: Connection, channel: str, week: str) -> DigestRun | None:
        row = conn.execute(
            select(digest_runs).where(digest_runs.c.channel == channel, digest_runs.c.week == week)
        ).first()
        return _to_run(row) if row else None
