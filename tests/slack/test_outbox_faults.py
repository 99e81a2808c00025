"""The outbox under faults nothing else provokes: a network error on a retry, and the database
going away under the retry loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.outbox import RETRY_MAX, Outbox
from bot.slack_api.client import make_web_client
from bot.store import Store, as_utc
from bot.store import outbox as outbox_table
from tests.concurrency import eventually
from tests.databases import PostgresCluster, skip_without_postgres
from tests.fake_slack import FakeSlack
from tests.net import free_port
from tests.slack.conftest import TOKEN

BASE = timedelta(seconds=10)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPLY = {
    "channel": "C1",
    "thread_ts": "6.1",
    "text": "the answer",
    "metadata": {"event_type": "hubs_reply", "event_payload": {"reply": "r-6.1"}},
}


class Switch:
    """The outbox's client for every workspace: Slack unreachable, or the fake."""

    def __init__(self, fake: FakeSlack) -> None:
        # nothing listens on this port, and no retry handler: one refused connection
        self.unreachable = WebClient(
            token=TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/", retry_handlers=[]
        )
        self.reachable = make_web_client(TOKEN, fake.base_url)
        self.client = self.unreachable

    def __call__(self, _team: str) -> WebClient:
        return self.client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.connect(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    yield store
    store.close()


def next_attempt(store: Store) -> datetime:
    """When the one kept message is next tried."""
    with store.engine.connect() as conn:
        (row,) = conn.execute(outbox_table.select()).all()
    when = as_utc(row.next_attempt_at)
    assert when is not None
    return when


def posted(fake: FakeSlack) -> list[str]:
    return [c.params["text"] for c in fake.calls_to("chat.postMessage") if not c.failed]


def test_a_network_error_on_send_keeps_the_reply(store: Store, fake_slack: FakeSlack) -> None:
    switch = Switch(fake_slack)
    outbox = Outbox(store, switch, retry_base=BASE)
    assert outbox.send(switch.unreachable, "T1", **REPLY) is None  # kept, not raised
    (kept,) = outbox.pending()
    assert kept.error == "URLError" and kept.ambiguous and kept.attempts == 1


def test_after_a_network_error_a_retry_is_rescheduled_then_checks_the_thread_first(
    store: Store, fake_slack: FakeSlack
) -> None:
    switch = Switch(fake_slack)
    outbox = Outbox(store, switch, retry_base=BASE, give_up_after=timedelta(hours=1))
    outbox.enqueue("T1", dict(REPLY), "ratelimited", NOW)
    assert outbox.drain(NOW + BASE - timedelta(microseconds=1)) == 0  # not due yet
    (waiting,) = outbox.pending()
    assert waiting.attempts == 1  # not even claimed

    assert outbox.drain(NOW + BASE) == 0  # due exactly now: tried, Slack unreachable
    (waiting,) = outbox.pending()
    assert waiting.attempts == 2 and waiting.error == "URLError"  # still Slack's trouble
    retry_at = NOW + BASE + BASE * 2**1  # the delay doubles with each attempt
    assert next_attempt(store) == retry_at

    switch.client = switch.reachable
    assert outbox.drain(retry_at) == 1
    # the failed attempt may have reached Slack: the thread was read before posting again
    (check,) = fake_slack.calls_to("conversations.replies")
    assert check.params["ts"] == "6.1"
    assert posted(fake_slack) == ["the answer"]
    assert outbox.pending() == []


def test_retry_delays_are_capped_at_a_minute(store: Store, fake_slack: FakeSlack) -> None:
    switch = Switch(fake_slack)
    outbox = Outbox(store, switch, retry_base=timedelta(seconds=20), give_up_after=timedelta(1))
    outbox.enqueue("T1", dict(REPLY), "ratelimited", NOW)
    now, delays = NOW + timedelta(seconds=20), []
    for _ in range(4):
        assert outbox.drain(now) == 0
        retry_at = next_attempt(store)
        delays.append(retry_at - now)
        now = retry_at
    assert delays == [timedelta(seconds=40), RETRY_MAX, RETRY_MAX, RETRY_MAX]


def test_a_network_error_after_the_give_up_time_ends_the_retries(
    store: Store, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    switch = Switch(fake_slack)
    outbox = Outbox(store, switch, retry_base=BASE, give_up_after=timedelta(minutes=10))
    outbox.enqueue("T1", dict(REPLY), "ratelimited", NOW)
    almost = NOW + timedelta(minutes=10) - timedelta(microseconds=1)
    assert outbox.drain(almost) == 0
    assert len(outbox.pending()) == 1  # a moment before the limit: tried again later
    (row,) = outbox.pending()
    assert outbox.drain(almost + timedelta(minutes=5)) == 0  # past the limit: given up
    assert outbox.pending() == []
    assert store.outbox_counts() == {"pending": 0, "dead": 1}
    assert "reply given up" in caplog.text
    assert row.attempts == 2


def test_when_the_thread_cannot_be_read_an_ambiguous_reply_is_posted_again(
    store: Store, fake_slack: FakeSlack
) -> None:
    """A possible duplicate is better than a lost answer."""
    switch = Switch(fake_slack)
    switch.client = switch.reachable
    outbox = Outbox(store, switch, retry_base=BASE)
    outbox.enqueue("T1", dict(REPLY), "TimeoutError", NOW)
    fake_slack.fail("conversations.replies", error="missing_scope")
    assert outbox.drain(NOW + BASE) == 1
    assert posted(fake_slack) == ["the answer"]


@pytest.mark.postgres
def test_the_retry_loop_survives_a_database_outage(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL stops under a running retry loop and comes back: the loop says so once,
    keeps going, and delivers what was waiting."""
    bindir = skip_without_postgres()
    caplog.set_level(logging.INFO, logger="bot.slack.outbox")
    cluster = PostgresCluster(bindir)  # its own: this test stops it
    cluster.start()
    try:
        store = Store.connect(cluster.create_database())
        switch = Switch(fake_slack)
        switch.client = switch.reachable
        outbox = Outbox(store, switch, retry_base=timedelta(0))
        rounds: list[bool] = []  # one entry per drain: True when it worked
        progress = threading.Condition()
        real_drain = outbox.drain

        def counted_drain(now: datetime | None = None) -> int:
            try:
                delivered = real_drain(now)
            except Exception:
                with progress:
                    rounds.append(False)
                    progress.notify_all()
                raise
            with progress:
                rounds.append(True)
                progress.notify_all()
            return delivered

        outbox.drain = counted_drain  # type: ignore[method-assign]

        def after(count: int, worked: bool) -> None:
            """Wait until ``count`` more drains of that kind have run."""
            with progress:
                start = rounds.count(worked)
                assert progress.wait_for(lambda: rounds.count(worked) >= start + count, 60)

        cluster.pause()
        stop = threading.Event()
        loop = outbox.start(stop, every_s=0.01)
        try:
            after(5, worked=False)  # five rounds against a stopped database: still looping
            assert loop.is_alive()
            failures = [
                r for r in caplog.records if r.message == "outbox drain failed; trying again"
            ]
            assert len(failures) == 1  # said once per outage, not every round
            cluster.resume()
            after(1, worked=True)
            outbox.enqueue("T1", dict(REPLY), "ratelimited")
            assert eventually(lambda: posted(fake_slack) == ["the answer"], timeout=30)
        finally:
            stop.set()
            loop.join(timeout=30)
        assert [r.message for r in caplog.records].count("outbox drain works again") == 1
        assert outbox.pending() == []
        store.close()
    finally:
        cluster.stop()
