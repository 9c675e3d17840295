"""``HostileSoap``: a SOAP endpoint on loopback that misbehaves on purpose.

For tests of the SDK — and of partners' code built on it — against the answers
a broken, overloaded or hijacked endpoint gives.  Every request is answered in
the current ``mode``::

    with HostileSoap("trickle") as hostile:
        client = CopernicaClient("token", endpoint=hostile.url,
                                 timeout=Timeout(connect=2, read=5, total=2))
        with pytest.raises(DeadlineError):
            client.databases.list()
        assert hostile.elsewhere.requests == []   # the token went nowhere else

Modes (:data:`MODES`):

``redirect``            ``redirect_status`` (307) to ``elsewhere`` — a second loopback
                        server that records whatever reaches it
``trickle``             200 and a body that never ends: ``trickle_bytes`` every
                        ``trickle_interval`` seconds (800 bytes / 0.5 s)
``slow_headers``        the status line, then one header line every
                        ``trickle_interval`` seconds, forever
``malformed``           200 with XML that is not well-formed
``dtd``                 200 with a "billion laughs" entity bomb in a DOCTYPE
``entities``            200 with external entities (a local file and a URL on
                        ``elsewhere``): an XXE attempt
``fault_unknown_code``  500 with a SOAP fault whose code no specification defines
``fault_empty``         500 with a SOAP fault with an empty fault string
``fault_html``          500 with a SOAP fault whose fault string is an HTML page
``html``                200 with an HTML maintenance page
``wrong_content_type``  200 ``application/json`` with a JSON body
``not_soap``            200 with well-formed XML that is not a SOAP envelope
``empty``               200 with an empty body
``huge``                200 with an endless body sent as fast as the socket takes it
``huge_announced``      200 announcing a ``Content-Length`` of 1 TB
``trickle_announced``   200 announcing a ``Content-Length`` (1 MB), then trickling
                        the body as ``trickle`` does (a length-delimited trickle)

``requests`` (and ``elsewhere.requests``) list what arrived, bodies included,
so a test can check where a token went.  The servers are plain threads on
``127.0.0.1``; ``close()`` (or leaving the ``with``) ends every answer in progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from ._background import serve_in_background

__all__ = ["MODES", "HostileSoap", "ReceivedRequest", "RecordingServer"]

MODES: tuple[str, ...] = (
    "redirect", "trickle", "slow_headers", "malformed", "dtd", "entities",
    "fault_unknown_code", "fault_empty", "fault_html", "html", "wrong_content_type",
    "not_soap", "empty", "huge", "huge_announced", "trickle_announced",
)

_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_HEAD = (f'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="{_ENV}" '
         'xmlns:ns1="http://soap.copernica.com/pom"><SOAP-ENV:Body>').encode()
_TAIL = b"</SOAP-ENV:Body></SOAP-ENV:Envelope>"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as a server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def contains(self, secret: str) -> bool:
        """Whether ``secret`` appears anywhere in the request (path, headers, body)."""
        blob = "\n".join([self.path, *self.headers.values()]).encode() + b"\n" + self.body
        return secret.encode() in blob


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Base:
    """A loopback HTTP server in a daemon thread that records every request."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Any:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.requests.append(ReceivedRequest(self.command, self.path,
                                                          dict(self.headers.items()), body))
                try:
                    owner._answer(self)
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    self.close_connection = True

            do_GET = do_POST

        self.stopping.clear()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = serve_in_background(self._server, type(self).__name__)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first (use it in a with block)"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError


class RecordingServer(_Base):
    """Answers every request with a 404 and records it: a redirect's (or an
    external entity's) destination, to prove that nothing reached it."""

    def __enter__(self) -> RecordingServer:
        return self.start()  # type: ignore[no-any-return]

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        _reply(handler, 404, "text/plain", b"not here")


