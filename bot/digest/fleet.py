"""Every workspace's weekly digest: which channels get one, with which bot token, and in
which time zone (the admin's who chose the channel: "Monday 09:00" is their 09:00).

A workspace chooses its channel with `/hubs digest here|off` (kept in the store); with one
workspace and no choice made, ``HUBS_DIGEST_CHANNEL`` is the default. The targets are read
afresh at every tick, so a channel chosen in Slack needs no clock restart, and a workspace
that uninstalled the app (no token any more) is skipped. Each target is an ordinary
:class:`~bot.digest.Digest`, so the exactly-once rules per ``(channel, week)`` hold as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from apscheduler.triggers.cron import CronTrigger
from slack_sdk.oauth.installation_store import InstallationStore

from bot.corpus import Corpus, load_corpus
from bot.digest.pool import Digest, TickOutcome, iso_week, parse_cron
from bot.settings import Settings
from bot.slack_api.client import make_web_client
from bot.slack_api.installations import bot_token_for
from bot.store import DigestChannel, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DigestTarget:
    team_id: str  # "" for the HUBS_DIGEST_CHANNEL default
    channel: str
    token: str | None  # None: looked up when a post is due (multi-workspace mode)
    active_since: datetime | None  # when the channel was chosen
    timezone: str | None = None  # the choosing admin's; None: HUBS_TIMEZONE
    cron: str | None = None  # the workspace's own day and hour; None: HUBS_DIGEST_CRON


@dataclass(frozen=True)
class DigestPlan:
    channel: str | None  # None: no digest
    timezone: str
    cron: str


def effective_digest_channel(settings: Settings, choice: DigestChannel | None) -> str | None:
    if choice is not None:
        return choice.channel
    return None if settings.oauth_enabled else settings.digest_channel


def digest_targets(
    settings: Settings,
    store: Store,
    installations: InstallationStore | None = None,
    *,
    resolve_tokens: bool = True,
) -> list[DigestTarget]:
    """The channels to post to this week, each with the token of its workspace (workspaces
    without an installation left out), or, with ``resolve_tokens=False`` in multi-workspace
    mode, without looking tokens up: the clock does that only for a post that is due."""
    choices = store.digest_channels()
    if not settings.oauth_enabled:
        token = str(settings.slack_bot_token)
        if not choices:  # nobody used /hubs digest yet: the configured default, if any
            channel = settings.digest_channel
            return [DigestTarget("", channel, token, None)] if channel else []
        return [
            DigestTarget(c.team_id, c.channel, token, c.set_at, c.timezone, c.cron)
            for c in choices
            if c.channel
        ]
    if installations is None:
        raise ValueError("multi-workspace mode needs the installation store")
    targets = []
    for choice in choices:
        if not choice.channel:
            continue
        token = bot_token_for(installations, choice.team_id) if resolve_tokens else None
        if token is None and resolve_tokens:
            log.warning("no installation for a digest workspace", extra={"team": choice.team_id})
            continue
        targets.append(
            DigestTarget(
                choice.team_id,
                choice.channel,
                token,
                choice.set_at,
                choice.timezone,
                choice.cron,
            )
        )
    return targets


class DigestFleet:
    """What the clock ticks: one :class:`Digest` per target, one schedule for all."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        installations: InstallationStore | None = None,
        corpus_source: Callable[[], Corpus] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.installations = installations
        self.trigger = parse_cron(settings.digest_cron, settings.timezone)  # ValueError if bad
        directories = settings.corpus_dirs
        self._corpus_source = corpus_source or (lambda: load_corpus(directories))

    def targets(self) -> list[DigestTarget]:
        return digest_targets(self.settings, self.store, self.installations, resolve_tokens=False)

    def trigger_for(self, target: DigestTarget) -> CronTrigger:
        """The workspace's schedule: its own day, hour and zone, else the configured ones."""
        timezone = target.timezone or self.settings.timezone
        cron = target.cron or self.settings.digest_cron
        if (cron, timezone) == (self.settings.digest_cron, self.settings.timezone):
            return self.trigger
        return parse_cron(cron, timezone)

    def tick(self, now: datetime | None = None) -> list[TickOutcome]:
        """Tick every target; one workspace's failure never stops the others'. Once the
        week's digests are posted this is two queries, however many workspaces there are."""
        now = now or datetime.now(UTC)
        corpus = cache(self._corpus_source)  # read at most once per tick, only if needed
        scheduled = [(target, self.trigger_for(target)) for target in self.targets()]
        weeks = [iso_week(now.astimezone(trigger.timezone)) for _, trigger in scheduled]
        posted = self.store.posted_runs(weeks)
        outcomes = []
        for (target, trigger), week in zip(scheduled, weeks, strict=True):
            if (target.channel, week) in posted:
                outcomes.append(TickOutcome("done", week))
                continue
            try:
                digest = self._digest(target, trigger, corpus)
                if digest is None:
                    continue
                outcomes.append(digest.tick(now))
            except Exception:  # a database blip or a bug for one channel: log, go on
                log.exception(
                    "digest tick failed", extra={"team": target.team_id, "channel": target.channel}
                )
        return outcomes

    def _digest(
        self, target: DigestTarget, trigger: CronTrigger, corpus: Callable[[], Corpus]
    ) -> Digest | None:
        token = target.token
        if token is None and self.installations is not None:
            token = bot_token_for(self.installations, target.team_id)
        if token is None:
            log.warning("no installation for a digest workspace", extra={"team": target.team_id})
            return None
        client = make_web_client(token, self.settings.slack_api_url)
        return Digest(
            self.store, client, target.channel, trigger, corpus, active_since=target.active_since
        )
