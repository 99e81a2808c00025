"""Slack event ids: each event answered once, whichever replica gets it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    delete,
)

from bot.store.base import StoreBase
from bot.store.schema import (
    slack_events,
    utcnow,
)


class EventsMixin(StoreBase):
    def claim_event(self, event_id: str, now: datetime | None = None) -> bool:
        """True only for the first caller with this event id, across processes and hosts."""
        with self.write() as conn:
            inserted = conn.execute(
                self._insert_ignore(slack_events)
                .values(event_id=event_id, received_at=now or utcnow())
                .returning(slack_events.c.event_id)
            ).first()
        return inserted is not None

    def prune_events(self, older_than: timedelta = timedelta(days=2)) -> int:
        """Slack retries for minutes, not days; old ids only take space."""
        with self.write() as conn:
            result = conn.execute(
                delete(slack_events).where(slack_events.c.received_at < utcnow() - older_than)
            )
        return result.rowcount
