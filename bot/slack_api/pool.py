"""Keep-alive connections for every call to Slack: one pool per process.

slack_sdk's ``WebClient`` and ``WebhookClient`` send through ``urllib``, which opens a new
connection (TCP, and with Slack a TLS handshake) for every call and closes it after. The
clients here send through :data:`POOL` instead, which keeps idle connections per host and
reuses them. Everything else stays slack_sdk's: the retry handlers (429 ``Retry-After``, 5xx,
dropped connections) see the same exceptions urllib raises — ``HTTPError`` for a status of
400 or more, ``URLError`` when connecting or sending fails, ``RemoteDisconnected``,
``ConnectionResetError`` or ``TimeoutError`` while reading — so they, the outbox and the error
names in logs and metrics behave as before. With a proxy (the client's, or the environment's
``https_proxy``/``http_proxy``) the call goes through urllib as before.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import select
import socket
import ssl
import threading
import urllib.request
from email.message import Message
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

MAX_IDLE_PER_HOST = 32

Key = tuple[str, str, int]


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _no_delay(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _no_delay(self.sock)


def _no_delay(sock: Any) -> None:
    """Kept-alive connections send a request's last partial segment at once instead of
    waiting for the ACK of the one before (Nagle meets delayed ACK: 40 ms stalls)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _dropped(sock: Any) -> bool:
    """Has the server closed (or written to) an idle connection? Then it cannot be reused."""
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Idle HTTP/1.1 connections by (scheme, host, port); thread-safe, one per process."""

    def __init__(self, max_idle_per_host: int = MAX_IDLE_PER_HOST) -> None:
        self.max_idle_per_host = max_idle_per_host
        self._idle: dict[Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self.opened = 0  # connections made, for tests and curiosity

    def forget(self) -> None:
        """Drop every idle connection without closing it (a forked child must not share its
        parent's sockets)."""
        with self._lock:
            self._idle = {}

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def send(
        self, request: urllib.request.Request, timeout: float | None, context: ssl.SSLContext | None
    ) -> tuple[int, Message, bytes]:
        """(status, headers, body) of ``request``; raises as ``urllib.request.urlopen``."""
        url = urlsplit(request.full_url)
        scheme, host = url.scheme.lower(), url.hostname or ""
        key = (scheme, host, url.port or (443 if scheme == "https" else 80))
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        connection = self._checkout(key, timeout, context)
        try:
            connection.request(
                request.get_method(), path, body=request.data, headers=dict(request.header_items())
            )
        except OSError as err:  # urllib wraps failures to connect or send the same way
            connection.close()
            raise URLError(err) from err
        try:
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._checkin(key, connection)
        if response.status >= 400:
            raise HTTPError(
                request.full_url, response.status, response.reason, response.msg, io.BytesIO(body)
            )
        return response.status, response.msg, body

    def _checkout(
        self, key: Key, timeout: float | None, context: ssl.SSLContext | None
    ) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get(key) or []
            while idle:
                connection = idle.pop()
                if _dropped(connection.sock):
                    connection.close()
                    continue
                connection.timeout = timeout
                connection.sock.settimeout(timeout)  # type: ignore[union-attr]
                return connection
        scheme, host, port = key
        self.opened += 1
        if scheme == "https":
            return _HTTPSConnection(
                host, port, timeout=timeout, context=context or self._default_tls()
            )
        return _HTTPConnection(host, port, timeout=timeout)

    def _checkin(self, key: Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.max_idle_per_host:
                idle.append(connection)
                return
        connection.close()

    def _default_tls(self) -> ssl.SSLContext:
        if self._tls is None:  # building one reads the CA store: once per process
            self._tls = ssl.create_default_context()
        return self._tls


POOL = ConnectionPool()
os.register_at_fork(after_in_child=POOL.forget)


def _pooled(url: str, proxy: str | None) -> bool:
    """Can this call use the pool: http(s), and no proxy (slack_sdk's clients take
    ``HTTPS_PROXY`` and friends from the environment into ``proxy`` themselves)?"""
    return proxy is None and url[:5].lower() in ("http:", "https")


class PooledWebClient(WebClient):
    """slack_sdk's ``WebClient`` sending through :data:`POOL`."""

    def _perform_urllib_http_request_internal(
        self, url: str, req: urllib.request.Request
    ) -> dict[str, Any]:
        if not _pooled(url, self.proxy):
            return super()._perform_urllib_http_request_internal(url, req)
        status, headers, body = POOL.send(req, self.timeout, self.ssl)
        if headers.get_content_type() == "application/gzip":  # admin.analytics.getFile
            return {"status": status, "headers": headers, "body": body}
        charset = headers.get_content_charset() or "utf-8"
        return {"status": status, "headers": headers, "body": body.decode(charset)}


class PooledWebhookClient(WebhookClient):
    """slack_sdk's ``WebhookClient`` (response URLs) sending through :data:`POOL`."""

    def _perform_http_request_internal(
        self, url: str, req: urllib.request.Request
    ) -> WebhookResponse:
        if not _pooled(url, self.proxy):
            return super()._perform_http_request_internal(url, req)
        status, headers, body = POOL.send(req, self.timeout, self.ssl)
        charset = headers.get_content_charset() or "utf-8"
        return WebhookResponse(
            url=url,
            status_code=status,
            body=body.decode(charset),
            headers=headers,  # type: ignore[arg-type]
        )


def pooled(client: WebClient) -> PooledWebClient:
    """The same client (token, base URL, timeout, retry handlers...) sending through the pool;
    for the client Bolt builds for each request."""
    if isinstance(client, PooledWebClient):
        return client
    copy = PooledWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=client.logger,
        retry_handlers=client.retry_handlers,
    )
    copy.default_params = dict(client.default_params)  # team_id, when Bolt set one
    return copy
