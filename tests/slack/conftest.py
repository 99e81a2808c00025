"""The Slack app served on a real port, fed requests signed exactly as Slack signs them."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

from bot.search import Index
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.outbox import Outbox
from bot.slack.server import build_wsgi
from bot.slack_api.client import make_web_client
from bot.store import Store
from tests.fake_slack import FakeSlack, running_fake_slack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
USER = "U0USER1"
CHANNEL = "C0CHANNEL"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


class Listeners(Executor):
    """Bolt's listener pool, counted: a test can wait until every listener it set off has
    *finished* (Bolt acknowledges a request before its listener runs), and only then assert
    that nothing else was sent. Waiting on completion, not on a pause."""

    def __init__(self, inner: ThreadPoolExecutor) -> None:
        self._inner = inner
        self._changed = threading.Condition()
        self.submitted = 0
        self.finished = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._changed:
            self.submitted += 1
        future = self._inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._changed:
            self.finished += 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> int:
        """Block until every listener submitted so far has returned; how many ran."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.finished == self.submitted, timeout):
                raise AssertionError(f"{self.submitted - self.finished} listeners still running")
            return self.finished

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def track_listeners(app: App) -> Listeners:
    """Count the listeners ``app`` runs (see :class:`Listeners`)."""
    runner = app.listener_runner
    tracked = Listeners(runner.listener_executor)  # type: ignore[arg-type]
    runner.listener_executor = tracked
    runner.lazy_listener_runner.executor = tracked  # type: ignore[attr-defined]
    return tracked


@dataclass
class Reply:
    status: int
    body: str


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def mention_request(
    base_url: str, event_id: str, ts: str, text: str = "<@UBOT> yozma", retry: int | None = None
) -> urllib.request.Request:
    """A signed `@hubs` mention event as Slack POSTs it to a running server; ``retry`` marks
    a redelivery (``X-Slack-Retry-Num``, as after a slow ack)."""
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "user": "U1",
                "channel": "C1",
                "text": text,
                "ts": ts,
                "event_ts": ts,
            },
        }
    )
    headers = {"Content-Type": "application/json", **sign(body)}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return urllib.request.Request(base_url + "/slack/events", data=body.encode(), headers=headers)


@dataclass
class SlackApp:
    """Sends Slack-shaped, signed HTTP requests to the running app."""

    url: str
    fake: FakeSlack
    store: Store
    outbox: Outbox
    listeners: Listeners

    def settle(self, timeout: float = 60.0) -> int:
        """Wait until every request sent so far has been handled to the end; how many
        listeners ran. After it, what Slack has received is all it will receive (but for
        replies kept in the outbox)."""
        return self.listeners.wait_idle(timeout)

    def post(
        self,
        body: str | bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        path: str = "/slack/events",
    ) -> Reply:
        """POST ``body`` to ``path``, signed as Slack signs unless ``headers`` are given."""
        data = body if isinstance(body, bytes) else body.encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            headers={
                "Content-Type": content_type,
                **(headers if headers is not None else sign(data.decode())),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())

    def command(self, text: str, **extra: str) -> Reply:
        form = {
            "command": "/hubs",
            "text": text,
            "user_id": USER,
            "user_name": "ada",
            "channel_id": CHANNEL,
            "team_id": "T1",
            "trigger_id": "trig.1",
            "response_url": self.fake.response_url,
            **extra,
        }
        return self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")

    def answer(self, text: str, **extra: str) -> dict[str, Any]:
        """`/hubs text` and the ephemeral message that answers it: the acknowledgement's body,
        or (an answer slower than the ack's budget) the response-URL post that follows."""
        before = len(self.fake.calls_to("response_url"))
        reply = self.command(text, **extra)
        assert reply.status == 200, reply
        message = (
            json.loads(reply.body)
            if reply.body
            else self.fake.wait_for("response_url", before + 1)[-1].params
        )
        assert message["response_type"] == "ephemeral"
        return message

    def action(self, action_id: str, value: str, **extra: Any) -> Reply:
        payload = {
            "type": "block_actions",
            "user": {"id": USER},
            "team": {"id": "T1"},
            "channel": {"id": CHANNEL},
            "trigger_id": "trig.2",
            "response_url": self.fake.response_url,
            "container": {"type": "message"},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",  # when clicked, as Slack sends it
                }
            ],
            **extra,
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def shortcut(self, message: dict[str, Any]) -> Reply:
        """The "Find in playbooks" message shortcut on ``message``."""
        payload = {
            "type": "message_action",
            "callback_id": "find_in_playbooks",
            "user": {"id": USER},
            "channel": {"id": CHANNEL},
            "team": {"id": "T1"},
            "trigger_id": "t",
            "response_url": self.fake.response_url,
            "message": message,
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        event_id: str = "Ev1",
        retry_num: int | None = None,
        team: str = "T1",
    ) -> Reply:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": team,
                "api_app_id": "A1",
                "event_id": event_id,
                "event_time": 1,
                "event": event,
            }
        )
        headers = sign(body)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", headers)

    def get(self, path: str) -> Reply:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    return replace(
        Settings(),
        data_dir=tmp_path / "data",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake_slack.base_url,
        digest_channel="CDIGEST",
    )


@contextmanager
def serving(settings: Settings, index: Index, fake: FakeSlack) -> Iterator[SlackApp]:
    """The app built from ``settings`` on a real loopback port (its store included)."""
    store = Store.connect(settings.effective_database_url)
    outbox = Outbox.from_settings(settings, store, retry_base=timedelta(milliseconds=100))
    # one 5xx retry instead of four keeps failure tests quick (backoff 0.5 s, not 7.5 s)
    token = None if settings.oauth_enabled else settings.slack_bot_token
    client = make_web_client(token, settings.slack_api_url, server_error_retries=1)
    app = create_app(settings, index, store, client, outbox=outbox)
    listeners = track_listeners(app)
    stop = threading.Event()
    outbox.start(stop, every_s=0.2)
    server = make_server(
        "127.0.0.1",
        0,
        build_wsgi(app, store, lambda: index.corpus),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield SlackApp(f"http://127.0.0.1:{server.server_port}", fake, store, outbox, listeners)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        store.close()


@pytest.fixture
def slack_app(settings: Settings, fake_slack: FakeSlack, seed_index: Index) -> Iterator[SlackApp]:
    with serving(settings, seed_index, fake_slack) as app:
        yield app