class HostileSoap(_Base):
    """The hostile endpoint (see the module docstring for the modes)."""

    def __init__(self, mode: str = "trickle", *, trickle_bytes: int = 800,
                 trickle_interval: float = 0.5, redirect_status: int = 307) -> None:
        super().__init__()
        self.mode = mode
        self.trickle_bytes = trickle_bytes
        self.trickle_interval = trickle_interval
        self.redirect_status = redirect_status
        self.elsewhere = RecordingServer()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; expected one of {', '.join(MODES)}")
        self._mode = value

    def __enter__(self) -> HostileSoap:
        self.elsewhere.start()
        return self.start()  # type: ignore[no-any-return]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
        self.elsewhere.close()

    def token_sent_elsewhere(self, token: str) -> bool:
        """Whether any request that reached ``elsewhere`` carried ``token``."""
        return any(r.contains(token) for r in self.elsewhere.requests)

    # -------------------------------------------------------------------- answers

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        mode = self._mode
        if mode == "redirect":
            h.send_response(self.redirect_status)
            h.send_header("Location", self.elsewhere.url + "soap")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif mode in ("trickle", "huge"):
            self._stream(h, self._trickle() if mode == "trickle" else self._flood())
        elif mode == "slow_headers":
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
            n = 0
            while not self.stopping.is_set():
                n += 1
                h.wfile.write(f"X-Padding-{n}: {'x' * 40}\r\n".encode())
                h.wfile.flush()
                self.stopping.wait(self.trickle_interval)
            h.close_connection = True
        elif mode == "trickle_announced":
            h.send_response(200)
            h.send_header("Content-Type", "text/xml; charset=utf-8")
            h.send_header("Content-Length", str(10**6))
            h.end_headers()
            for chunk in self._trickle():
                h.wfile.write(chunk)
                h.wfile.flush()
            h.close_connection = True
        elif mode == "huge_announced":
            h.send_response(200)
            h.send_header("Content-Type", "text/xml; charset=utf-8")
            h.send_header("Content-Length", str(10**12))
            h.end_headers()
            h.wfile.write(_HEAD)
            h.wfile.flush()
            self.stopping.wait(30)
        else:
            status, ctype, body = _FIXED[mode](self)
            _reply(h, status, ctype, body)

    def _stream(self, h: BaseHTTPRequestHandler, chunks: Iterator[bytes]) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/xml; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for chunk in chunks:
            if self.stopping.is_set():
                break
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.wfile.flush()
        h.close_connection = True

    def _trickle(self) -> Iterator[bytes]:
        yield _HEAD + b"<ns1:Account_databasesResponse><result>"
        while not self.stopping.is_set():
            yield b" " * self.trickle_bytes
            self.stopping.wait(self.trickle_interval)

    def _flood(self) -> Iterator[bytes]:
        yield _HEAD + b"<ns1:Account_databasesResponse><result><x>"
        block = b"A" * 65536
        started = time.monotonic()
        while time.monotonic() - started < 120:  # bounded even if the client never stops
            yield block


def _reply(h: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _fault(code: str, text: str) -> bytes:
    return (_HEAD + f"<SOAP-ENV:Fault><faultcode>{code}</faultcode><faultstring>{text}"
            "</faultstring></SOAP-ENV:Fault>".encode() + _TAIL)


def _laughs() -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{entities}]>\n'.encode()
            + _HEAD.split(b"\n", 1)[1] + b"<ns1:Account_databasesResponse><result>&lol9;"
            b"</result></ns1:Account_databasesResponse>" + _TAIL)


def _xxe(server: HostileSoap) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY local SYSTEM "file:///etc/passwd">'
            f'<!ENTITY remote SYSTEM "{server.elsewhere.url}xxe">]>\n'.encode()
            + _HEAD.split(b"\n", 1)[1] + b"<ns1:Account_databasesResponse><result>&local;"
            b"&remote;</result></ns1:Account_databasesResponse>" + _TAIL)


_HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Down for maintenance</title></head>"
              b"<body><h1>We'll be back soon</h1></body></html>")

_FIXED: dict[str, Any] = {
    "malformed": lambda s: (200, "text/xml; charset=utf-8",
                            _HEAD + b"<ns1:Account_databasesResponse><result><unclosed>"),
    "dtd": lambda s: (200, "text/xml; charset=utf-8", _laughs()),
    "entities": lambda s: (200, "text/xml; charset=utf-8", _xxe(s)),
    "fault_unknown_code": lambda s: (500, "text/xml; charset=utf-8",
                                     _fault("SOAP-ENV:Bizarre", "Something odd happened")),
    "fault_empty": lambda s: (500, "text/xml; charset=utf-8", _fault("SOAP-ENV:Server", "")),
    "fault_html": lambda s: (500, "text/xml; charset=utf-8", _fault(
        "SOAP-ENV:Server", "<![CDATA[<html><head><title>Fatal error</title></head><body>"
        "<h1>Internal error</h1><script>alert(1)</script><p>PHP Fatal error in "
        "/var/www/soap.php</p></body></html>]]>")),
    "html": lambda s: (200, "text/html; charset=utf-8", _HTML_PAGE),
    "wrong_content_type": lambda s: (200, "application/json", b'{"error": "not SOAP"}'),
    "not_soap": lambda s: (200, "text/xml; charset=utf-8",
                           b'<?xml version="1.0"?><status><ok>true</ok></status>'),
    "empty": lambda s: (200, "text/xml; charset=utf-8", b""),
}
