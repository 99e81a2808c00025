"""A durable outbox for thread replies: an answer Slack could not take now is sent later.

slack_sdk's retry handlers ride out a short blip (a few 429s, a 500, a dropped connection) but
give up after seconds; an outage longer than that would lose the answer to an ``@hubs``
question. :meth:`Outbox.send` posts at once and, when the failure is Slack's (rate limit,
5xx, timeout) rather than one a person must fix (``not_in_channel``: raised to the caller as
before), keeps the message in the store. Every web worker runs :meth:`Outbox.run`, which
retries due messages with backoff for up to an hour. A message is claimed with a
compare-and-set on its attempt count before each retry, so with any number of workers and
hosts each retry has one sender. Tokens are never stored: the row keeps the workspace id, and
the token is looked up when sending. After a timeout (the post may have landed) a retry first
looks for the message's invisible metadata id in the thread, so it is not posted twice.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import delete, insert, select, update

from bot.observability import metrics
from bot.settings import Settings
from bot.slack_api.client import (
    TooManyPagesError,
    event_payload,
    make_web_client,
    paged_messages,
    post_message,
    slack_error,
)
from bot.slack_api.installations import bot_token_for, installation_store
from bot.store import Store, as_utc, outbox

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=1)  # a person is waiting: retry at least every minute
GIVE_UP_AFTER = timedelta(hours=1)
LEASE = timedelta(minutes=2)  # a claimed retry whose sender died is retried after this
KEEP_DEAD = timedelta(days=7)
BATCH = 20
# "did the ambiguous attempt land?": what the thread (or channel) received from a while
# before the reply was kept (the attempt and the client's own retries came first), page by
# page, at most this many pages
CHECK_MARGIN = timedelta(minutes=10)
CHECK_PAGE = 200
CHECK_PAGES = 10

METADATA_EVENT = "hubs_reply"
# slack_error() names of failures after which the post may have landed anyway
AMBIGUOUS_ERRORS = frozenset(
    {"TimeoutError", "URLError", "RemoteDisconnected", "ConnectionResetError", "IncompleteRead"}
)
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

ClientFor = Callable[[str], WebClient | None]


def is_transient(exc: Exception) -> bool:
    """Slack's trouble (worth retrying later), not the message's or the channel's."""
    if isinstance(exc, OSError):  # timeouts, refused or reset connections
        return True
    error = slack_error(exc)
    return error in TRANSIENT_ERRORS or error.startswith("http_5") or error == "http_429"


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    team_id: str
    message: dict[str, Any]
    attempts: int
    created_at: datetime
    error: str | None

    @property
    def ambiguous(self) -> bool:
        """The last attempt may have reached Slack (no answer is not a "no")."""
        return self.error is not None and self.error in AMBIGUOUS_ERRORS


def already_posted(client: WebClient, message: dict[str, Any], since: datetime) -> bool:
    """Is a message with this one's metadata id already in its thread (or channel), among
    what arrived there since ``since`` (the first attempt), page by page? More pages than
    :data:`CHECK_PAGES` raises :class:`TooManyPagesError`: the caller decides what unknown means."""
    reply = event_payload(message).get("reply")
    if not reply:
        return False
    channel, thread = message.get("channel"), message.get("thread_ts")
    params: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{(since - CHECK_MARGIN).timestamp():.6f}",
        "include_all_metadata": True,
        "limit": CHECK_PAGE,
    }
    if thread:
        found = paged_messages(client.conversations_replies, CHECK_PAGES, ts=thread, **params)
    else:
        found = paged_messages(client.conversations_history, CHECK_PAGES, **params)
    return any(event_payload(m).get("reply") == reply for m in found)


