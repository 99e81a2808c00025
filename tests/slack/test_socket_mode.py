"""`hubs-bot socket` end to end: the real process, its real Socket Mode client, a real
WebSocket (tests/fake_socket_mode.py) handed out by the fake Web API's
``apps.connections.open``. Every wait is for a completion signal (an acknowledgement, a
recorded Slack call, a log line), never a sleep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode
from tests.slack.conftest import TOKEN, USER

SLACK_ACK_LIMIT_S = 3.0  # Slack retries an envelope not acknowledged within 3 seconds
# what this test allows: the client reads a new connection within its 0.1 s loop interval;
# before the fix the first ack after a refresh took 3.04 s (the old socket's read timeout)
REFRESH_ACK_S = 1.0


class Bot:
    """A running `hubs-bot socket`, its log lines collected as they are written."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 10.0) -> None:
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(text in line for line in self.lines) >= count, timeout
            ):
                raise AssertionError(f"no {count}× {text!r} in the log:\n{''.join(self.lines)}")

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self.lines)


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    fake_slack.socket_mode_url = server.url
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bot(tmp_path: Path, fake_slack: FakeSlack, socket_mode: FakeSocketMode) -> Iterator[Bot]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": fake_slack.base_url,
        "HUBS_DATA_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "socket"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Bot(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def mention(text: str, event_id: str, ts: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "event_id": event_id,
        "team_id": "T1",
        "event": {
            "type": "app_mention",
            "user": USER,
            "text": f"<@UBOT> {text}",
            "ts": ts,
            "channel": "C1",
            "event_ts": ts,
        },
    }


def test_socket_mode_over_a_real_websocket(
    bot: Bot, tmp_path: Path, fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    first = socket_mode.wait_for_connection(1)
    assert fake_slack.calls_to("apps.connections.open")[0].headers["Authorization"] == (
        "Bearer xapp-1-test"
    )
    assert int((tmp_path / "socket.pid").read_text()) == bot.process.pid

    # a slash command: acknowledged on the socket, with the answer as the ack's payload
    command = socket_mode.envelope(
        "slash_commands",
        {
            "command": "/hubs",
            "text": "pitfals",
            "user_id": USER,
            "channel_id": "C1",
            "response_url": fake_slack.response_url,
        },
    )
    sent = time.monotonic()
    first.send(command)
    ack = socket_mode.wait_for_ack(command["envelope_id"])
    assert ack.at - sent < SLACK_ACK_LIMIT_S
    assert ack.message["payload"]["text"] == "Potential pitfalls — Regional Innovation Hubs"

    # an event and Slack's retry of it (a new envelope, the same event id): answered once
    event = mention("yozma", "EvSocket1", "5.1")
    original = socket_mode.envelope("events_api", event)
    retry = socket_mode.envelope("events_api", event, retry_attempt=1)
    first.send(original)
    socket_mode.wait_for_ack(original["envelope_id"])
    (post,) = fake_slack.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "5.1"
    first.send(retry)
    socket_mode.wait_for_ack(retry["envelope_id"])
    bot.wait_for_log("duplicate event ignored event_id=EvSocket1")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1

    # Slack refreshes the connection: the client opens a new one and the first envelope on
    # it is acknowledged well within Slack's limit
    first.send({"type": "disconnect", "reason": "refresh_requested"})
    second = socket_mode.wait_for_connection(2)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2
    command = socket_mode.envelope("slash_commands", {**command["payload"], "text": "china"})
    sent = time.monotonic()
    second.send(command)
    ack = socket_mode.wait_for_ack(command["envelope_id"])
    assert ack.connection == second.number
    assert ack.at - sent < REFRESH_ACK_S, f"refresh ack took {ack.at - sent:.2f} s"
    assert first.closed.wait(5), "the old connection was left open"
    assert "China" in json.dumps(ack.message["payload"])  # answered in that ack

    # SIGTERM while an answer is being written: the answer still goes out, then it exits
    fake_slack.delay("chat.postMessage", 1.0)  # Slack slow to take the reply
    in_flight = socket_mode.envelope("events_api", mention("case study", "EvSocket2", "5.2"))
    second.send(in_flight)
    socket_mode.wait_for_ack(in_flight["envelope_id"])
    fake_slack.wait_for("reactions.add", 2)  # the listener is answering
    bot.process.send_signal(signal.SIGTERM)
    assert bot.process.wait(timeout=30) == 0, bot.log
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p.params["thread_ts"] for p in posts] == ["5.1", "5.2"], bot.log
    assert not posts[1].failed
    assert "socket mode stopping: finishing answers in flight" in bot.log
    assert not (tmp_path / "socket.pid").exists()
    assert " ERROR " not in bot.log and " WARNING " not in bot.log, bot.log
    assert TOKEN not in bot.log and "xapp-1-test" not in bot.log
