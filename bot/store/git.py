"""A Git corpus followed by every replica: the commit all should serve, webhook deliveries
handled once, and the maintainers told once per commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.store.base import StoreBase
from bot.store.schema import as_utc, git_deliveries, git_notices, git_wanted, utcnow


@dataclass(frozen=True, slots=True)
class WantedCommit:
    generation: int
    commit: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GitNotice:
    commit: str
    kind: str  # problems | clear
    paths: tuple[str, ...]
    posted_at: datetime


class GitMixin(StoreBase):
    def wanted_commit(self, source: str) -> WantedCommit | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(git_wanted).where(git_wanted.c.source == source)).first()
        if row is None:
            return None
        return WantedCommit(row.generation, row.commit_sha, as_utc(row.updated_at))  # type: ignore[arg-type]

    def want_commit(self, source: str, commit: str, now: datetime | None = None) -> int:
        """Ask every replica to pull: records ``commit`` and bumps the generation (one
        atomic upsert); the new generation."""
        statement = self._dialect_insert(git_wanted).values(
            source=source, generation=1, commit_sha=commit, updated_at=now or utcnow()
        )
        statement = statement.on_conflict_do_update(
            index_elements=[git_wanted.c.source],
            set_={
                "generation": git_wanted.c.generation + 1,
                "commit_sha": statement.excluded.commit_sha,
                "updated_at": statement.excluded.updated_at,
            },
        ).returning(git_wanted.c.generation)
        with self.write() as conn:
            return int(conn.execute(statement).scalar_one())

    def claim_git_delivery(self, delivery_id: str, now: datetime | None = None) -> bool:
        """True only for the first caller with this webhook delivery id."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(git_deliveries)
                .values(delivery_id=delivery_id[:128], received_at=now or utcnow())
                .returning(git_deliveries.c.delivery_id)
            ).first()
        return inserted is not None

    def prune_git_deliveries(self, older_than: timedelta = timedelta(days=7)) -> int:
        with self.write() as conn:
            result = conn.execute(
                delete(git_deliveries).where(git_deliveries.c.received_at < utcnow() - older_than)
            )
        return result.rowcount

    def claim_git_notice(
        self,
        source: str,
        commit: str,
        kind: str,
        paths: list[str] | tuple[str, ...],
        now: datetime | None = None,
    ) -> bool:
        """True only for the first replica to tell the maintainers about ``commit``."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(git_notices)
                .values(
                    source=source,
                    commit_sha=commit,
                    kind=kind,
                    paths=json.dumps(sorted(paths)),
                    posted_at=now or utcnow(),
                )
                .returning(git_notices.c.commit_sha)
            ).first()
        return inserted is not None

    def last_git_notice(self, source: str) -> GitNotice | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(git_notices)
                .where(git_notices.c.source == source)
                .order_by(git_notices.c.posted_at.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return GitNotice(
            row.commit_sha, row.kind, tuple(json.loads(row.paths)), as_utc(row.posted_at)
        )  # type: ignore[arg-type]
