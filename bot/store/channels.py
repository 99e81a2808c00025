"""Each workspace's digest channel, chosen with `/hubs digest here|off`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    delete,
    select,
)

from bot.store.base import StoreBase
from bot.store.schema import (
    DigestChannel,
    _to_digest_channel,
    digest_channels,
    utcnow,
)


class ChannelsMixin(StoreBase):
    def set_digest_channel(
        self,
        team_id: str,
        channel: str | None,
        set_by: str,
        now: datetime | None = None,
        timezone: str | None = None,
        cron: str | None = None,
    ) -> None:
        """Record a workspace's digest channel (None switches the digest off there), its
        schedule and the time zone that is read in."""
        values = {
            "channel": channel,
            "timezone": timezone,
            "cron": cron,
            "set_by": set_by,
            "set_at": now or utcnow(),
        }
        with self.write() as conn:
            conn.execute(self._upsert(digest_channels, {"team_id": team_id, **values}))

    def digest_channel(self, team_id: str) -> DigestChannel | None:
        """The workspace's choice, or None when it never made one."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(digest_channels).where(digest_channels.c.team_id == team_id)
            ).first()
        return _to_digest_channel(row) if row else None

    def digest_channels(self) -> list[DigestChannel]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(digest_channels).order_by(digest_channels.c.team_id))
            return [_to_digest_channel(row) for row in rows]

    def forget_workspace(self, team_id: str) -> None:
        """The app was uninstalled from a workspace: stop its digest."""
        with self.write() as conn:
            conn.execute(delete(digest_channels).where(digest_channels.c.team_id == team_id))
