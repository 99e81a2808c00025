"""The weekly digest: which item to post, and posting it exactly once per week and channel.

No scheduler code here (that is :mod:`bot.digest.clock`): :meth:`Digest.tick` is safe to call at any
moment, from any number of processes, as often as you like. It posts only when this week's
scheduled time has passed, and only the caller whose ``INSERT … ON CONFLICT DO NOTHING`` lands
on the ``(channel, week)`` key posts. A failed post is marked ``failed`` with a retry time; a
later tick retakes it with a compare-and-set, so a retry also has exactly one owner. The item
is fixed on the run row before posting, so a retry posts the same item.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.corpus import Corpus, Item, Section, load_corpus
from bot.observability import metrics
from bot.render.slack import render_digest_message
from bot.settings import Settings
from bot.slack_api.client import (
    TooManyPagesError,
    event_payload,
    make_web_client,
    paged_messages,
    post_message,
    slack_error,
)
from bot.store import DigestRun, Store

log = logging.getLogger(__name__)

DIGEST_HEADINGS = ("case study", "potential pitfalls")
STALE_CLAIM = timedelta(minutes=15)
RETRY_BASE = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
METADATA_EVENT = "hubs_digest"
HISTORY_PAGE = 200  # messages per conversations.history call (Slack allows up to 1,000)
HISTORY_PAGES = 10  # a stale claim is checked against at most this many pages


@dataclass(frozen=True, slots=True)
class PoolItem:
    """One postable unit: an item (bullet, topic, sub-section or paragraph) of a Case study
    or Potential pitfalls section."""

    id: str
    section: Section
    item: Item

    @property
    def markdown(self) -> str:
        return self.item.markdown


def digest_pool(corpus: Corpus) -> list[PoolItem]:
    """Every case study and pitfall item (a section of plain paragraphs gives one per
    paragraph), with ids ``<section key>/<item slug>`` stable across edits elsewhere."""
    return [
        PoolItem(f"{section.key}/{item.slug}", section, item)
        for section in corpus.sections
        if section.heading.casefold() in DIGEST_HEADINGS
        for item in section.items
    ]


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def parse_cron(expression: str, timezone: str) -> CronTrigger:
    """A crontab trigger in a time zone; numeric weekdays are refused (APScheduler counts
    Monday as 0, crontab Sunday: the same digits mean different days)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"HUBS_DIGEST_CRON needs 5 fields, got {expression!r}")
    if any(ch.isdigit() for ch in fields[4]):
        raise ValueError(
            f"HUBS_DIGEST_CRON day-of-week {fields[4]!r}: use names (mon, tue...), not numbers"
        )
    return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))


@dataclass(frozen=True, slots=True)
class BagPlan:
    """What drawing the next item does to a channel's bag, worked out before writing any of
    it: the preview shows ``item_id``; a post applies the rest, then posts that item."""

    item_id: str
    cycle: int  # the current cycle (changes below apply to it)
    remove: tuple[str, ...] = ()  # undrawn items gone from the corpus
    add: tuple[tuple[str, int], ...] = ()  # new items and their positions
    # Bags from before the pool was per item hold a whole section's key; if that section was
    # posted this cycle, its items count as drawn that week (nobody sees them again at once).
    seen: tuple[tuple[str, int, str], ...] = ()
    new_cycle: tuple[str, ...] = ()  # every item drawn: the next cycle's order


@dataclass(frozen=True, slots=True)
class TickOutcome:
    action: str  # not-due | done | busy | waiting-retry | posted | failed | empty-pool
    week: str
    run: DigestRun | None = None
    detail: str = ""


