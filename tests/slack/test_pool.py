"""Keep-alive connections to Slack: reused while the server keeps them open, replaced when it
closes them, and the retry handlers see what they saw with urllib."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.slack_api.client import make_web_client, retry_handlers
from bot.slack_api.pool import POOL, PooledWebClient, PooledWebhookClient
from tests.fake_slack import send_json
from tests.net import free_port


class KeepAliveSlack:
    """An HTTP/1.1 server that keeps connections open, counts them, and answers from a
    script: (status, headers, body) per request, then ``{"ok": true}``."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.script: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.close_after_each = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in two writes

            def setup(self) -> None:
                super().setup()
                fake.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests += 1
                status, headers, body = (
                    fake.script.pop(0) if fake.script else (200, {}, {"ok": True})
                )
                send_json(self, status, headers, body)
                if fake.close_after_each:  # the server drops the idle connection right after
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def __enter__(self) -> KeepAliveSlack:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        POOL.close()  # before the server goes: its handler threads wait for the client
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[KeepAliveSlack]:
    POOL.close()
    with KeepAliveSlack() as fake:
        yield fake


def test_web_api_calls_reuse_one_connection(slack: KeepAliveSlack) -> None:
    client = make_web_client("xoxb-1", slack.url + "api/")
    for _ in range(5):
        assert client.auth_test()["ok"] is True
    assert (slack.requests, slack.connections) == (5, 1)


def test_response_urls_reuse_connections_too(slack: KeepAliveSlack) -> None:
    for _ in range(3):
        webhook = PooledWebhookClient(url=slack.url + "hook", retry_handlers=retry_handlers())
        assert webhook.send(text="hi").status_code == 200
    assert (slack.requests, slack.connections) == (3, 1)


def test_a_connection_the_server_closed_is_replaced(slack: KeepAliveSlack) -> None:
    slack.close_after_each = True
    client = make_web_client("xoxb-1", slack.url + "api/")
    for _ in range(3):
        assert client.auth_test()["ok"] is True
    assert (slack.requests, slack.connections) == (3, 3)


def test_rate_limits_and_server_errors_are_retried_on_pooled_connections(
    slack: KeepAliveSlack,
) -> None:
    slack.script = [
        (429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}),
        (500, {}, {"ok": False, "error": "internal_error"}),
    ]
    client = make_web_client("xoxb-1", slack.url + "api/")
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert slack.requests == 3


def test_an_error_slack_reports_is_raised_as_before(slack: KeepAliveSlack) -> None:
    slack.script = [(200, {}, {"ok": False, "error": "not_in_channel"})]
    client = make_web_client("xoxb-1", slack.url + "api/")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="hi")
    assert caught.value.response["error"] == "not_in_channel"


def test_nobody_listening_is_a_connection_error_after_the_retries() -> None:
    retried = []

    class Counting(ConnectionErrorRetryHandler):
        def prepare_for_next_attempt(self, **kwargs: Any) -> None:
            retried.append(type(kwargs["error"]).__name__)
            super().prepare_for_next_attempt(**kwargs)

    client = PooledWebClient(
        base_url=f"http://127.0.0.1:{free_port()}/api/",
        retry_handlers=[
            Counting(max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01))
        ],
    )
    with pytest.raises(URLError):  # as urllib raised it: retried, then kept by the outbox
        client.auth_test()
    assert retried == ["URLError"]
