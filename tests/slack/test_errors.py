"""A listener that fails after ack(), over real HTTP: Slack keeps its 200, the failure is
logged once (with its traceback), and the person gets a short apology where possible."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.slack.listeners.errors import APOLOGY
from tests.slack.conftest import CHANNEL, USER, SlackApp


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def wait_for_record(caplog: pytest.LogCaptureFixture, message: str) -> None:
    """Until a log record with ``message`` exists (the app logs from Bolt's worker threads)."""
    appeared = threading.Event()
    for _ in range(1000):
        if any(r.getMessage() == message for r in caplog.records):
            appeared.set()
            break
        appeared.wait(0.01)
    assert appeared.is_set(), f"no {message!r} in {caplog.text}"


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_click_without_response_url_is_acked_logged_once_and_apologised_for(
    slack_app: SlackApp, records: pytest.LogCaptureFixture
) -> None:
    """A button whose payload has no response_url (respond() is unavailable): the handler
    raises after ack(); the apology goes privately to the channel instead."""
    reply = slack_app.action("next_result", '{"q": "yozma", "n": 0}', response_url=None)
    assert (reply.status, reply.body) == (200, "")  # the ack stands
    (apology,) = slack_app.fake.wait_for("chat.postEphemeral")
    assert apology.params["channel"] == CHANNEL and apology.params["user"] == USER
    assert apology.params["text"] == APOLOGY
    (failure,) = failures(records)
    assert failure.getMessage() == "listener failed" and failure.exc_info is not None
    assert failure.kind == "block_actions" and failure.what == "next_result"  # type: ignore[attr-defined]
    assert slack_app.fake.calls_to("response_url") == []


def test_a_failure_with_a_response_url_apologises_there(
    slack_app: SlackApp, records: pytest.LogCaptureFixture
) -> None:
    reply = slack_app.action("next_result", "not json")  # a button value from nowhere
    assert reply.status == 200
    (apology,) = slack_app.fake.wait_for("response_url")
    assert apology.params["text"] == APOLOGY
    assert apology.params["replace_original"] is False  # the answer it came from stays
    assert len(failures(records)) == 1
    assert slack_app.fake.calls_to("chat.postEphemeral") == []


def test_nowhere_to_apologise_is_still_one_error(
    slack_app: SlackApp, records: pytest.LogCaptureFixture
) -> None:
    """A click in a view (no channel, no response_url): logged once, nothing sent."""
    reply = slack_app.action(
        "next_result", "not json", response_url=None, channel=None, container={"type": "view"}
    )
    assert reply.status == 200
    wait_for_record(records, "nowhere to apologise")
    assert len(failures(records)) == 1
    assert slack_app.fake.calls_to("chat.postEphemeral") == []
    assert slack_app.fake.calls_to("response_url") == []


def test_an_undeliverable_apology_is_not_a_second_failure(
    slack_app: SlackApp, records: pytest.LogCaptureFixture
) -> None:
    slack_app.fake.fail("chat.postEphemeral", error="channel_not_found")
    slack_app.action("next_result", "not json", response_url=None)
    wait_for_record(records, "could not apologise")
    (failure,) = failures(records)
    assert failure.getMessage() == "listener failed"
    (note,) = [r for r in records.records if r.getMessage() == "could not apologise"]
    assert note.error == "channel_not_found"  # type: ignore[attr-defined]
