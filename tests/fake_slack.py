"""A local stand-in for Slack's Web API: real HTTP on 127.0.0.1, every call recorded.

Point a ``slack_sdk.WebClient`` at :attr:`FakeSlack.base_url` (``SLACK_API_URL``) and the bot's
calls travel over real sockets through slack_sdk's own retry handlers. Tests script failures
(HTTP 429 with ``Retry-After``, HTTP 500, ``{"ok": false, "error": "not_in_channel"}``) and then
assert on :attr:`FakeSlack.calls`.

Reading a channel behaves as Slack documents it: ``conversations.history`` returns the
channel's messages newest first, ``conversations.replies`` a thread's oldest first; on both,
``oldest`` and ``latest`` are exclusive bounds on ``ts`` (inclusive with ``inclusive=true``),
``limit`` caps the page (``has_more`` says what was left), and message metadata comes back
only with ``include_all_metadata=true``. A posted message's ``ts`` is
the fake's clock (:attr:`FakeSlack.now`, epoch seconds; tests move it) plus a counter as the
microseconds, so messages sort in the order they were posted.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.oauth.installation_store import Installation


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage", or "response_url" for POSTs to a response URL
    params: dict[str, Any]
    headers: dict[str, str]
    failed: bool = False  # answered with a scripted failure


@dataclass
class _Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1


@dataclass
class FakeSlack:
    """Call :meth:`start` (or use :func:`running_fake_slack`) before pointing clients at it."""

    bot_user_id: str = "UBOT"
    now: float = 1_700_000_000.0  # Slack's clock, in epoch seconds: the ts of what is posted
    admins: set[str] = field(default_factory=set)  # users.info says is_admin for these
    time_zones: dict[str, str] = field(default_factory=dict)  # users.info "tz" by user
    calls: list[Call] = field(default_factory=list)
    thread_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # apps.connections.open hands out this (tests.fake_socket_mode.FakeSocketMode.url)
    socket_mode_url: Callable[[], str] | None = None
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _delays: dict[str, float] = field(default_factory=dict)
    _outage_until: float = 0.0
    _outage_methods: frozenset[str] = frozenset()
    _outage_calls: Iterator[int] = field(default_factory=itertools.count)
    _posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeSlack not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def response_url(self) -> str:
        assert self._server is not None, "FakeSlack not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/response/1"

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail this way."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, error, retry_after, times)
            )

    def outage(self, seconds: float, methods: tuple[str, ...] = ("chat.postMessage",)) -> None:
        """For ``seconds`` from now (``math.inf``: until :meth:`end_outage`), every call to
        ``methods`` fails: HTTP 429 (Retry-After 1) and HTTP 500 in turn, as Slack does in a
        bad hour."""
        with self._lock:
            self._outage_methods = frozenset(methods)
            self._outage_until = time.monotonic() + seconds

    def end_outage(self) -> None:
        """Slack is back: an outage started with ``outage(math.inf)`` ends now."""
        with self._lock:
            self._outage_until = 0.0

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` only after ``seconds``: a slow Slack."""
        self._delays[method] = seconds

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """The calls to ``method`` once there are ``count`` of them (listeners finish after
        Bolt has acknowledged, so replies land a moment after the HTTP response)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.01)
        raise AssertionError(f"{method} called {len(self.calls_to(method))} times, not {count}")

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                self._answer(params)

            def do_GET(self) -> None:
                self._answer(dict(parse_qsl(urlsplit(self.path).query)))

            def _answer(self, params: dict[str, Any]) -> None:
                path = urlsplit(self.path).path
                method = path.removeprefix("/api/") if path.startswith("/api/") else "response_url"
                status, headers, body = fake._respond(method, params, dict(self.headers))
                send_json(self, status, headers, body)

            def log_message(self, *_args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # Slack does not refuse connections under load

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ behaviour

    def _respond(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self._delays.get(method):
            time.sleep(self._delays[method])
        with self._lock:
            failure = self._next_failure(method)
            self.calls.append(Call(method, params, headers, failed=failure is not None))
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.status != 200:
                return (
                    failure.status,
                    extra,
                    {
                        "ok": False,
                        "error": "ratelimited" if failure.status == 429 else "internal_error",
                    },
                )
            return 200, extra, {"ok": False, "error": failure.error or "unknown_error"}
        return 200, {}, self._success(method, params, headers)

    def _next_failure(self, method: str) -> _Failure | None:
        if method in self._outage_methods and time.monotonic() < self._outage_until:
            if next(self._outage_calls) % 2 == 0:
                return _Failure(status=429, retry_after=1)
            return _Failure(status=500)
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _success(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        if method == "auth.test":
            team = token_team(headers.get("Authorization", ""))
            return {"ok": True, "user_id": self.bot_user_id, "bot_id": "BBOT", "team_id": team}
        if method == "apps.connections.open" and self.socket_mode_url is not None:
            return {"ok": True, "url": self.socket_mode_url()}
        if method == "oauth.v2.access":
            return oauth_access(str(params.get("code", "")))
        if method == "users.info":
            user = str(params.get("user"))
            profile = {"id": user, "is_admin": user in self.admins}
            return {"ok": True, "user": profile | {"tz": self.time_zones.get(user, "UTC")}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{int(self.now)}.{next(self._ts):06d}"
            message = {**params, "ts": ts}
            if isinstance(params.get("metadata"), str):
                message["metadata"] = json.loads(params["metadata"])
            with self._lock:
                self._posted.setdefault(str(params.get("channel")), []).append(message)
            key = "message_ts" if method == "chat.postEphemeral" else "ts"
            return {"ok": True, "channel": params.get("channel"), key: ts, "message": message}
        if method == "conversations.history":
            with self._lock:
                channel = list(self._posted.get(str(params.get("channel")), []))
            newest_first = sorted(channel, key=lambda m: float(m["ts"]), reverse=True)
            return page(newest_first, params)
        if method == "conversations.replies":
            thread = str(params.get("ts"))
            with self._lock:
                replies = [
                    m
                    for m in self._posted.get(str(params.get("channel")), [])
                    if str(m.get("thread_ts")) == thread
                ]
            in_thread = [*self.thread_messages.get(thread, []), *replies]
            return page(sorted(in_thread, key=lambda m: float(m["ts"])), params)
        return {"ok": True}


def page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One page of ``messages`` (already in Slack's order) as conversations.history/replies
    answer: only those between ``oldest`` and ``latest`` (exclusive unless ``inclusive``),
    at most ``limit`` of them (Slack's default 100) from the ``cursor`` on, ``has_more`` and
    ``response_metadata.next_cursor`` when some were left, and their metadata only when asked
    for with ``include_all_metadata``."""
    inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
    oldest = float(params.get("oldest") or 0)
    latest = float(params["latest"]) if params.get("latest") else float("inf")

    def within(message: dict[str, Any]) -> bool:
        ts = float(message["ts"])
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    chosen = [m for m in messages if within(m)]
    if str(params.get("include_all_metadata", "")).lower() not in ("1", "true"):
        chosen = [{k: v for k, v in m.items() if k != "metadata"} for m in chosen]
    limit = int(params.get("limit") or 100)
    start = int(params.get("cursor") or 0)
    more = len(chosen) > start + limit
    answer: dict[str, Any] = {"ok": True, "messages": chosen[start : start + limit]}
    answer["has_more"] = more
    if more:
        answer["response_metadata"] = {"next_cursor": str(start + limit)}
    return answer


