"""Socket Mode: Bolt's built-in (dependency-free) WebSocket client, closing sockets promptly.

slack_sdk's built-in client reads each connection in a thread that holds the connection's
receive lock inside a blocking ``recv`` with a 3-second timeout. Closing a connection takes
that lock, so it waits out the ``recv``: up to 3 s. That matters twice:

* Slack refreshes every connection every few hours (``{"type": "disconnect", "reason":
  "refresh_requested"}``). The client opens the new connection, then closes the old one
  *before* it starts reading the new one, so the first envelope on the new connection was
  acknowledged ~3.0 s late: at Slack's 3-second limit, and Slack retries what it does not
  see acknowledged in time.
* SIGTERM (:func:`bot.slack.server.stop_socket_mode`) closed the connection the same way.

Shutting the socket down first (``shutdown(SHUT_RDWR)``, which needs no lock) makes the
blocked ``recv`` return at once; the connection then closes as the SDK intends.
Measured on a local WebSocket (tests/slack/test_socket_mode.py): first ack after a refresh
3.04 s before, ~0.1 s after.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection
from slack_sdk.socket_mode.request import SocketModeRequest

PING_INTERVAL_S = 10  # Bolt's default for its built-in handler


def shut_down_first(session: Connection) -> None:
    """Make ``session.close()`` wake its reader before waiting for the receive lock."""
    close = session.close

    def close_promptly() -> None:
        sock = session.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed, or never connected
                sock.shutdown(socket.SHUT_RDWR)  # the reader's recv returns b"" now
        close()

    session.close = close_promptly  # type: ignore[method-assign]


class PromptSocketModeClient(SocketModeClient):
    """The built-in client, each of whose connections closes without waiting out a read."""

    def connect(self) -> None:
        super().connect()
        if self.current_session is not None:
            shut_down_first(self.current_session)


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's built-in Socket Mode handler, on :class:`PromptSocketModeClient`."""

    def __init__(self, app: App, app_token: str) -> None:
        self.app = app
        self.app_token = app_token
        self.client = PromptSocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=PING_INTERVAL_S,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        start = time.time()
        send_response(client, req, run_bolt_app(self.app, req), start)
