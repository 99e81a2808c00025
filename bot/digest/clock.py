"""``hubs-bot clock``: the one scheduler process, which only ever ticks the digests
(:class:`~bot.digest.fleet.DigestFleet`: every workspace's channel, each a :class:`Digest`).

APScheduler 3.x keeps its jobs in this process (a job store cannot be shared between
processes), so exactly one clock should run; if two do, the store's ``(channel, week)`` claim
still lets only one of them post. Jobs are added with fixed ids and ``replace_existing`` so a
restart never duplicates them:

* ``weekly-digest`` — the cron from ``HUBS_DIGEST_CRON`` in ``HUBS_TIMEZONE``; a misfire
  (the process was busy or asleep) is still run up to 6 hours late, coalesced into one run;
* ``digest-retry`` — every minute: picks up a failed post whose backoff has elapsed, and
  posts for workspaces whose admin's time zone differs from ``HUBS_TIMEZONE`` (their
  "Monday 09:00" comes at another hour); once the week's digests are posted a tick costs
  two queries for all workspaces together;
* ``prune-events`` — daily, drops processed Slack event ids older than two days.

At start it ticks once, which posts this week's digest if its time has passed and nobody
posted it (a week missed while the clock was down; never a backlog of older weeks).
"""

from __future__ import annotations

import argparse
import logging
import signal
from datetime import UTC, datetime
from types import FrameType
from typing import Protocol

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.corpus import check_playbooks
from bot.corpus.git import pulled_corpus
from bot.digest.fleet import DigestFleet
from bot.settings import ConfigError, Settings
from bot.slack_api.credentials import require_credentials
from bot.slack_api.installations import installation_store
from bot.store import Store

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 6 * 3600
RETRY_EVERY_MIN = 1


class Tickable(Protocol):
    """A :class:`~bot.digest.Digest` (one channel) or a :class:`DigestFleet` (all of them)."""

    trigger: CronTrigger
    store: Store

    def tick(self, now: datetime | None = None) -> object: ...


def schedule_digest(scheduler: BaseScheduler, digest: Tickable) -> None:
    """Add the clock's jobs (idempotent: fixed ids, replace_existing)."""
    common = {"coalesce": True, "max_instances": 1, "replace_existing": True}
    scheduler.add_job(
        digest.tick,
        digest.trigger,
        id="weekly-digest",
        misfire_grace_time=MISFIRE_GRACE_S,
        **common,
    )
    scheduler.add_job(
        digest.tick,
        IntervalTrigger(minutes=RETRY_EVERY_MIN),
        id="digest-retry",
        misfire_grace_time=RETRY_EVERY_MIN * 60,
        **common,
    )
    scheduler.add_job(
        digest.store.prune_events,
        IntervalTrigger(hours=24),
        id="prune-events",
        misfire_grace_time=3600,
        **common,
    )


def cmd_clock(args: argparse.Namespace, settings: Settings) -> int:
    require_credentials(settings, signing_secret=False)  # the clock takes no Slack requests
    check_playbooks(settings.corpus_dirs)  # a digest needs something to post
    store = Store.connect(settings.effective_database_url)
    installations = installation_store(settings, store) if settings.oauth_enabled else None
    # a Git corpus is pulled at each tick: the clock may run where no webhook reaches
    source = (lambda: pulled_corpus(settings)) if settings.corpus_git else None
    try:
        digest = DigestFleet(settings, store, installations, corpus_source=source)
    except ValueError as exc:  # a bad cron expression or time zone
        raise ConfigError(str(exc)) from None
    scheduler = BlockingScheduler(timezone=digest.trigger.timezone)
    schedule_digest(scheduler, digest)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("clock stopping", extra={"signal": signal.Signals(signum).name})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if settings.clock_metrics_port:  # the clock serves no HTTP otherwise: digest metrics
        from prometheus_client import start_http_server

        start_http_server(settings.clock_metrics_port)
    outcomes = digest.tick()  # catch up on this week if its time has passed
    next_run = digest.trigger.get_next_fire_time(None, datetime.now(UTC))
    log.info(
        "clock started",
        extra={
            "channels": len(outcomes),
            "cron": settings.digest_cron,
            "timezone": settings.timezone,
            "this_week": ",".join(sorted({o.action for o in outcomes})) or "-",
            "next_run": next_run.isoformat() if next_run else None,
        },
    )
    if not outcomes:
        log.info(
            "no digest channel yet: set HUBS_DIGEST_CHANNEL or run `/hubs digest here` in Slack"
        )
    scheduler.start()  # blocks until SIGTERM/SIGINT
    digest.store.close()
    return 0
