"""Transports: Socket Mode routing at the handler level, and `hubs-bot serve` for real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.search import Index
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.server import stop_socket_mode
from bot.store import Store
from tests.fake_slack import FakeSlack
from tests.net import free_port
from tests.serving import serve_env, start_serve, wait_until_serving
from tests.slack.conftest import SECRET, TOKEN, USER, sign, track_listeners


def test_socket_mode_events_reach_the_listeners_once(
    settings: Settings, seed_index: Index, fake_slack: FakeSlack
) -> None:
    """Socket Mode hands Bolt the same payloads (retries included) without signatures."""
    store = Store.connect(settings.effective_database_url)
    app = create_app(
        replace(settings, slack_signing_secret=None), seed_index, store, socket_mode=True
    )
    listeners = track_listeners(app)
    event = {
        "type": "event_callback",
        "event_id": "EvSock",
        "team_id": "T1",
        "event": {
            "type": "app_mention",
            "user": USER,
            "text": "<@UBOT> yozma",
            "ts": "3.1",
            "channel": "C1",
            "event_ts": "3.1",
        },
    }
    for attempt in (0, 1):  # the original and Slack's retry of it
        request = SocketModeRequest(
            type="events_api",
            envelope_id=f"env{attempt}",
            payload=event,
            retry_attempt=attempt,
            retry_reason="timeout" if attempt else None,
        )
        assert run_bolt_app(app, request).status == 200
    assert listeners.wait_idle() == 2  # the original and the retry, both handled to the end
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == "3.1"

    command = SocketModeRequest(
        type="slash_commands",
        envelope_id="env2",
        payload={
            "command": "/hubs",
            "text": "pitfals",
            "user_id": USER,
            "channel_id": "C1",
            "response_url": fake_slack.response_url,
        },
    )
    response = run_bolt_app(app, command)  # its body is the envelope's ack payload
    assert response.status == 200
    assert json.loads(response.body)["text"] == "Potential pitfalls — Regional Innovation Hubs"


def test_serve_runs_gunicorn_with_healthz_and_signed_commands(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    port = free_port()
    temporary = tmp_path / "tmp"  # where serve makes its shared metrics directory
    temporary.mkdir()
    server = start_serve(serve_env(fake_slack, tmp_path, 2, TMPDIR=str(temporary)), port)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_serving(base, server)
        assert health == {"ok": True, "store": "up", "playbooks": 1, "sections": 6}
        body = urllib.parse.urlencode(
            {
                "command": "/hubs",
                "text": "yozma",
                "user_id": USER,
                "channel_id": "C1",
                "response_url": fake_slack.response_url,
            }
        )
        for _ in range(6):  # spread over both workers by the kernel
            with urllib.request.urlopen(
                urllib.request.Request(
                    base + "/slack/events",
                    data=body.encode(),
                    method="POST",
                    headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
                ),
                timeout=10,
            ) as response:
                assert response.status == 200
                answer = json.loads(response.read())  # in the ack: no response-URL post
                assert answer["text"] == "Potential pitfalls — Regional Innovation Hubs"
        with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
            page = response.read().decode()
        # six commands, whichever worker took them, summed across worker processes
        assert 'hubs_requests_total{kind="slash",status="200"} 6.0' in page
        pid_file = tmp_path / f"serve-{port}.pid"
        assert int(pid_file.read_text()) == server.pid  # for `hubs-bot reload`
        assert [p.name[:13] for p in temporary.iterdir()] == ["hubs-metrics-"]
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert TOKEN not in err and SECRET not in err
    assert list(temporary.iterdir()) == [], "serve left its metrics directory behind"
    assert "INFO bot.slack.server: serving Slack on HTTP" in err
    assert " WARNING " not in err and " ERROR " not in err, err  # a normal run is quiet


@pytest.mark.parametrize(
    ("missing", "command"),
    [
        ("SLACK_SIGNING_SECRET", "serve"),
        ("SLACK_BOT_TOKEN", "serve"),
        ("SLACK_BOT_TOKEN", "socket"),
        ("SLACK_APP_TOKEN", "socket"),
    ],
)
def test_missing_secrets_are_one_line(missing: str, command: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "xapp-1",
        "HUBS_DATA_DIR": str(tmp_path),
    }
    env.pop(missing)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"hubs-bot: {missing} is not set; export it in the environment\n"


def test_reload_signals_running_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("HUBS_DATA_DIR", str(tmp_path))
    assert main(["reload"]) == 1
    assert "no running hubs-bot serve/socket found" in capsys.readouterr().err
    stranger = subprocess.Popen(["sleep", "30"])  # a pid a stale file may name by now
    stale = tmp_path / "serve-3001.pid"
    stale.write_text(f"{stranger.pid}\n")
    # a stand-in whose command line names hubs-bot; SIGHUP ends it: proof it was sent
    stand_in = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "hubs-bot-stand-in"]
    )
    (tmp_path / "serve-3000.pid").write_text(f"{stand_in.pid}\n")
    try:
        assert main(["reload"]) == 0
        out = capsys.readouterr().out
        assert out == (
            f"asked serve-3000 (pid {stand_in.pid}) to reload the corpus\n"
            f"{stale} names pid {stranger.pid}, which is not a running hubs-bot: removed it\n"
        )
        assert stand_in.wait(timeout=10) == -signal.SIGHUP
        assert stranger.poll() is None, "a process that is not hubs-bot was signalled"
        assert not stale.exists()
    finally:
        stranger.kill()
        stand_in.kill()


def test_socket_mode_sigterm_finishes_acknowledged_answers_first(
    settings: Settings, seed_index: Index, fake_slack: FakeSlack
) -> None:
    """An envelope acknowledged before SIGTERM has its event id claimed: if its answer died
    with the process, neither Slack's redelivery nor the bot would ever answer it."""
    store = Store.connect(settings.effective_database_url)
    app = create_app(
        replace(settings, slack_signing_secret=None), seed_index, store, socket_mode=True
    )
    answered = threading.Event()

    def answer_in_flight() -> None:
        time.sleep(0.3)  # an answer being written when SIGTERM arrives
        answered.set()

    app.listener_runner.listener_executor.submit(answer_in_flight)

    class Handler:
        closed = False

        def close(self) -> None:
            self.closed = True

    handler = Handler()
    with pytest.raises(SystemExit) as exited:
        stop_socket_mode(handler, app, timeout_s=10)
    assert exited.value.code == 0
    assert handler.closed, "no new envelopes after SIGTERM"
    assert answered.is_set(), "the acknowledged answer was cut off"


def test_socket_mode_removes_its_pid_file_on_exit(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.fail("apps.connections.open", error="invalid_auth")  # it cannot connect: exits
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": fake_slack.base_url,
        "HUBS_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "socket"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode != 0
    assert not (tmp_path / "socket.pid").exists()


def test_a_question_asked_just_before_sigterm_is_in_the_store_after_shutdown(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """The question log is written by a background thread in batches (it lingers up to half
    a second for companions): a worker's graceful stop writes what it still holds."""
    port = free_port()
    server = start_serve(serve_env(fake_slack, tmp_path, 1), port, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        body = urllib.parse.urlencode(
            {
                "command": "/hubs",
                "text": "Yozma program",
                "user_id": USER,
                "channel_id": "C1",
                "response_url": fake_slack.response_url,
            }
        )
        request = urllib.request.Request(
            base + "/slack/events",
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    store = Store.connect(f"sqlite:///{tmp_path / 'hubs-bot.sqlite3'}")
    queries, _votes = store.usage_since(datetime.now(UTC) - timedelta(hours=1))
    store.close()
    assert queries == [("yozma program", "regional-innovation-hubs#potential-pitfalls", "slash")]