class Digest:
    """Picks and posts the weekly item for one channel."""

    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        trigger: CronTrigger,
        corpus_source: Callable[[], Corpus],
        salt: str = "",
        active_since: datetime | None = None,
    ) -> None:
        self.store = store
        # a channel chosen on Tuesday gets its first digest at the next scheduled time, not
        # this week's (already past) one
        self.active_since = active_since
        self.client = client
        self.channel = channel
        self.trigger = trigger
        self._corpus = corpus_source
        # the shuffle is seeded by (salt, channel, cycle): see peek()
        self.salt = salt

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        channel: str,
        store: Store | None = None,
        token: str | None = None,
        *,
        corpus: Corpus | None = None,
    ) -> Digest:
        """Wire a Digest from configuration; the corpus is re-read when an item is needed,
        so a playbook added on Tuesday can be posted on Monday without a restart (a one-shot
        command that has just read it passes ``corpus``). The token is the workspace's
        (multi-workspace mode), else SLACK_BOT_TOKEN."""
        directories = settings.corpus_dirs
        return cls(
            store or Store.connect(settings.effective_database_url),
            make_web_client(token or settings.slack_bot_token, settings.slack_api_url),
            channel,
            parse_cron(settings.digest_cron, settings.timezone),
            (lambda: corpus) if corpus is not None else (lambda: load_corpus(directories)),
        )

    # ------------------------------------------------------------------ schedule

    def due_time(self, now: datetime) -> datetime | None:
        """This ISO week's scheduled time (in the trigger's zone), or None if none."""
        local = now.astimezone(self.trigger.timezone)
        monday = (local - timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        start = monday - timedelta(microseconds=1)
        fire = self.trigger.get_next_fire_time(None, start)
        if fire is None or iso_week(fire) != iso_week(local):
            return None
        return fire

    # ------------------------------------------------------------------ bag

    def peek(self) -> PoolItem | None:
        """The item the next post will use, read-only (``digest --preview``): the shuffle is
        a function of the channel and the cycle, so what is shown now is what is posted."""
        pool = {item.id: item for item in digest_pool(self._corpus())}
        if not pool:
            return None
        return pool[self._plan(pool).item_id]

    def _draw(self, pool: dict[str, PoolItem]) -> PoolItem:
        """The next item, with the bag brought up to date with the corpus (nothing is marked
        drawn until the post succeeds)."""
        plan = self._plan(pool)
        if plan.remove:
            self.store.remove_from_cycle(self.channel, plan.cycle, plan.remove)
        if plan.add:
            self.store.add_to_cycle(self.channel, plan.cycle, plan.add)
        for week in sorted({w for _, _, w in plan.seen}):
            placed = [(item, position) for item, position, w in plan.seen if w == week]
            self.store.add_to_cycle(self.channel, plan.cycle, placed, drawn_week=week)
        if plan.new_cycle:
            self.store.start_cycle(self.channel, plan.new_cycle)
        return pool[plan.item_id]

    def _plan(self, pool: dict[str, PoolItem]) -> BagPlan:
        """Sync the stored bag with the corpus (new items join the cycle at a random place,
        removed ones leave) and pick the next item, or start a new cycle, without writing."""
        entries = self.store.bag(self.channel)
        if not entries:
            cycle = self.store.current_cycle(self.channel) + 1
            order = self._fresh_order(list(pool), cycle, avoid_first=None)
            return BagPlan(order[0], cycle, new_cycle=order)
        cycle = entries[0].cycle
        known = {e.item_id for e in entries}
        gone = tuple(e.item_id for e in entries if e.item_id not in pool and e.drawn_week is None)
        seen = tuple(
            (item, e.position, e.drawn_week)
            for e in entries
            if e.drawn_week and e.item_id not in pool and "/" not in e.item_id
            for item in sorted(pool)
            if item.startswith(e.item_id + "/") and item not in known
        )
        new = sorted(set(pool) - known - {item for item, _, _ in seen})
        top = max(e.position for e in entries)
        low = min([e.position for e in entries if e.drawn_week is None] or [top])
        add = tuple((item, self._random(cycle, item).randint(low, top + 1)) for item in new)
        waiting = [(e.position, e.item_id) for e in entries if e.drawn_week is None]
        waiting = [(p, i) for p, i in waiting if i in pool] + [(p, i) for i, p in add]
        if waiting:
            return BagPlan(min(waiting)[1], cycle, gone, add, seen)
        last = next((e.item_id for e in reversed(entries) if e.drawn_week), None)
        order = self._fresh_order(list(pool), cycle + 1, avoid_first=last)
        return BagPlan(order[0], cycle, gone, add, seen, new_cycle=order)

    def _random(self, cycle: int, purpose: str) -> random.Random:
        """Randomness that a preview and the post it previews (two processes) agree on."""
        return random.Random(f"{self.salt}|{self.channel}|{cycle}|{purpose}")

    def _fresh_order(self, ids: list[str], cycle: int, avoid_first: str | None) -> tuple[str, ...]:
        rng = self._random(cycle, "order")
        order = sorted(ids)
        rng.shuffle(order)
        if avoid_first and len(order) > 1 and order[0] == avoid_first:
            swap = rng.randrange(1, len(order))
            order[0], order[swap] = order[swap], order[0]
        return tuple(order)

    # ------------------------------------------------------------------ posting

    def tick(self, now: datetime | None = None) -> TickOutcome:
        """Post this week's digest if it is due and nobody has; safe to call any time."""
        now = now or datetime.now(UTC)
        due = self.due_time(now)
        week = iso_week(now.astimezone(self.trigger.timezone))
        if due is None or now < due or (self.active_since and due < self.active_since):
            return TickOutcome("not-due", week)
        run = self.store.claim_week(self.channel, week, now)
        if run is None:
            existing = self.store.get_run(self.channel, week)
            if existing is None or existing.status == "posted":
                return TickOutcome("done", week, existing)
            if not self._retryable(existing, now):
                state = "busy" if existing.status == "claimed" else "waiting-retry"
                return TickOutcome(state, week, existing)
            if existing.status == "claimed" and self._already_posted(existing):
                return TickOutcome("done", week, self.store.get_run(self.channel, week))
            run = self.store.retake_failed(existing, now)
            if run is None:
                return TickOutcome("busy", week, existing)
        return self._post(run, now)

    def post_now(self, week: str, now: datetime, force: bool) -> TickOutcome:
        """``digest --post-now``: claim ``week`` now, whatever the schedule says."""
        if force:
            self.store.delete_run(self.channel, week)
        run = self.store.claim_week(self.channel, week, now)
        if run is None:
            existing = self.store.get_run(self.channel, week)
            if existing and existing.status == "failed":
                run = self.store.retake_failed(existing, now)
            if run is None:
                return TickOutcome("done", week, existing, "already claimed (use --force)")
        return self._post(run, now)

    def _retryable(self, run: DigestRun, now: datetime) -> bool:
        if run.status == "failed":
            return run.next_attempt_at is None or run.next_attempt_at <= now
        return run.status == "claimed" and now - run.updated_at > STALE_CLAIM

    def _already_posted(self, run: DigestRun) -> bool:
        """A claimer that died mid-post may have posted: look for our message metadata in
        everything the channel received since the claim, page by page (a busy channel can
        bury it under more than one page). Unknown — unreadable, or more pages than
        :data:`HISTORY_PAGES` — counts as posted: never risk a duplicate."""
        messages = paged_messages(
            self.client.conversations_history,
            HISTORY_PAGES,
            channel=self.channel,
            oldest=f"{run.claimed_at.timestamp():.6f}",
            include_all_metadata=True,
            limit=HISTORY_PAGE,
        )
        try:
            for message in messages:
                if event_payload(message).get("week") == run.week:
                    self.store.mark_posted(run.id, message["ts"], datetime.now(UTC))
                    return True
        except SlackApiError as exc:
            log.warning(
                "cannot check a stale digest claim; not reposting",
                extra={"channel": self.channel, "week": run.week, "error": slack_error(exc)},
            )
            return True  # `digest --post-now --force` decides
        except TooManyPagesError:
            log.warning(
                "too much channel history to check a stale digest claim; not reposting",
                extra={"channel": self.channel, "week": run.week, "pages": HISTORY_PAGES},
            )
            return True
        return False

    def _post(self, run: DigestRun, now: datetime) -> TickOutcome:
        corpus = self._corpus()
        item = self._item_for(run, corpus)
        if item is None:
            self.store.mark_failed(run.id, "empty pool", now + RETRY_MAX, now)
            log.warning("digest pool is empty", extra={"channel": self.channel})
            return TickOutcome("empty-pool", run.week, run)
        text, blocks = render_digest_message(item.section, item.item, run.week, corpus)
        metadata = {
            "event_type": METADATA_EVENT,
            "event_payload": {"week": run.week, "item": item.id},
        }
        try:
            response = post_message(
                self.client, channel=self.channel, text=text, blocks=blocks, metadata=metadata
            )
        except Exception as exc:
            error = slack_error(exc)
            delay = min(RETRY_BASE * 2 ** (run.attempts - 1), RETRY_MAX)
            self.store.mark_failed(run.id, error, now + delay, now)
            metrics.DIGEST_POSTS.labels("failed").inc()
            log.error(
                "digest post failed; will retry",
                extra={
                    "channel": self.channel,
                    "week": run.week,
                    "error": error,
                    "attempt": run.attempts,
                    "retry_in_s": int(delay.total_seconds()),
                },
            )
            return TickOutcome(
                "failed", run.week, self.store.get_run(self.channel, run.week), error
            )
        ts = str(response["ts"])
        self.store.mark_posted(run.id, ts, now)
        self.store.mark_drawn(self.channel, item.id, run.week)
        metrics.DIGEST_POSTS.labels("posted").inc()
        log.info(
            "digest posted",
            extra={"channel": self.channel, "week": run.week, "item": item.id, "ts": ts},
        )
        return TickOutcome("posted", run.week, self.store.get_run(self.channel, run.week))

    def _item_for(self, run: DigestRun, corpus: Corpus) -> PoolItem | None:
        """The run's item (fixed at first attempt, so a retry posts the same one)."""
        pool = {item.id: item for item in digest_pool(corpus)}
        if not pool:
            return None
        if run.item_id and run.item_id in pool:
            return pool[run.item_id]
        item = self._draw(pool)
        self.store.set_run_item(run.id, item.id)
        return item


def history_lines(runs: Sequence[DigestRun]) -> list[str]:
    return [
        f"{r.week}  {r.channel}  {r.status:<7}  attempts={r.attempts}  "
        f"ts={r.message_ts or '-'}  item={r.item_id or '-'}"
        + (f"  error={r.error}" if r.error else "")
        for r in runs
    ]
