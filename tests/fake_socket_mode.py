"""A local stand-in for Slack's Socket Mode endpoint: a real WebSocket server on 127.0.0.1.

Plain standard library (RFC 6455: the opening handshake, unfragmented text frames, ping/pong
and close), so the bot's real Socket Mode client connects to it over TCP exactly as it does
to Slack. :class:`tests.fake_slack.FakeSlack` hands out :meth:`FakeSocketMode.url` from
``apps.connections.open``; a test then sends envelopes down the newest connection, tells a
connection to go away (``{"type": "disconnect", "reason": "refresh_requested"}``) and waits
for the client's acknowledgements, each recorded with the time it arrived.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    connection: int  # which connection (0, 1, ...) carried it
    at: float  # time.monotonic() on arrival
    message: dict[str, Any]


@dataclass
class Connection:
    number: int
    sock: socket.socket
    opened_at: float
    closed: threading.Event = field(default_factory=threading.Event)
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 1 << 16:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self._send_lock:
            self.sock.sendall(head + payload)

    def send(self, message: dict[str, Any]) -> None:
        self.send_frame(TEXT, json.dumps(message).encode())


class FakeSocketMode:
    """Call :meth:`start`, then give :meth:`url` to the fake Web API's
    ``apps.connections.open``."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.acks: list[Ack] = []
        self.urls_issued = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server: socket.socket | None = None
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ control

    def start(self) -> FakeSocketMode:
        self._server = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.sock.close()

    def url(self) -> str:
        """A fresh ``ws://`` URL, as each ``apps.connections.open`` returns a new one."""
        assert self._server is not None, "FakeSocketMode not started"
        with self._lock:
            self.urls_issued += 1
            ticket = self.urls_issued
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link/?ticket={ticket}"

    def wait_for_connection(self, count: int, timeout: float = 30.0) -> Connection:
        """The ``count``-th connection once its handshake is done."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"{len(self.connections)} connections, not {count}")
            return self.connections[count - 1]

    def envelope(
        self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0, **extra: Any
    ) -> dict[str, Any]:
        return {
            "envelope_id": f"env-{next(self._ids)}",
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
            **extra,
        }

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((a for a in self.acks if a.envelope_id == envelope_id), None),
                timeout,
            )
        if found is None:
            raise AssertionError(f"envelope {envelope_id} was not acknowledged")
        return found

    # ------------------------------------------------------------------ serving

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        try:
            key = _handshake_key(reader)
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            sock.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            with self._changed:
                connection = Connection(len(self.connections), sock, time.monotonic())
                self.connections.append(connection)
                self._changed.notify_all()
            connection.send({"type": "hello", "num_connections": len(self.connections)})
            self._read_frames(connection, reader)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            sock.close()
            for connection in self.connections:
                if connection.sock is sock:
                    connection.closed.set()

    def _read_frames(self, connection: Connection, reader: Any) -> None:
        while True:
            head = reader.read(2)
            if len(head) < 2:
                return  # the client closed the TCP connection
            opcode, masked, n = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", reader.read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", reader.read(8))
            mask = reader.read(4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(reader.read(n)))
            if opcode == PING:
                connection.send_frame(PONG, data)
            elif opcode == CLOSE:
                connection.send_frame(CLOSE, data[:2])
                return
            elif opcode == TEXT:
                message = json.loads(data)
                if "envelope_id" in message:
                    ack = Ack(message["envelope_id"], connection.number, time.monotonic(), message)
                    with self._changed:
                        self.acks.append(ack)
                        self._changed.notify_all()


def _handshake_key(reader: Any) -> str:
    request = reader.readline()
    if not request.startswith(b"GET "):
        raise ValueError("not a WebSocket handshake")
    key = ""
    while (line := reader.readline().strip()) != b"":
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    if not key:
        raise ValueError("no Sec-WebSocket-Key")
    return key
