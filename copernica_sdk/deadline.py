"""Whole-call deadlines for HTTP requests: a call ends in bounded time, whatever the server does.

``requests`` applies its read timeout to each socket read, so a server that
trickles a never-ending body (a few bytes every half second) keeps a call — and
the job lock of the run that made it — alive forever.  :func:`request` bounds
the whole call instead:

- connecting uses a connect timeout capped by the deadline; while the status
  line and headers are read, the watchdog (below) shuts the socket at the
  deadline when the session sends through a :class:`DeadlineAdapter` (the SDK's
  and the connectors' own sessions do); through any other adapter each socket
  read waits at most what was left of the deadline when the request was sent
  (urllib3's ``total`` timeout);
- the body is streamed; when the deadline passes, one shared watchdog thread
  shuts the socket down for reading (urllib3's ``HTTPResponse.shutdown``), which
  wakes a read that is blocked, and :class:`DeadlineExceeded` is raised;
- a body larger than ``max_bytes`` raises :class:`BodyTooLarge` (announced by
  ``Content-Length`` or not) instead of filling memory.

Used by the SOAP transport and by the source-side HTTP clients, so both sides of
a sync share one implementation.  ``DeadlineExceeded`` subclasses
``requests.Timeout``: code that treats timeouts as transient does so here too.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import http.client
import itertools
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from ssl import CertificateError
from ssl import SSLError as BaseSSLError
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ContentDecodingError, InvalidHeader
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import SSLError as RequestsSSLError
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    HeaderParsingError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import InvalidHeader as Urllib3InvalidHeader
from urllib3.util import Timeout as _Urllib3Timeout
from urllib3.util.response import assert_header_parsing

from ._http_heads import HTTPResponse

__all__ = ["DEFAULT_DEADLINE", "Answer", "BodyTooLarge", "DeadlineAdapter", "DeadlineExceeded",
           "DirectPost", "new_session", "request"]

#: Seconds one HTTP call (connect, send, the whole answer) may take by default.
DEFAULT_DEADLINE = 120.0

_CHUNK = 64 * 1024


class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole call (connect, headers and body) took longer than its deadline."""

    def __init__(self, deadline: float, url: str, received: int) -> None:
        super().__init__(f"no complete answer from {url} within {deadline:g} s "
                         f"({received} bytes of the body received)")
        self.deadline = deadline
        self.url = url
        self.received = received


class BodyTooLarge(requests.exceptions.RequestException):
    """The answer's body is larger than the caller accepts."""

    def __init__(self, limit: int, url: str, announced: int | None = None) -> None:
        size = f"announced {announced} bytes" if announced is not None else "more bytes"
        super().__init__(f"the answer from {url} is larger than {limit} bytes ({size}); refused")
        self.limit = limit
        self.url = url


