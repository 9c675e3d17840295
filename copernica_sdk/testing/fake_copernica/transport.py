"""A threaded HTTP/1.1 server for the WSGI app, with keep-alive.

werkzeug's development server closes every connection after one response, which
costs a TCP handshake and a thread per SOAP call; at benchmark volumes (thousands of
calls from 8-16 clients) that dominated the fake's cost.  This server keeps
connections alive, writes each response in one send (no Nagle/delayed-ACK stalls),
and gives the fault injector what it needs: closing a connection without a
response (``DropConnection``) and sending a deliberately short body.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

from ..._http_heads import parse_request
from .app import ARRIVED, DropConnection

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("copernica_sdk.testing.fake_copernica")

WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]

_IDLE_TIMEOUT = 120.0  # seconds an idle keep-alive connection is kept open
_DRAIN_LIMIT = 64 * 1024 * 1024  # unread request bodies up to this are drained, not reset


class _BodyReader(io.RawIOBase):
    """``wsgi.input``: at most Content-Length bytes of the request body."""

    def __init__(self, raw: BinaryIO, length: int) -> None:
        super().__init__()
        self._raw = raw
        self.remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        want = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self._raw.read(want)
        self.remaining -= len(data)
        if len(data) < want:
            self.remaining = 0
        return data

    def drain(self) -> bool:
        """Discard the unread rest; False when it is too big to be worth reading."""
        if self.remaining > _DRAIN_LIMIT:
            return False
        while self.remaining > 0:
            if not self.read(min(self.remaining, 1 << 20)):
                return False
        return True


def _read_chunked(raw: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """A chunked request body, up to ``limit`` + 1 bytes; the flag says it was complete."""
    out = bytearray()
    while True:
        line = raw.readline(1024)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            return bytes(out), False
        if size == 0:
            while raw.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out), True
        if len(out) + size > limit:
            out += raw.read(limit + 1 - len(out))
            return bytes(out), False
        out += raw.read(size)
        raw.readline(1024)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def parse_request(self) -> bool:
        # The request line has just been read: the call's latency counts from here.
        self.arrived = time.monotonic()
        # The stdlib's, reading the headers without the email package.
        return bool(parse_request(self))

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.settimeout(_IDLE_TIMEOUT)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        self.server.track(self.connection, add=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # Every HTTP method goes to the WSGI app, which decides what it allows.
        if name.startswith("do_"):
            return self._run
        raise AttributeError(name)

    def _environ(self) -> tuple[dict[str, Any], _BodyReader | None]:
        url = urlsplit(self.path)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(url.path or "/"),
            "QUERY_STRING": url.query,
            "SERVER_PROTOCOL": self.request_version,
            "wsgi.url_scheme": "http",
            ARRIVED: self.arrived,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = "HTTP_" + name
                if name in environ:
                    value = f"{environ[name]},{value}"
            environ[name] = value
        reader: _BodyReader | None = None
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body, complete = _read_chunked(cast(BinaryIO, self.rfile), self.server.body_limit())
            environ["wsgi.input"] = io.BytesIO(body)
            environ["wsgi.input_terminated"] = True
            environ.pop("CONTENT_LENGTH", None)
            if not complete:
                self.close_connection = True
        else:
            try:
                length = max(int(self.headers.get("Content-Length") or 0), 0)
            except ValueError:
                length = 0
                self.close_connection = True
            reader = _BodyReader(cast(BinaryIO, self.rfile), length)
            environ["wsgi.input"] = reader
        return environ, reader

    def _run(self) -> None:
        environ, reader = self._environ()
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return None

        try:
            body = b"".join(self.server.app(environ, start_response))
        except DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, headers = started
        # The next request starts where this body ends: read what the app left unread.
        if reader is not None and reader.remaining and not reader.drain():
            self.close_connection = True
        out = [f"{self.request_version} {status}\r\n"]
        for key, value in headers:
            out.append(f"{key}: {value}\r\n")
            if key.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
        if self.close_connection and not any(k.lower() == "connection" for k, _ in headers):
            out.append("Connection: close\r\n")
        out.append("\r\n")
        payload = "".join(out).encode("latin-1")
        if self.command != "HEAD":
            payload += body
        self.wfile.write(payload)
        self.log_request(status.split(" ", 1)[0], len(body))


class FakeHTTPServer(ThreadingHTTPServer):
    """One thread per connection; stop() closes idle keep-alive connections too."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a client opening a pool of 16 or 64
    # connections at once would wait out SYN retries (or worse) on the overflow.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], app: WsgiApp, body_limit: Callable[[], int]
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.app = app
        self.body_limit = body_limit
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        #: Connections accepted since start: keep-alive reuse shows as fewer of them.
        self.accepted = 0

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
                self.accepted += 1
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)
