"""The outbox's rules one by one: which failures are Slack's (kept), what a kept message
carries, when it is tried, how long a given-up one is kept."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import create_engine

from bot.settings import Settings
from bot.slack.outbox import BATCH, KEEP_DEAD, LEASE, RETRY_BASE, Outbox, Pending, is_transient
from bot.slack_api.client import make_web_client
from bot.slack_api.installations import installation_store
from bot.store import Store, as_utc
from bot.store import outbox as outbox_table
from tests.fake_slack import FakeSlack, installation, workspace_token
from tests.slack.conftest import TOKEN

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def api_error(status: int, data: dict[str, Any]) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers={},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (api_error(200, {"ok": False, "error": "ratelimited"}), True),
        (api_error(200, {"ok": False, "error": "internal_error"}), True),
        (api_error(200, {"ok": False, "error": "fatal_error"}), True),
        (api_error(200, {"ok": False, "error": "service_unavailable"}), True),
        (api_error(200, {"ok": False, "error": "request_timeout"}), True),
        (api_error(502, {}), True),  # no error field: http_502
        (api_error(503, {}), True),
        (api_error(429, {}), True),  # http_429
        (api_error(404, {}), False),  # http_404: not Slack being down
        (api_error(400, {}), False),
        (api_error(200, {"ok": False, "error": "not_in_channel"}), False),  # a person's to fix
        (api_error(200, {"ok": False, "error": "invalid_blocks"}), False),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (ValueError("a bug"), False),
    ],
    ids=lambda value: value if isinstance(value, bool) else type(value).__name__,
)
def test_only_slacks_own_trouble_is_worth_keeping(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("error", "ambiguous"),
    [
        ("TimeoutError", True),
        ("URLError", True),
        ("RemoteDisconnected", True),
        ("ConnectionResetError", True),
        ("IncompleteRead", True),
        ("ratelimited", False),  # Slack said no: it did not post
        ("internal_error", False),
        (None, False),
    ],
)
def test_only_a_failure_without_an_answer_may_have_landed(
    error: str | None, ambiguous: bool
) -> None:
    pending = Pending(1, "T1", {}, 1, NOW, error)
    assert pending.ambiguous is ambiguous


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.connect(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    yield store
    store.close()


def rows(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(outbox_table.select().order_by(outbox_table.c.id)).all())


def test_a_kept_message_waits_one_retry_base_and_carries_no_token(
    store: Store, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(store, lambda _team: None, retry_base=timedelta(seconds=7))
    outbox.enqueue("T9", {"channel": "C1", "text": "x"}, "ratelimited", NOW)
    (row,) = rows(store)
    assert (row.team_id, row.status, row.attempts, row.error) == ("T9", "pending", 1, "ratelimited")
    assert as_utc(row.created_at) == NOW
    assert as_utc(row.next_attempt_at) == NOW + timedelta(seconds=7)
    assert "xoxb" not in row.message
    assert Outbox(store, lambda _team: None).retry_base == RETRY_BASE


def test_send_tags_each_message_with_its_own_reply_id(store: Store, fake_slack: FakeSlack) -> None:
    outbox = Outbox(store, lambda _team: None)
    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox.send(client, "T1", channel="C1", text="a")
    outbox.send(client, "T1", channel="C1", text="b")
    first, second = (c.params["metadata"] for c in fake_slack.calls_to("chat.postMessage"))
    assert first["event_type"] == second["event_type"] == "hubs_reply"
    assert first["event_payload"]["reply"] != second["event_payload"]["reply"]
    assert outbox.pending() == []


def test_a_failure_a_person_must_fix_is_raised_not_kept(
    store: Store, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(store, lambda _team: None)
    client = make_web_client(TOKEN, fake_slack.base_url)
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError):
        outbox.send(client, "T1", channel="C1", text="a")
    assert rows(store) == []


def test_a_workspace_that_uninstalled_is_given_up_at_once(
    store: Store, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(store, lambda _team: None)  # no token for it any more
    outbox.enqueue("T9", {"channel": "C1", "text": "x"}, "ratelimited", NOW)
    assert outbox.drain(NOW + timedelta(minutes=1)) == 0
    (row,) = rows(store)
    assert (row.status, row.error) == ("dead", "no installation for the workspace")
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_claimed_retry_is_leased_for_two_minutes(store: Store, fake_slack: FakeSlack) -> None:
    """While one worker is sending, the row is out of everyone else's way for the lease."""
    outbox = Outbox(store, lambda _team: make_web_client(TOKEN, fake_slack.base_url))
    outbox.enqueue("T1", {"channel": "C1", "text": "x"}, "ratelimited", NOW)
    (pending,) = outbox.pending()
    assert outbox._claim(pending, NOW + timedelta(seconds=5)) is True
    (row,) = rows(store)
    assert row.attempts == 2 and as_utc(row.next_attempt_at) == NOW + timedelta(seconds=5) + LEASE
    assert outbox._claim(pending, NOW + timedelta(seconds=5)) is False  # already taken