class _Watchdog:
    """One daemon thread that runs callbacks at their deadlines.

    Registering a deadline is a heap push, so giving every call one costs next to
    nothing; the thread starts on first use and sleeps until the nearest deadline.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, list[Callable[[], None] | None]]] = []
        self._seq = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, callback: Callable[[], None]) -> list[Callable[[], None] | None]:
        """Run ``callback`` at monotonic time ``when``; returns a handle for :meth:`cancel`."""
        handle: list[Callable[[], None] | None] = [callback]
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), handle))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-deadline-watchdog",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is handle:
                self._cond.notify()
        return handle

    def cancel(self, handle: list[Callable[[], None] | None]) -> None:
        with self._cond:
            if handle[0] is not None:
                handle[0] = None
                self._cancelled += 1
                if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                    # Most entries are finished calls: drop them rather than keep them
                    # until their deadline (a busy client makes thousands a minute).
                    self._heap = [e for e in self._heap if e[2][0] is not None]
                    heapq.heapify(self._heap)
                    self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2][0] is None:
                    heapq.heappop(self._heap)
                    self._cancelled = max(0, self._cancelled - 1)
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, handle = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                callback, handle[0] = handle[0], None
            if callback is not None:
                with contextlib.suppress(Exception):  # the connection may be gone already
                    callback()


_WATCHDOG = _Watchdog()


class _Call:
    """The deadline of the request this thread is sending (see :func:`request`)."""

    def __init__(self, end: float, whole: bool = False) -> None:
        self.end = end
        self.fired = threading.Event()
        # ``whole``: one watchdog entry (expire) covers the whole call; the connection
        # registers its socket here instead of scheduling its own (DirectPost).
        self.whole = whole
        self.sock: socket.socket | None = None

    def expire(self) -> None:
        self.fired.set()
        sock = self.sock
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on the socket


_current = threading.local()


class _HeaderDeadline:
    """Mixed into urllib3's connections: the status line and headers are read under
    the watchdog too, so a server that dribbles its headers is cut off in time."""

    sock: socket.socket | None

    def getresponse(self) -> Any:
        call: _Call | None = getattr(_current, "call", None)
        sock = self.sock
        if call is None or sock is None:
            return super().getresponse()  # type: ignore[misc]
        if call.whole:
            call.sock = sock  # set before fired is read: expire() sees one or the other
            if call.fired.is_set():
                raise TimeoutError("the deadline passed before the headers were read")
            response = super().getresponse()  # type: ignore[misc]
            if call.fired.is_set():
                raise TimeoutError("the deadline passed while the headers were read")
            return response

        def expire() -> None:
            call.fired.set()
            sock.shutdown(socket.SHUT_RDWR)  # wakes the read blocked on the headers

        handle = _WATCHDOG.schedule(call.end, expire)
        try:
            response = super().getresponse()  # type: ignore[misc]
        finally:
            _WATCHDOG.cancel(handle)
        if call.fired.is_set():
            # Shut mid-headers, http.client may see "end of headers" and hand back a
            # partial answer; an error makes urllib3 discard the connection instead.
            raise TimeoutError("the deadline passed while the headers were read")
        return response


class _HTTPConnection(_HeaderDeadline, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_HeaderDeadline, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections let :func:`request` bound the reading of
    the status line and headers as well as the body.  Mount it on a session (the
    SDK's :class:`~copernica_sdk.ConnectionPool` and the connectors do)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:  # SOCKS managers keep their own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session() -> requests.Session:
    """A ``requests.Session`` with a :class:`DeadlineAdapter` mounted for http and https."""
    session = requests.Session()
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session



def _limits(deadline: float, timeout: tuple[float, float]) -> tuple[float, _Urllib3Timeout]:
    """When a call with ``deadline`` must end (monotonic clock), and urllib3's timeouts
    for it: (connect, read) capped by the deadline, which is also the total."""
    if not (deadline > 0 and math.isfinite(deadline)):
        raise ValueError(f"deadline must be a positive number of seconds, not {deadline!r}")
    connect, read = timeout
    return time.monotonic() + deadline, _Urllib3Timeout(
        connect=min(connect, deadline), read=min(read, deadline), total=deadline)

def request(session: requests.Session, method: str, url: str, *, deadline: float,
            timeout: tuple[float, float], max_bytes: int | None = None,
            **kwargs: Any) -> requests.Response:
    """Send one request and read its whole answer within ``deadline`` seconds.

    ``timeout`` is (connect, read) as for ``requests``; both are capped by what is
    left of the deadline.  Other keyword arguments go to ``session.request``
    (``stream`` is always used internally).  The returned response has its body
    read (``.content`` works as usual).  Raises :class:`DeadlineExceeded`,
    :class:`BodyTooLarge` or the usual ``requests`` exceptions.
    """
    end, total = _limits(deadline, timeout)
    call = _Call(end)
    _current.call = call
    try:
        # requests passes a urllib3 Timeout through unchanged (its stubs list numbers).
        response = session.request(method, url, stream=True,
                                   timeout=total,  # type: ignore[arg-type]
                                   **kwargs)
    except requests.exceptions.RequestException:
        if call.fired.is_set():
            raise DeadlineExceeded(deadline, url, 0) from None
        raise
    finally:
        _current.call = None
    if call.fired.is_set():
        response.close()
        raise DeadlineExceeded(deadline, url, 0)
    try:
        _read_body(response, end, deadline, url, max_bytes)
    except BaseException:
        response.close()
        raise
    return response


class Answer:
    """A response read whole by :class:`DirectPost`: status, headers and body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive (urllib3's HTTPHeaderDict)
        self.content = content


_NO_RETRIES = urllib3.util.Retry(0, read=False)
_REQUESTS_SEND = HTTPAdapter.__dict__["send"]  # what HTTPAdapter(max_retries=0) uses


class DirectPost:
    """POSTs to one URL through a :class:`DeadlineAdapter`'s urllib3 pool, skipping
    ``requests``' per-call machinery.

    ``Session.request`` re-merges the session's settings, re-prepares the URL,
    headers and body, checks the CA bundle on disk and wraps the answer for every
    call: for a small SOAP call that costs more CPU than the XML work.  Here the
    pool (with the session's TLS settings) is looked up once per adapter, and
    the call keeps everything :func:`request` promises: the same whole-call
    deadline, ``max_bytes``, no redirects followed, no retries, and the same
    ``requests`` exceptions for the same failures (the adapter's mapping of
    urllib3's errors is mirrored in :meth:`post`).  Use it only for sessions
    :meth:`adapter_for` accepts: ones that would add nothing but their headers.

    The pool's connections are driven through ``http.client`` directly
    (:func:`_exchange`): urllib3 still connects, does TLS and keeps the pool, but
    its per-call header validation (done once per set of headers), its ``Retry``
    and ``HTTPHeaderDict`` objects and its ``HTTPResponse`` (built only for a
    chunked, compressed or close-delimited answer) are not paid per call.
    Callers whose headers set the framing (``Content-Length``,
    ``Transfer-Encoding``) are sent through ``urlopen`` as before.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._lock = threading.Lock()
        self._adapter: DeadlineAdapter | None = None
        self._pool: Any = None
        self._heads: dict[tuple[Any, ...], _Head] = {}

    def adapter_for(self, session: requests.Session) -> DeadlineAdapter | None:
        """The session's adapter for the URL when a direct call sends what the session
        would (no proxies, auth, cookies, params, hooks or client certificate), else None."""
        if (session.proxies or session.auth or session.params or session.cert
                or session.trust_env or session.hooks.get("response") or len(session.cookies)):
            return None
        adapter = session.get_adapter(self.url)
        if not isinstance(adapter, DeadlineAdapter):
            return None
        send = type(adapter).send
        # A replaced send (a subclass, or a library such as ``responses`` patching
        # HTTPAdapter) must see the call: requests then sends it.
        if send is not _REQUESTS_SEND or getattr(send, "__module__", "") != "requests.adapters":
            return None
        return adapter

    def _pool_of(self, adapter: DeadlineAdapter, verify: bool | str | None) -> Any:
        pool = self._pool
        if adapter is self._adapter and pool is not None and pool.pool is not None:
            return pool  # pool.pool is None once the pool manager closed it
        with self._lock:
            prepared = requests.PreparedRequest()
            prepared.prepare(method="POST", url=self.url)
            pool = adapter.get_connection_with_tls_context(prepared, verify)
            adapter.cert_verify(pool, self.url, verify, None)  # type: ignore[no-untyped-call]
            self._adapter, self._pool = adapter, pool
        return pool

    def post(self, adapter: DeadlineAdapter, verify: bool | str | None, body: bytes,
             headers: Mapping[str, str | bytes], *, deadline: float, timeout: tuple[float, float],
             max_bytes: int | None = None) -> Answer:
        """Send ``body`` and read the whole answer within ``deadline`` seconds; raises
        what :func:`request` raises for the same failure."""
        end, total = _limits(deadline, timeout)
        pool = self._pool_of(adapter, verify)
        call = _Call(end, whole=True)
        handle = _WATCHDOG.schedule(end, call.expire)
        try:
            return self._send(pool, call, body, headers, total, deadline, max_bytes)
        finally:
            _WATCHDOG.cancel(handle)

    def _head(self, pool: Any, headers: Mapping[str, str | bytes]) -> _Head | None:
        """The request's header lines as urllib3's ``HTTPConnection.request`` writes them
        for this pool, made (and validated) once per distinct set of headers; None when
        the caller's headers set the framing (urllib3 then sends as usual)."""
        key = (id(pool), tuple(headers.items()))
        head = self._heads.get(key)
        if head is not None:
            return head
        names = frozenset(str(name).lower() for name in headers)
        if "content-length" in names or "transfer-encoding" in names:
            return None
        # urllib3's own putrequest/putheader (the same validation and SKIP_HEADER rules)
        # on an unconnected connection of the pool's class and address: the same Host line.
        scratch = pool.ConnectionCls(host=pool.host, port=pool.port)
        scratch.putrequest("POST", self._path, skip_host="host" in names,
                           skip_accept_encoding="accept-encoding" in names)
        before = list(scratch._buffer)
        scratch._buffer = []
        if "user-agent" not in names:
            scratch.putheader("User-Agent", _default_user_agent())
        for name, value in headers.items():
            scratch.putheader(name, value)
        head = _Head(before, [*scratch._buffer, b"", b""])
        with self._lock:
            if len(self._heads) > 64:  # callers whose headers change every call
                self._heads.clear()
            self._heads[key] = head
        return head

    def _send(self, pool: Any, call: _Call, body: bytes, headers: Mapping[str, str | bytes],
              total: _Urllib3Timeout, deadline: float, max_bytes: int | None) -> Answer:
        head = self._head(pool, headers)
        _current.call = call
        try:
            try:
                if head is None:
                    raw: Any = pool.urlopen("POST", self._path, body=body, headers=headers,
                                            redirect=False, assert_same_host=False,
                                            preload_content=False, decode_content=False,
                                            retries=_NO_RETRIES, timeout=total, chunked=False)
                else:
                    raw = _exchange(pool, self._path, head, body, total, call)
            except (ProtocolError, OSError) as err:
                raise RequestsConnectionError(err) from err
            except MaxRetryError as err:
                if (isinstance(err.reason, ConnectTimeoutError)
                        and not isinstance(err.reason, NewConnectionError)):
                    raise requests.exceptions.ConnectTimeout(err) from err
                if isinstance(err.reason, SSLError):
                    raise RequestsSSLError(err) from err
                raise RequestsConnectionError(err) from err
            except ClosedPoolError as err:
                raise RequestsConnectionError(err) from err
            except SSLError as err:
                raise RequestsSSLError(err) from err
            except ReadTimeoutError as err:
                raise requests.exceptions.ReadTimeout(err) from err
            except Urllib3InvalidHeader as err:
                raise InvalidHeader(err) from err
        except requests.exceptions.RequestException:
            if call.fired.is_set():
                raise DeadlineExceeded(deadline, self.url, 0) from None
            raise
        finally:
            _current.call = None
        if isinstance(raw, _Plain):
            return raw.read_all(pool, call, deadline, self.url, max_bytes)

        def chunks() -> Iterator[bytes]:
            try:
                yield from raw.stream(_CHUNK, decode_content=True)
            except ProtocolError as err:
                raise ChunkedEncodingError(err) from err
            except DecodeError as err:
                raise ContentDecodingError(err) from err
            except ReadTimeoutError as err:
                raise RequestsConnectionError(err) from err
            except SSLError as err:
                raise RequestsSSLError(err) from err

        try:
            if call.fired.is_set():
                raise DeadlineExceeded(deadline, self.url, 0)
            content = _read_all(chunks(), None, _content_length(raw.headers), call.end,
                                deadline, self.url, max_bytes, fired=call.fired)
        except BaseException:
            raw.close()
            raw.release_conn()
            raise
        raw.release_conn()  # already back in the pool when the body ended; harmless then
        return Answer(raw.status, raw.headers, content)


class _Head:
    """A request's header lines before and after its ``Content-Length`` line."""

    __slots__ = ("after", "before")

    def __init__(self, before: list[bytes], after: list[bytes]) -> None:
        self.before = before
        self.after = after

    def render(self, body: bytes) -> bytes:
        return b"\r\n".join([*self.before, b"Content-Length: %d" % len(body), *self.after]) + body


def _default_user_agent() -> str:
    return urllib3.connection._get_default_user_agent()


_CONNECT_ERRORS = (OSError, NewConnectionError, urllib3.exceptions.TimeoutError, BaseSSLError,
                   CertificateError, SSLError)
_URLOPEN_ERRORS = (urllib3.exceptions.TimeoutError, http.client.HTTPException, OSError,
                   ProtocolError, BaseSSLError, SSLError, CertificateError)
_urllib3_log = logging.getLogger("urllib3.connectionpool")


def _exchange(pool: Any, path: str, head: _Head, body: bytes, total: _Urllib3Timeout,
              call: _Call) -> _Plain | urllib3.BaseHTTPResponse:
    """One POST on a connection of ``pool``, driven through ``http.client`` directly.

    What ``pool.urlopen(..., retries=Retry(0, read=False), redirect=False,
    preload_content=False)`` does, step for step (connecting, TLS and the pool stay
    urllib3's), raising the same urllib3 exceptions for the same failures — minus
    its per-call cost: urllib3's header-by-header validation (done once per header
    set, :meth:`DirectPost._head`), its ``Retry``/``HTTPHeaderDict`` objects and its
    ``HTTPResponse`` wrapper, which is only built for an answer that needs it
    (chunked, compressed, or without ``Content-Length``).
    """
    timeout = total  # made for this call by _limits (urlopen would clone it)
    conn = None
    try:
        conn = pool._get_conn(timeout=None)
        conn.timeout = timeout.connect_timeout
        pool.num_requests += 1
        timeout.start_connect()
        conn.timeout = _Urllib3Timeout.resolve_default_timeout(timeout.connect_timeout)
        try:  # as HTTPConnectionPool._make_request
            try:
                pool._validate_conn(conn)  # HTTPS: connects, TLS handshake
            except (TimeoutError, BaseSSLError) as e:
                pool._raise_timeout(err=e, url=path, timeout_value=conn.timeout)
                raise
        except _CONNECT_ERRORS as e:
            if isinstance(e, BaseSSLError | CertificateError):
                raise SSLError(e) from e
            raise
        try:
            if conn.sock is None:
                conn.connect()  # plain HTTP: http.client's send would open it here
            conn.sock.settimeout(conn.timeout)
            conn.sock.sendall(head.render(body))
        except BrokenPipeError:
            pass
        except OSError as e:
            if e.errno not in (errno.EPROTOTYPE, errno.ECONNRESET):
                raise
        read_timeout = timeout.read_timeout
        sock = conn.sock
        if sock is not None:
            if read_timeout == 0:
                raise ReadTimeoutError(pool, path, f"Read timed out. (read timeout={read_timeout})")
            conn.timeout = read_timeout
        try:
            response = _begin(conn, sock, call)
        except (BaseSSLError, OSError) as e:
            pool._raise_timeout(err=e, url=path, timeout_value=read_timeout)
            raise
    except _URLOPEN_ERRORS as e:
        new_e: Exception = e
        if isinstance(e, BaseSSLError | CertificateError):
            new_e = SSLError(e)
        elif isinstance(e, OSError | http.client.HTTPException):
            new_e = ProtocolError("Connection aborted.", e)
        if conn is not None:
            conn.close()
        pool._put_conn(None)  # as urlopen: the slot is kept, the connection is not
        # Retry(0, read=False): read errors are raised as they are, the rest wrapped.
        if isinstance(new_e, ReadTimeoutError | ProtocolError):
            raise new_e  # noqa: B904 (urlopen raises it so: its context is the cause)
        raise MaxRetryError(pool, path, new_e) from new_e
    except urllib3.exceptions.EmptyPoolError:
        raise  # no connection was taken (a blocking pool); as urlopen
    except BaseException:
        if conn is not None:
            conn.close()
        pool._put_conn(None)
        raise
    if _urllib3_log.isEnabledFor(logging.DEBUG):
        _urllib3_log.debug('%s://%s:%s "%s %s %s" %s %s', pool.scheme, pool.host, pool.port,
                           "POST", path, "HTTP/1.1", response.status, response.length)
    try:
        assert_header_parsing(response.msg)
    except (HeaderParsingError, TypeError) as hpe:
        log_url = f"{pool.scheme}://{pool.host}:{pool.port}{path}"
        logging.getLogger("urllib3.connection").warning(
            "Failed to parse headers (url=%s): %s", log_url, hpe, exc_info=True)
    if (response.length is not None and not response.chunked
            and "content-encoding" not in response.msg
            and len(response.msg.get_all("content-length") or ()) == 1):
        return _Plain(conn, response)
    # Chunked, compressed or close-delimited: urllib3's HTTPResponse reads it, as before.
    wrapped = urllib3.HTTPResponse(
        body=response, headers=urllib3.HTTPHeaderDict(
            urllib3.connection._normalize_header_values(response.msg)),
        status=response.status, version=response.version, version_string="HTTP/1.1",
        reason=response.reason, preload_content=False, decode_content=False,
        original_response=response, enforce_content_length=True, request_method="POST",
        request_url=path, sock_shutdown=getattr(sock, "shutdown", None), retries=_NO_RETRIES,
        connection=conn, pool=pool)
    return wrapped


def _begin(conn: Any, sock: socket.socket | None, call: _Call) -> http.client.HTTPResponse:
    """The status line and headers, as ``http.client.HTTPConnection.getresponse`` reads
    them, under the call's watchdog entry (see :class:`_HeaderDeadline`)."""
    if sock is None:
        raise http.client.RemoteDisconnected("the connection was closed before the answer")
    sock.settimeout(conn.timeout)
    call.sock = sock  # set before fired is read: expire() sees one or the other
    if call.fired.is_set():
        raise TimeoutError("the deadline passed before the headers were read")
    response = HTTPResponse(sock, method="POST")  # http.client's, faster headers
    try:
        try:
            response.begin()
        except ConnectionError:
            conn.close()
            raise
        if call.fired.is_set():
            raise TimeoutError("the deadline passed while the headers were read")
        if response.will_close:
            conn.close()  # the response keeps the socket until its body is read
    except BaseException:
        response.close()
        raise
    return response


class _Plain:
    """An answer with a ``Content-Length`` and no content coding: read straight from
    ``http.client``, with urllib3's mapping of read errors."""

    __slots__ = ("conn", "response")

    def __init__(self, conn: Any, response: http.client.HTTPResponse) -> None:
        self.conn = conn
        self.response = response

    def _chunks(self, pool: Any) -> Iterator[bytes]:
        response = self.response
        while True:
            remaining = response.length or 0
            if remaining <= 0:
                return
            try:
                data = response.read(min(_CHUNK, remaining))
                if not data:  # enforce_content_length, as urllib3
                    raise http.client.IncompleteRead(b"", remaining)
            except TimeoutError as e:
                raise RequestsConnectionError(
                    ReadTimeoutError(pool, None, "Read timed out.")) from e
            except BaseSSLError as e:
                raise RequestsSSLError(SSLError(e)) from e
            except (http.client.HTTPException, OSError) as e:
                raise ChunkedEncodingError(
                    ProtocolError(f"Connection broken: {e!r}", e)) from e
            yield data

    def read_all(self, pool: Any, call: _Call, deadline: float, url: str,
                 max_bytes: int | None) -> Answer:
        response = self.response
        headers = _Headers(response.msg)
        try:
            if call.fired.is_set():
                raise DeadlineExceeded(deadline, url, 0)
            content = _read_all(self._chunks(pool), None, response.length, call.end, deadline,
                                url, max_bytes, fired=call.fired)
        except BaseException:
            response.close()
            self.conn.close()
            pool._put_conn(self.conn)
            raise
        response.close()
        pool._put_conn(self.conn)
        return Answer(response.status, headers, content)


class _Headers(Mapping[str, str]):
    """An answer's headers as urllib3's ``HTTPHeaderDict`` shows them (case-insensitive,
    repeated headers joined with ", "), read from ``http.client``'s message."""

    __slots__ = ("_msg",)

    def __init__(self, msg: http.client.HTTPMessage) -> None:
        self._msg = msg

    def __getitem__(self, name: str) -> str:
        values = self._msg.get_all(name)
        if not values:
            raise KeyError(name)
        if len(values) == 1 and "\r\n" not in values[0]:
            return values[0]  # what the join below gives for one unfolded value
        return ", ".join(urllib3.connection._normalize_header_value(v) for v in values)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, str] = {}
        for name in self._msg:
            seen.setdefault(name.lower(), name)
        return iter(seen.values())

    def __len__(self) -> int:
        return len({name.lower() for name in self._msg})


