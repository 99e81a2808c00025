"""Slack unavailable for longer than the client's retries: the answer is kept and sent later,
exactly once, by whichever worker gets to it first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.settings import Settings
from bot.slack.outbox import Outbox
from bot.slack_api.client import make_web_client
from bot.store import Store
from tests.concurrency import eventually, race
from tests.fake_slack import FakeSlack
from tests.slack.conftest import TOKEN, SlackApp

QUICK = {"retry_base": timedelta(milliseconds=100)}


def mention(app: SlackApp, ts: str) -> None:
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": ts, "text": "pitfalls"}
    assert app.event(event, event_id=f"Ev{ts}").status == 200


def delivered(fake: FakeSlack) -> list[str]:
    """thread_ts of every reply Slack accepted."""
    return [c.params["thread_ts"] for c in fake.calls_to("chat.postMessage") if not c.failed]


def test_a_reply_slack_refused_for_a_while_is_sent_later(
    slack_app: SlackApp, fake_slack: FakeSlack
) -> None:
    # the test app's client retries a 5xx once, then the reply goes to the outbox, whose
    # own client (4 retries) meets one more 500 before Slack is back
    fake_slack.fail("chat.postMessage", status=500, times=3)
    mention(slack_app, "5.1")
    fake_slack.wait_for("chat.postMessage", 4, timeout=15)
    assert delivered(fake_slack) == ["5.1"]
    assert eventually(lambda: slack_app.outbox.pending() == [])
    reply = next(c for c in fake_slack.calls_to("chat.postMessage") if not c.failed)
    assert "Potential pitfalls" in reply.params["text"]


def test_errors_a_person_must_fix_are_not_kept(slack_app: SlackApp, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    mention(slack_app, "5.2")
    fake_slack.wait_for("chat.postMessage", 1)
    fake_slack.wait_for("reactions.remove", 1)  # the listener finished
    assert slack_app.outbox.pending() == []


@pytest.fixture
def outbox_store(database_url: str) -> Iterator[Store]:
    store = Store.connect(database_url)
    yield store
    store.close()


def outbox_for(settings: Settings, store: Store, **timing: timedelta) -> Outbox:
    return Outbox.from_settings(settings, store, **(QUICK | timing))


def test_several_workers_draining_send_each_reply_once(
    settings: Settings, outbox_store: Store, fake_slack: FakeSlack
) -> None:
    workers = [outbox_for(settings, outbox_store) for _ in range(4)]
    now = datetime.now(UTC)
    for n in range(10):
        workers[0].enqueue(
            "T1", {"channel": "C1", "thread_ts": f"9.{n}", "text": "x"}, "ratelimited", now
        )
    later = now + timedelta(seconds=1)
    counts = race(len(workers), lambda i: workers[i].drain(later))
    assert sum(counts) == 10
    assert sorted(delivered(fake_slack)) == [f"9.{n}" for n in range(10)]
    assert workers[0].pending() == []


def test_gives_up_after_the_limit_and_says_so(
    settings: Settings,
    outbox_store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = outbox_for(settings, outbox_store, give_up_after=timedelta(minutes=1))
    now = datetime.now(UTC)
    outbox.enqueue("T1", {"channel": "C1", "thread_ts": "8.1", "text": "x"}, "http_500", now)
    fake_slack.fail("chat.postMessage", error="channel_not_found")  # not Slack's trouble
    assert outbox.drain(now + timedelta(seconds=1)) == 0
    assert outbox.pending() == []
    assert "reply given up" in caplog.text

    outbox.enqueue("T1", {"channel": "C1", "thread_ts": "8.2", "text": "x"}, "http_500", now)
    fake_slack.fail("chat.postMessage", error="internal_error")  # Slack's, but too late now
    assert outbox.drain(now + timedelta(minutes=2)) == 0
    assert outbox.pending() == []
    assert delivered(fake_slack) == []
    assert outbox_store.outbox_counts() == {"pending": 0, "dead": 2}


def test_keeps_retrying_while_slack_is_down_then_delivers(
    settings: Settings, outbox_store: Store, fake_slack: FakeSlack
) -> None:
    outbox = outbox_for(settings, outbox_store)
    now = datetime.now(UTC)
    outbox.enqueue("T1", {"channel": "C1", "thread_ts": "7.1", "text": "x"}, "ratelimited", now)
    fake_slack.fail("chat.postMessage", error="service_unavailable")
    assert outbox.drain(now + timedelta(seconds=1)) == 0
    (waiting,) = outbox.pending()
    assert waiting.attempts == 2
    assert outbox_store.outbox_counts() == {"pending": 1, "dead": 0}  # as `stats` shows it
    assert outbox.drain(now + timedelta(minutes=5)) == 1
    assert delivered(fake_slack) == ["7.1"]
    # sent through post_message, as a first attempt would be: link previews off
    assert fake_slack.calls_to("chat.postMessage")[-1].params["unfurl_links"] in ("0", False)


def test_after_a_timeout_a_reply_that_landed_is_not_sent_twice(
    settings: Settings, outbox_store: Store, fake_slack: FakeSlack
) -> None:
    """The first post timed out on our side but reached Slack: the retry finds it by its
    metadata id in the thread and does not post it again; one that did not land is posted."""
    outbox = outbox_for(settings, outbox_store)
    client = make_web_client(TOKEN, fake_slack.base_url)
    fake_slack.now = datetime.now(UTC).timestamp()  # Slack stamps messages with its clock
    landed = {"channel": "C1", "thread_ts": "4.1", "text": "landed"}
    outbox.send(client, "T1", **landed)  # reaches Slack and carries its metadata id
    (first,) = fake_slack.calls_to("chat.postMessage")
    now = datetime.now(UTC)
    metadata = first.params["metadata"]
    assert metadata["event_type"] == "hubs_reply" and metadata["event_payload"]["reply"]
    outbox.enqueue("T1", {**landed, "metadata": metadata}, "TimeoutError", now)
    lost = {"channel": "C1", "thread_ts": "4.2", "text": "lost"}
    other = {**metadata, "event_payload": {"reply": "never-posted"}}
    outbox.enqueue("T1", {**lost, "metadata": other}, "TimeoutError", now)
    assert outbox.drain(now + timedelta(seconds=1)) == 2
    assert delivered(fake_slack) == ["4.1", "4.2"]
    assert outbox.pending() == []
