"""The WSGI app: HTTP routing, the SOAP pipeline, auth, latency and fault injection.

Routes: ``GET /?SOAPAPI=WSDL`` (the WSDL), ``POST /authenticate`` (a Bearer JWT) and
``POST /`` (SOAP).  A SOAP call goes: read body (size limit, gzip) -> parse envelope
-> count -> decide injected fault -> [operation] -> serialise -> hold until the
latency has passed since the request arrived -> answer.  Anything
unexpected still answers with a SOAP fault: bad input never yields a traceback or
a hung connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import logging
import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from lxml import etree
from werkzeug.http import parse_cookie, parse_options_header

from .auth import SESSION_COOKIE, Auth
from .errors import SoapFault, client_fault
from .faults import FaultPlan, Injection
from .operations import HANDLERS, UNAUTHENTICATED, Context, Options
from .params import Params
from .state import State
from .wire import RequestDecoder, fault_envelope, parse_envelope, response_envelope
from .wsdl import ServiceSchema

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("copernica_sdk.testing.fake_copernica")

Latency = float | Callable[[random.Random], float]
#: The WSGI environ key of a request's arrival (``time.monotonic()``), which the
#: fake's latency counts from; set by the fake's own HTTP server.
ARRIVED = "copernica.fake.arrived"

_XML = "text/xml; charset=utf-8"
_AUTH_BODY_LIMIT = 64 * 1024
_TIMEOUT_MARGIN = 0.25
_HTML_500 = (
    b"<html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1></body></html>"
)
_HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><hr/><p>nginx</p></body></html>"
)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class DropConnection(ConnectionError):
    """Raised out of the app so the server closes the connection without a response.

    werkzeug treats ConnectionError from the app as a dropped connection and writes
    nothing; server.py's handler then makes sure the socket is closed.
    """


@dataclass(slots=True)
class Reply:
    """An HTTP response before gzip and truncation."""

    status: int
    body: bytes = b""
    content_type: str | None = _XML
    headers: list[tuple[str, str]] = field(default_factory=list)
    truncate: bool = False


def fault_reply(fault: SoapFault) -> Reply:
    return Reply(fault.status, fault_envelope(fault.code, fault.message))


class FakeApp:
    """The fake Copernica service as a WSGI callable."""

    def __init__(
        self,
        *,
        schema: ServiceSchema,
        state: State,
        auth: Auth,
        faults: FaultPlan,
        options: Options,
        latency: Latency,
        seed: int,
        max_body_bytes: int,
    ) -> None:
        self.schema = schema
        self._decode = RequestDecoder(schema)
        self.state = state
        self.auth = auth
        self.faults = faults
        self.options = options
        self.latency: Latency = latency
        self.max_body_bytes = max_body_bytes
        self.base_url = ""
        self.stopping = threading.Event()
        self._latency_rng = random.Random(seed)
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        # SOAP calls in flight per account now, and the most there ever were at once
        # (the scale-out tests check a per-account cap across workers with it).
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._wsdl: tuple[str, bytes] | None = None

    # ------------------------------------------------------------------- counters

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._max_in_flight.clear()

    def max_in_flight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._max_in_flight)

    @contextlib.contextmanager
    def _flight(self, account: str) -> Iterator[None]:
        with self._lock:
            self._in_flight[account] += 1
            self._max_in_flight[account] = max(self._max_in_flight[account],
                                               self._in_flight[account])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[account] -= 1

    def _caller(self, environ: WSGIEnvironment, parsed: etree._Element | None) -> str:
        """The account a request is for, as far as can be told before handling it
        ("" when it cannot: the handler then faults)."""
        scheme, _, credentials = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return self.auth.account_for_jwt(credentials) or ""
        # "{*}": in any namespace or none; the first in document order.
        for element in parsed.iter("{*}access_token") if parsed is not None else ():
            return self.auth.account_for_token((element.text or "").strip()) or ""
        session = parse_cookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE)
        return (self.auth.account_for_session(session) or "") if session else ""

    # ------------------------------------------------------------------------ WSGI

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            reply = self._route(environ)
        except DropConnection:
            raise
        except Exception:
            # A bug in the fake must still answer the client, as a Server fault.
            log.exception("fake Copernica failed on a request")
            reply = fault_reply(
                SoapFault("Internal error in the fake Copernica service", code="Server")
            )
        return self._send(environ, start_response, reply)

    def _send(
        self, environ: WSGIEnvironment, start_response: StartResponse, reply: Reply
    ) -> list[bytes]:
        body = reply.body
        headers = list(reply.headers)
        if reply.content_type is not None:
            headers.append(("Content-Type", reply.content_type))
        if body and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower():
            body = gzip.compress(body, compresslevel=1, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        if reply.truncate:
            # Full Content-Length, half the bytes, then the connection closes.
            body = body[: len(body) // 2]
            headers.append(("Connection", "close"))
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'Unknown')}", headers)
        return [body]

    def _route(self, environ: WSGIEnvironment) -> Reply:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        if method in ("GET", "HEAD"):
            if path == "/" and _wants_wsdl(environ.get("QUERY_STRING", "")):
                return Reply(200, self._served_wsdl())
            return Reply(404, b"Not Found", "text/plain; charset=utf-8")
        if method != "POST":
            return Reply(
                405, b"Method Not Allowed", "text/plain; charset=utf-8", [("Allow", "GET, POST")]
            )
        if path.rstrip("/") == "/authenticate":
            return self._authenticate(environ)
        if path != "/":
            return Reply(404, b"Not Found", "text/plain; charset=utf-8")
        return self._soap(environ)

    def _served_wsdl(self) -> bytes:
        cached = self._wsdl
        if cached is None or cached[0] != self.base_url:
            cached = (self.base_url, self.schema.served_wsdl(self.base_url))
            self._wsdl = cached
        return cached[1]

    # ------------------------------------------------------------------ authenticate

    def _authenticate(self, environ: WSGIEnvironment) -> Reply:
        try:
            body = _read_body(environ, _AUTH_BODY_LIMIT)
        except SoapFault:
            return Reply(413, b"Request entity too large", "text/plain; charset=utf-8")
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (form.get("access_token") or [""])[0]
        jwt = self.auth.issue_jwt(token)
        if jwt is None:
            return Reply(400, b"Invalid access token", "text/plain; charset=utf-8")
        return Reply(200, jwt.encode("ascii"), "text/plain; charset=utf-8")

    # -------------------------------------------------------------------------- SOAP

    def _soap(self, environ: WSGIEnvironment) -> Reply:
        try:
            body = _decode_body(
                environ, _read_body(environ, self.max_body_bytes), self.max_body_bytes
            )
        except SoapFault as fault:
            return fault_reply(fault)
        operation: str | None = None
        parsed: etree._Element | None = None
        parse_error: SoapFault | None = None
        try:
            operation, parsed = parse_envelope(body)
        except SoapFault as fault:
            parse_error = fault
        if operation in self.schema.operations:
            with self._lock:
                self._calls[operation] += 1
        with self._flight(self._caller(environ, parsed)):
            return self._answer(environ, operation, parsed, parse_error)

    def _answer(self, environ: WSGIEnvironment, operation: str | None,
                parsed: etree._Element | None, parse_error: SoapFault | None) -> Reply:
        # The answer leaves once the latency has passed since the request arrived,
        # its operation (if it runs) done within that time, as on a real server.
        injection = self.faults.next()
        if injection is not None and injection.when == "before":
            self._sleep_latency(environ.get(ARRIVED))
            return self._inject(injection, operation, None)
        if parse_error is not None or operation is None or parsed is None:
            reply = fault_reply(parse_error or client_fault("Bad Request"))
        else:
            reply = self._call(environ, operation, parsed)
        self._sleep_latency(environ.get(ARRIVED))
        if injection is not None:
            return self._inject(injection, operation, reply)
        return reply

    def _call(self, environ: WSGIEnvironment, operation: str, parsed: etree._Element) -> Reply:
        try:
            handler = HANDLERS.get(operation)
            if handler is None or operation not in self.schema.operations:
                raise client_fault(f"Procedure '{operation}' not present")
            _check_soap_action(environ, operation)
            bearer = None if operation in UNAUTHENTICATED else self._bearer_account(environ)
            params = Params(self._decode.struct(self.schema.operations[operation], parsed))
            account = bearer if bearer is not None else self._account(environ, operation, params)
            ctx = Context(self.state, self.auth, self.options, account)
            with self.state.transaction():
                result = handler(ctx, params)
            # Serialised outside the lock: handlers return plain, detached data.
            body = response_envelope(self.schema, operation, result)
            return Reply(200, body, headers=[("Set-Cookie", c) for c in ctx.set_cookies])
        except SoapFault as fault:
            return fault_reply(fault)

    def _bearer_account(self, environ: WSGIEnvironment) -> str | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        account = self.auth.account_for_jwt(credentials)
        if account is None:
            raise client_fault("Invalid or expired authorization token", status=401)
        return account

    def _account(self, environ: WSGIEnvironment, operation: str, params: Params) -> str:
        if operation in UNAUTHENTICATED:
            return ""
        if "access_token" in params:
            account = self.auth.account_for_token(params.text("access_token"))
            if account is None:
                raise client_fault("Invalid access token")
            return account
        session = parse_cookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE)
        if session:
            account = self.auth.account_for_session(session)
            if account is not None:
                return account
        raise client_fault("Not logged on")

    def _sleep_latency(self, arrived: float | None) -> None:
        """Hold the call until its latency has passed since the request arrived
        (``time.monotonic()`` when its request line was read; None: from now).
        Counting from the arrival keeps the fake's own work — parsing, the
        operation, and on a busy machine its wait for the GIL — inside the latency
        asked for rather than on top of it."""
        latency = self.latency
        if callable(latency):
            with self._lock:
                seconds = latency(self._latency_rng)
        else:
            seconds = latency
        if arrived is not None:
            seconds -= time.monotonic() - arrived
        if seconds > 0:
            # Outside every lock, so concurrent calls overlap as on a real server.
            self.stopping.wait(seconds)

    def _inject(self, injection: Injection, operation: str | None, reply: Reply | None) -> Reply:
        kind = injection.kind
        if kind == "http500":
            return Reply(500, _HTML_500, "text/html; charset=utf-8")
        if kind == "http502":
            return Reply(502, _HTML_502, "text/html; charset=utf-8")
        if kind == "http503":
            return Reply(503, b"", None)
        if kind == "http429":
            return Reply(
                429, b"Too Many Requests", "text/plain; charset=utf-8", [("Retry-After", "1")]
            )
        if kind == "timeout":
            self.stopping.wait(self.faults.timeout_seconds + _TIMEOUT_MARGIN)
            raise DropConnection("injected timeout")
        if kind == "reset":
            raise DropConnection("injected reset")
        if kind == "truncated":
            if reply is None or reply.status != 200:
                reply = Reply(200, response_envelope(self.schema, operation or "login", {}))
            return dataclasses.replace(reply, truncate=True)
        return fault_reply(SoapFault("Internal server error, please try again", code="Server"))


def _wants_wsdl(query: str) -> bool:
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key.lower() == "wsdl" or (
            key.upper() == "SOAPAPI" and any(v.upper() == "WSDL" for v in values)
        ):
            return True
    return False


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    stream = environ["wsgi.input"]
    header = environ.get("CONTENT_LENGTH", "")
    if header:
        try:
            length = int(header)
        except ValueError:
            raise client_fault("Bad Request", status=400) from None
        if length > limit:
            raise client_fault("Request entity too large", status=413)
        data: bytes = stream.read(length) if length > 0 else b""
        return data
    if environ.get("wsgi.input_terminated"):
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise client_fault("Request entity too large", status=413)
        return data
    return b""


def _decode_body(environ: WSGIEnvironment, body: bytes, limit: int) -> bytes:
    encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise client_fault(f"Unsupported Content-Encoding '{encoding}'", status=415)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise client_fault("Bad Request") from None
    if len(data) > limit:
        # Checked after inflating too, so a small gzip bomb cannot exhaust memory.
        raise client_fault("Request entity too large", status=413)
    if not inflater.eof:
        raise client_fault("Bad Request")
    return data


def _check_soap_action(environ: WSGIEnvironment, operation: str) -> None:
    action = environ.get("HTTP_SOAPACTION")
    if action is None:
        # SOAP 1.2 style: application/soap+xml; action="..."
        _, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
        action = options.get("action")
    if action is None:
        return
    name = action.strip().strip("\"'").rpartition("#")[2].strip()
    if name and name != operation:
        raise client_fault(f"SOAPAction '{name}' does not match operation '{operation}'")


__all__ = ["ARRIVED", "DropConnection", "FakeApp", "Latency", "Reply"]