def _read_body(response: requests.Response, end: float, deadline: float, url: str,
               max_bytes: int | None) -> None:
    shutdown = getattr(response.raw, "shutdown", None)
    response._content = _read_all(response.iter_content(_CHUNK), shutdown,
                                  _content_length(response.headers), end, deadline, url, max_bytes)
    response._content_consumed = True  # type: ignore[attr-defined]


def _read_all(chunks: Iterator[bytes], shutdown: Callable[[], None] | None, announced: int | None,
              end: float, deadline: float, url: str, max_bytes: int | None,
              fired: threading.Event | None = None) -> bytes:
    """The whole body from ``chunks``, within the deadline and ``max_bytes``.

    Without ``fired`` the read gets its own watchdog entry (which calls
    ``shutdown``); with it, the caller's entry already covers the read.
    """
    if max_bytes is not None and announced is not None and announced > max_bytes:
        raise BodyTooLarge(max_bytes, url, announced)
    handle = None
    if fired is None:
        fired = threading.Event()
        event = fired

        def expire() -> None:
            event.set()
            if shutdown is not None:
                shutdown()  # wakes a read blocked on the socket

        handle = _WATCHDOG.schedule(end, expire)
    parts: list[bytes] = []
    received = 0
    try:
        for chunk in chunks:
            received += len(chunk)
            if max_bytes is not None and received > max_bytes:
                raise BodyTooLarge(max_bytes, url)
            parts.append(chunk)
            if fired.is_set() or time.monotonic() > end:
                raise DeadlineExceeded(deadline, url, received)
    except (requests.exceptions.RequestException, OSError, urllib3.exceptions.HTTPError):
        if fired.is_set():
            raise DeadlineExceeded(deadline, url, received) from None
        raise
    finally:
        if handle is not None:
            _WATCHDOG.cancel(handle)
    if fired.is_set():  # a close-delimited body simply ended when the socket was shut
        raise DeadlineExceeded(deadline, url, received)
    return b"".join(parts)


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