class Outbox:
    def __init__(
        self,
        store: Store,
        client_for: ClientFor,
        *,
        retry_base: timedelta = RETRY_BASE,
        give_up_after: timedelta = GIVE_UP_AFTER,
    ) -> None:
        self.store = store
        self._client_for = client_for
        self.retry_base = retry_base
        self.give_up_after = give_up_after
        self._last_cleanup: datetime | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: Store,
        installations: InstallationStore | None = None,
        **timing: timedelta,
    ) -> Outbox:
        """Clients by workspace: the one bot token, or each installation's token (from
        ``installations`` when the caller already has the store)."""
        if not settings.oauth_enabled:
            shared = make_web_client(settings.slack_bot_token, settings.slack_api_url)
            return cls(store, lambda _team: shared, **timing)
        installations = installations or installation_store(settings, store)

        def client_for(team_id: str) -> WebClient | None:
            token = bot_token_for(installations, team_id)
            return make_web_client(token, settings.slack_api_url) if token else None

        return cls(store, client_for, **timing)

    # ------------------------------------------------------------------ sending

    def send(self, client: WebClient, team_id: str, **message: Any) -> dict[str, Any] | None:
        """Post now, or keep the message for later if Slack is unavailable (None then).
        Errors a person must act on are raised, as from :func:`post_message`.

        Each message carries an invisible metadata id: after a timeout nobody knows whether
        Slack took the post, and a retry first looks for that id in the thread."""
        message.setdefault(
            "metadata", {"event_type": METADATA_EVENT, "event_payload": {"reply": uuid.uuid4().hex}}
        )
        try:
            return post_message(client, **message)
        except (SlackApiError, OSError) as exc:
            if not is_transient(exc):
                raise
            self.enqueue(team_id, message, slack_error(exc))
            return None

    def enqueue(
        self, team_id: str, message: dict[str, Any], error: str, now: datetime | None = None
    ) -> None:
        now = now or datetime.now(UTC)
        with self.store.write() as conn:
            conn.execute(
                insert(outbox).values(
                    team_id=team_id,
                    message=json.dumps(message),
                    status="pending",
                    attempts=1,
                    error=error,
                    created_at=now,
                    next_attempt_at=now + self.retry_base,
                )
            )
        metrics.OUTBOX.labels("queued").inc()
        log.warning(
            "reply kept for a later retry",
            extra={"team": team_id, "channel": message.get("channel"), "error": error},
        )

    # ------------------------------------------------------------------ retrying

    def drain(self, now: datetime | None = None) -> int:
        """Retry every due message once; returns how many were delivered."""
        now = now or datetime.now(UTC)
        delivered = 0
        for pending in self._due(now):
            if self._claim(pending, now):
                delivered += self._retry(pending, now)
        self._forget_dead(now)
        return delivered

    def run(self, stop: threading.Event, every_s: float = 2.0) -> None:
        """The retry loop each web worker runs until ``stop`` is set."""
        failing = False
        while not stop.wait(every_s):
            try:
                self.drain()
            except Exception:  # the database being away must not end the loop
                if not failing:  # once per outage, not every two seconds
                    log.exception("outbox drain failed; trying again")
                failing = True
            else:
                if failing:
                    log.warning("outbox drain works again")
                failing = False

    def start(self, stop: threading.Event, every_s: float = 2.0) -> threading.Thread:
        thread = threading.Thread(
            target=self.run, args=(stop, every_s), name="hubs-outbox", daemon=True
        )
        thread.start()
        return thread

    def pending(self) -> list[Pending]:
        """Every message still waiting (`stats` counts them with ``Store.outbox_counts``)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(outbox).where(outbox.c.status == "pending")).all()
        return [_to_pending(row) for row in rows]

    def _due(self, now: datetime) -> list[Pending]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.next_attempt_at)
                .limit(BATCH)
            ).all()
        return [_to_pending(row) for row in rows]

    def _claim(self, pending: Pending, now: datetime) -> bool:
        """Compare-and-set on the attempt count: one sender per retry."""
        with self.store.write() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == pending.id, outbox.c.attempts == pending.attempts)
                .values(attempts=pending.attempts + 1, next_attempt_at=now + LEASE)
            )
        return result.rowcount == 1

    def _retry(self, pending: Pending, now: datetime) -> int:
        client = self._client_for(pending.team_id)
        if client is None:
            self._settle(pending, "dead", "no installation for the workspace", now)
            return 0
        try:
            if pending.ambiguous and self._landed(client, pending):
                log.info("kept reply had landed after all", extra={"team": pending.team_id})
            else:
                post_message(client, **pending.message)
        except (SlackApiError, OSError) as exc:
            error = slack_error(exc)
            if not is_transient(exc) or now - pending.created_at >= self.give_up_after:
                self._settle(pending, "dead", error, now)
            else:
                delay = min(self.retry_base * 2**pending.attempts, RETRY_MAX)
                self._settle(pending, "pending", error, now + delay)
            return 0
        with self.store.write() as conn:
            conn.execute(delete(outbox).where(outbox.c.id == pending.id))
        metrics.OUTBOX.labels("delivered").inc()
        log.info(
            "kept reply delivered",
            extra={"team": pending.team_id, "attempts": pending.attempts + 1},
        )
        return 1

    @staticmethod
    def _landed(client: WebClient, pending: Pending) -> bool:
        """Did the ambiguous attempt land? If Slack cannot tell us, post again: a possible
        duplicate is better than a lost answer."""
        try:
            return already_posted(client, pending.message, pending.created_at)
        except (SlackApiError, OSError) as exc:
            log.info("cannot check the thread; posting again", extra={"error": slack_error(exc)})
            return False
        except TooManyPagesError:
            log.info("thread too long to check; posting again", extra={"pages": CHECK_PAGES})
            return False

    def _settle(self, pending: Pending, status: str, error: str, when: datetime) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == pending.id)
                .values(status=status, error=error, next_attempt_at=when)
            )
        if status == "dead":
            metrics.OUTBOX.labels("dead").inc()
            log.error(
                "reply given up",
                extra={"team": pending.team_id, "error": error, "attempts": pending.attempts + 1},
            )

    def _forget_dead(self, now: datetime) -> None:
        """Given-up messages stay a week for inspection; checked at most hourly."""
        if self._last_cleanup and now - self._last_cleanup < timedelta(hours=1):
            return
        self._last_cleanup = now
        with self.store.write() as conn:
            conn.execute(
                delete(outbox).where(
                    outbox.c.status == "dead", outbox.c.next_attempt_at < now - KEEP_DEAD
                )
            )


def _to_pending(row: Any) -> Pending:
    created = as_utc(row.created_at)
    assert created is not None  # NOT NULL column
    return Pending(row.id, row.team_id, json.loads(row.message), row.attempts, created, row.error)
