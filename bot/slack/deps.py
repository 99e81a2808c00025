"""What every listener needs, handed to it by the app factory: settings, the index, the store,
the outbox. A module of its own so that listeners and :mod:`bot.slack.app` both import it and
neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk.oauth.installation_store import InstallationStore

from bot.corpus import Corpus
from bot.digest.fleet import DigestPlan, effective_digest_channel
from bot.digest.pool import parse_cron
from bot.search import SearchResponse
from bot.settings import Settings
from bot.slack.outbox import Outbox
from bot.store import Store


class SearchIndex(Protocol):
    """What listeners need from the index: an ``Index`` or a hot-reloading ``LiveIndex``."""

    @property
    def corpus(self) -> Corpus: ...

    def search(self, query: str, limit: int = 3, context: str = "") -> SearchResponse: ...


@dataclass(frozen=True)
class Deps:
    settings: Settings
    index: SearchIndex
    store: Store
    outbox: Outbox
    installations: InstallationStore | None = None  # multi-workspace mode only

    def digest_plan(self, team_id: str | None) -> DigestPlan:
        """Where and in which zone this workspace's digest goes: its `/hubs digest here|off`
        choice, else (one workspace only) HUBS_DIGEST_CHANNEL in HUBS_TIMEZONE."""
        choice = self.store.digest_channel(team_id) if team_id else None
        timezone = (choice.timezone if choice else None) or self.settings.timezone
        cron = (choice.cron if choice else None) or self.settings.digest_cron
        return DigestPlan(effective_digest_channel(self.settings, choice), timezone, cron)

    def next_digest_run(self, plan: DigestPlan, now: datetime | None = None) -> datetime | None:
        if not plan.channel:
            return None
        try:
            trigger = parse_cron(plan.cron, plan.timezone)
        except ValueError:
            return None
        return trigger.get_next_fire_time(None, now or datetime.now(UTC))