def send_json(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: Any
) -> None:
    """Answer a request as Slack's Web API does: JSON with its length, extra ``headers``."""
    payload = json.dumps(body).encode()
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def workspace_token(team: str) -> str:
    """The bot token the fake's OAuth hands a workspace: one per team, easy to assert on."""
    return f"xoxb-{team}-bot"


def installation(team: str) -> Installation:
    """What installing the app in ``team`` stores (multi-workspace mode), with its token."""
    return Installation(
        app_id="A1",
        user_id="U0ADMIN",
        team_id=team,
        bot_token=workspace_token(team),
        bot_id="BBOT",
        bot_user_id="UBOT",
    )


def token_team(authorization: str) -> str:
    """The team a ``Bearer xoxb-T2-bot`` token belongs to (T1 for the single-workspace token)."""
    parts = authorization.removeprefix("Bearer ").split("-")
    return parts[1] if len(parts) == 3 and parts[1].startswith("T") else "T1"


def oauth_access(code: str) -> dict[str, Any]:
    """oauth.v2.access for a code ``code-T2``: workspace T2 installed the app."""
    if not code.startswith("code-"):
        return {"ok": False, "error": "invalid_code"}
    team = code.removeprefix("code-")
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "U0ADMIN"},
        "scope": "commands,chat:write",
        "token_type": "bot",
        "access_token": workspace_token(team),
        "bot_user_id": "UBOT",
        "team": {"id": team, "name": f"Team {team}"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


@contextmanager
def running_fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()