def test_a_drain_takes_at_most_a_batch_oldest_due_first(
    store: Store, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(store, lambda _team: make_web_client(TOKEN, fake_slack.base_url))
    for n in range(BATCH + 5):
        outbox.enqueue("T1", {"channel": "C1", "text": f"m{n}"}, "ratelimited", NOW)
    outbox.enqueue("T1", {"channel": "C1", "text": "early"}, "ratelimited", NOW - timedelta(1))
    assert outbox.drain(NOW + timedelta(minutes=1)) == BATCH
    sent = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert sent[0] == "early"
    assert len(outbox.pending()) == 6
    assert outbox.drain(NOW + timedelta(minutes=1)) == 6


def test_given_up_messages_are_kept_a_week_and_swept_at_most_hourly(
    store: Store, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(store, lambda _team: None)
    outbox.enqueue("T1", {"channel": "C1", "text": "old"}, "ratelimited", NOW - RETRY_BASE)
    assert outbox.drain(NOW) == 0  # due now; no installation: dead, stamped NOW
    assert store.outbox_counts() == {"pending": 0, "dead": 1}
    start = NOW + KEEP_DEAD
    assert outbox.drain(start) == 0  # exactly a week: kept (and the sweep ran)
    assert store.outbox_counts() == {"pending": 0, "dead": 1}
    later = start + timedelta(minutes=59)
    assert outbox.drain(later) == 0  # past the week, but the sweep ran under an hour ago
    assert store.outbox_counts()["dead"] == 1
    assert outbox.drain(start + timedelta(hours=1)) == 0  # an hour on: swept
    assert store.outbox_counts() == {"pending": 0, "dead": 0}


def test_a_channel_message_that_timed_out_is_looked_for_in_the_channel(
    store: Store, fake_slack: FakeSlack
) -> None:
    """No thread: the check reads the channel's history instead of a thread."""
    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox = Outbox(store, lambda _team: client)
    fake_slack.now = NOW.timestamp()  # Slack stamps the message when the attempt reaches it
    outbox.send(client, "T1", channel="C1", text="landed")
    (first,) = fake_slack.calls_to("chat.postMessage")
    message = {"channel": "C1", "text": "landed", "metadata": first.params["metadata"]}
    outbox.enqueue("T1", message, "TimeoutError", NOW)
    assert outbox.drain(NOW + timedelta(seconds=5)) == 1
    (check,) = fake_slack.calls_to("conversations.history")
    assert check.params["channel"] == "C1"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # found: not posted again


def test_a_message_without_a_reply_id_is_simply_posted(store: Store, fake_slack: FakeSlack) -> None:
    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox = Outbox(store, lambda _team: client)
    outbox.enqueue("T1", {"channel": "C1", "thread_ts": "1.1", "text": "x"}, "TimeoutError", NOW)
    assert outbox.drain(NOW + timedelta(seconds=5)) == 1
    assert fake_slack.calls_to("conversations.replies") == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_one_workspace_sends_with_the_bot_token(
    store: Store, settings: Settings, fake_slack: FakeSlack
) -> None:
    outbox = Outbox.from_settings(settings, store)
    outbox.enqueue("", {"channel": "C1", "text": "x"}, "ratelimited", NOW)
    assert outbox.drain(NOW + timedelta(minutes=1)) == 1
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"


def test_each_workspace_is_sent_with_its_own_token_and_an_uninstalled_one_not_at_all(
    store: Store, settings: Settings, fake_slack: FakeSlack
) -> None:
    multi = replace(settings, slack_bot_token=None, slack_client_id="1.2", slack_client_secret="s")
    installation_store(multi, store).save(installation("T2"))
    outbox = Outbox.from_settings(multi, store, retry_base=timedelta(seconds=3))
    assert outbox.retry_base == timedelta(seconds=3)
    outbox.enqueue("T2", {"channel": "C2", "text": "to T2"}, "ratelimited", NOW)
    outbox.enqueue("T9", {"channel": "C9", "text": "to T9"}, "ratelimited", NOW)
    assert outbox.drain(NOW + timedelta(minutes=1)) == 1
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.headers["Authorization"] == f"Bearer {workspace_token('T2')}"
    assert post.params["text"] == "to T2"
    assert store.outbox_counts() == {"pending": 0, "dead": 1}  # T9 uninstalled


def test_kept_replies_are_counted(store: Store, fake_slack: FakeSlack) -> None:
    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("hubs_outbox_total", {"outcome": outcome}) or 0.0

    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox = Outbox(store, lambda _team: client)
    before = {o: count(o) for o in ("queued", "delivered", "dead")}
    outbox.enqueue("T1", {"channel": "C1", "text": "x"}, "ratelimited", NOW)
    outbox.drain(NOW + timedelta(minutes=1))
    assert {o: count(o) - before[o] for o in before} == {"queued": 1, "delivered": 1, "dead": 0}


def test_the_retry_loop_logs_a_database_outage_once_and_recovers(
    store: Store, fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database is away (here: a file that cannot be opened) for several rounds of the
    loop, then back: one line when it went, one when it came back, and the loop goes on."""
    caplog.set_level(logging.INFO, logger="bot.slack.outbox")
    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox = Outbox(store, lambda _team: client, retry_base=timedelta(0))
    away = Store(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    rounds: list[bool] = []
    progress = threading.Condition()
    real_drain = outbox.drain

    def note(worked: bool) -> None:
        with progress:
            rounds.append(worked)
            progress.notify_all()

    def counted(now: datetime | None = None) -> int:
        try:
            delivered = real_drain(now)
        except Exception:
            note(False)
            raise
        note(True)
        return delivered

    def wait_for(worked: bool, count: int) -> None:
        with progress:
            start = rounds.count(worked)
            assert progress.wait_for(lambda: rounds.count(worked) >= start + count, 30)

    outbox.drain = counted  # type: ignore[method-assign]
    stop = threading.Event()
    loop = outbox.start(stop, every_s=0.01)
    assert (loop.name, loop.daemon) == ("hubs-outbox", True)
    try:
        wait_for(worked=True, count=2)
        outbox.store = away  # the database goes
        wait_for(worked=False, count=4)
        outbox.store = store  # and comes back
        wait_for(worked=True, count=2)
        outbox.store = away  # a second outage is reported again
        wait_for(worked=False, count=2)
        outbox.store = store
        wait_for(worked=True, count=1)
    finally:
        stop.set()
        loop.join(timeout=30)
    messages = [r.message for r in caplog.records]
    assert messages.count("outbox drain failed; trying again") == 2
    assert messages.count("outbox drain works again") == 2
    assert not loop.is_alive()


def test_a_reply_buried_under_pages_of_thread_is_still_found(
    store: Store, fake_slack: FakeSlack
) -> None:
    """A long thread: the check reads every page since the attempt (it read one page of 200,
    oldest first, and posted the reply a second time)."""
    client = make_web_client(TOKEN, fake_slack.base_url)
    outbox = Outbox(store, lambda _team: client)
    fake_slack.now = (NOW - timedelta(hours=1)).timestamp()
    for n in range(300):  # an hour of discussion before our reply
        fake_slack.now += 1
        client.chat_postMessage(channel="C1", thread_ts="7.1", text=f"reply {n}")
    fake_slack.now = NOW.timestamp()
    outbox.send(client, "T1", channel="C1", thread_ts="7.1", text="ours")
    for n in range(250):  # and the thread went on after it
        fake_slack.now += 1
        client.chat_postMessage(channel="C1", thread_ts="7.1", text=f"later {n}")
    ours = next(c for c in fake_slack.calls_to("chat.postMessage") if c.params["text"] == "ours")
    message = {"channel": "C1", "thread_ts": "7.1", "text": "ours"}
    outbox.enqueue("T1", {**message, "metadata": ours.params["metadata"]}, "TimeoutError", NOW)
    assert outbox.drain(NOW + timedelta(seconds=5)) == 1
    texts = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert texts.count("ours") == 1  # found: not posted again
