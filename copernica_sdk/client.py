"""``CopernicaClient``: the typed facade over Copernica's SOAP API."""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from ._net import is_loopback
from ._safety import FieldNameCache, check_lengths
from ._services import (
    CollectionsService,
    DatabasesService,
    FieldsService,
    ProfilesService,
    SubprofilesService,
)
from ._services._raw import after_call, before_call
from ._soap import SoapConnection, SoapResult
from .auth import AccessTokenAuth, Auth, AuthContext, BearerAuth
from .deadline import DEFAULT_DEADLINE, DeadlineAdapter
from .errors import AuthenticationError, ConfigurationError, CopernicaError
from .models import Requirement
from .redaction import redact
from .retry import DEFAULT_RETRY, RetryPolicy
from .values import WireValue

__all__ = ["DEFAULT_ENDPOINT", "CallGate", "ConnectionPool", "CopernicaClient", "Timeout"]

#: Entered around every SOAP request (each attempt), given the operation name; e.g.
#: a cap on the calls in flight per account across machines (copernica_sdk.scale).
CallGate = Callable[[str], AbstractContextManager[Any]]

DEFAULT_ENDPOINT = "https://soap.copernica.com"

log = logging.getLogger("copernica_sdk")



@dataclass(frozen=True)
class Timeout:
    """Seconds to wait for a connection, for each read of the answer, and for the
    whole call.  Every call has all three.

    ``total`` is the deadline of one HTTP call: connecting, sending and reading
    the complete answer.  ``read`` applies to each socket read, so without
    ``total`` a server that trickles its answer could hold a call open forever.
    A call that misses its deadline raises :class:`~copernica_sdk.DeadlineError`
    (retryable; the retry policy decides).
    """

    connect: float = 10.0
    read: float = 60.0  # unindexed searches can take a long time (docs/copernica-api-notes.md §6)
    total: float = DEFAULT_DEADLINE

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


class ConnectionPool:
    """HTTP connections that several clients may share (e.g. one client per account).

    Clients sharing a pool share sockets, never credentials: each client keeps
    its own session, cookies and headers.
    """

    def __init__(self, maxsize: int = 10) -> None:
        if maxsize < 1:
            raise ConfigurationError("a connection pool needs room for at least 1 connection")
        self.maxsize = maxsize
        # urllib3 makes a new connection for a caller beyond ``maxsize`` and closes it
        # after the call, so ``maxsize`` should be at least the number of threads that
        # call at once (keep-alive for all of them).
        # Its connections let a call's deadline cover the status line and headers too.
        self.adapter: HTTPAdapter = DeadlineAdapter(pool_connections=4, pool_maxsize=maxsize,
                                                    max_retries=0)

    def close(self) -> None:
        self.adapter.close()


def _check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return endpoint
    if parts.scheme == "http" and host and is_loopback(host):
        return endpoint  # the bundled fakes run on loopback without TLS
    raise ConfigurationError(
        f"endpoint {endpoint!r} must be an https:// URL (plain http is allowed only for "
        "loopback addresses such as the fake service on 127.0.0.1)")


def _session_for(endpoint: str) -> requests.Session:
    """A session that reads proxy and CA settings from the environment once.

    requests re-reads the environment on every request (trust_env), which costs
    more than the XML work of a small call; the settings are resolved here instead.
    """
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(endpoint))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class CopernicaClient:
    """A client for one Copernica account.

    ::

        client = CopernicaClient(access_token="…")
        db = client.databases.get("Customers")
        client.profiles.upsert(db, key={"customer_key": "ann@example.com"},
                               fields={"firstname": "Ann"})
        for profile in client.profiles.list(db):
            print(profile.id, profile.fields["firstname"])

    Service namespaces: :attr:`databases`, :attr:`fields`, :attr:`collections`,
    :attr:`profiles`, :attr:`subprofiles`; :meth:`call` reaches any other WSDL
    operation by name.  The client is safe to share between
    threads; pass ``max_connections=`` (the number of threads that call at once)
    to size its own HTTP connection pool, or ``pool=`` to share one.

    Args:
        access_token: the account's API access token (``AccessTokenAuth``).
        auth: another strategy instead (``BearerAuth``, ``LoginAuth``).
        endpoint: the SOAP endpoint; https, or http on a loopback address.
        wsdl: a WSDL URL or path to use instead of the bundled one.
        timeout: a :class:`Timeout`, or one number for both connect and read.
        retry: a :class:`~copernica_sdk.retry.RetryPolicy`.
        session: a ``requests.Session`` to send through (proxies, TLS, recording).
        pool: a :class:`ConnectionPool` to use (and possibly share).
        max_connections: how many keep-alive connections the client's own pool
            holds (default 10); set it to the number of threads calling at once,
            or calls beyond it open and close a connection each.  Not combined
            with ``pool=`` (size that pool instead).
        page_size: items per page for auto-paging iterators.
        field_cache_max_age: seconds a database's or collection's field list is
            trusted before it is read again for a requirement-based call (see
            :meth:`FieldsService.revalidate`).
        max_response_bytes: the largest answer accepted (a hostile or broken
            endpoint could otherwise fill memory).
        strict_lengths: refuse (:class:`~copernica_sdk.errors.ValueTooLongError`)
            a text value longer than its field instead of cutting it with a
            :class:`~copernica_sdk.errors.TruncationWarning` (docs/sdk.md,
            "Text lengths").  A key is never cut, whatever this says.
        call_gate: a :data:`CallGate` every request passes through (retry
            back-off waits outside it).
    """

    def __init__(
        self,
        access_token: str | None = None,
        *,
        auth: Auth | None = None,
        endpoint: str = DEFAULT_ENDPOINT,
        wsdl: str | None = None,
        timeout: Timeout | float = Timeout(),
        retry: RetryPolicy = DEFAULT_RETRY,
        session: requests.Session | None = None,
        pool: ConnectionPool | None = None,
        max_connections: int | None = None,
        page_size: int = 500,
        user_agent: str | None = None,
        field_cache_max_age: float = 60.0,
        max_response_bytes: int = 512 * 1024 * 1024,
        strict_lengths: bool = False,
        call_gate: CallGate | None = None,
    ) -> None:
        if auth is None:
            if access_token is None:
                raise ConfigurationError("pass access_token=… or auth=… (one client per account)")
            auth = AccessTokenAuth(access_token)
        elif access_token is not None:
            raise ConfigurationError("pass either access_token or auth, not both")
        if page_size < 1:
            raise ConfigurationError("page_size must be at least 1")
        if pool is not None and max_connections is not None:
            raise ConfigurationError("pass either pool or max_connections, not both "
                                     "(size a shared pool with ConnectionPool(maxsize=…))")
        self._auth = auth
        self._endpoint = _check_endpoint(endpoint)
        self._timeout = timeout if isinstance(timeout, Timeout) else Timeout(timeout, timeout)
        if not (self._timeout.total > 0 and math.isfinite(self._timeout.total)):
            raise ConfigurationError("timeout.total (the deadline of one call) must be positive")
        self._retry = retry
        self._gate: CallGate = call_gate or (lambda operation: nullcontext())
        self.page_size = page_size
        self._owns_session = session is None
        self._session = session or _session_for(self._endpoint)
        #: Calls the client's connection pool keeps alive at once; the default
        #: ``concurrency`` of ``upsert_many``.
        self.max_connections = (pool.maxsize if pool is not None else
                                10 if max_connections is None else max_connections)
        self.strict_lengths = strict_lengths
        if pool is not None or max_connections is not None or self._owns_session:
            size = 10 if max_connections is None else max_connections
            adapter = (pool or ConnectionPool(size)).adapter
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = user_agent or f"copernica-sdk/{__version__}"
        self._conn = SoapConnection(endpoint=self._endpoint, wsdl=wsdl, session=self._session,
                                    timeout=self._timeout.as_tuple(), redact=self.redact,
                                    deadline=self._timeout.total,
                                    max_response_bytes=max_response_bytes,
                                    # Auth that needs the session's cookies (a login) or a
                                    # session of the caller's go through requests as a whole.
                                    direct=self._owns_session
                                    and type(auth) in (AccessTokenAuth, BearerAuth))
        self.field_names = FieldNameCache(self._load_field_names, max_age=field_cache_max_age)
        self._ctx = _AuthContext(self)
        self.databases = DatabasesService(self)
        self.fields = FieldsService(self)
        self.collections = CollectionsService(self)
        self.profiles = ProfilesService(self)
        self.subprofiles = SubprofilesService(self)

    # -- plumbing -----------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def operations(self) -> list[str]:
        """Every operation the WSDL in use declares."""
        return self._conn.operations

    def redact(self, text: str) -> str:
        """``text`` with this client's credentials and any JWT replaced by ``REDACTED``."""
        return redact(text, self._auth.secrets, mask="REDACTED")

    def call(self, operation: str, /, **params: Any) -> Any:
        """Call any operation the WSDL declares by name, with plain Python values::

            info = client.call("Database_retrieve", id=db.id)   # a dict
            client.call("Database_updateProfiles", id=db, requirements={"customer_key": "k"},
                        fields={"firstname": "Ann"}, create=True)

        The escape hatch for what the typed facade does not cover (docs/sdk.md,
        "Operations and the escape hatch").  Parameters are shaped by the WSDL:
        a mapping where a map is due (``fields``), an id or model where a
        reference is (``collection=5``), a list where an array is (``ids=[1, 2]``);
        ``requirements`` as for the facade (a ``{field: value}`` mapping, or
        :class:`Requirement` objects).  The result comes back as plain Python:
        ``None`` when empty, the one member when there is one (a dict for an
        entity, ``"1"`` for a ``value``), else a dict (``start``, ``length``,
        ``total``, ``items``).

        Authentication, retries, error types and redaction are the facade's; so
        are the guards: requirements and field names are checked against the
        database or collection they apply to, writes refuse empty requirements,
        too-long text is cut with a warning (or refused), and an operation whose
        requirements cannot be checked (``View_updateProfiles``) is refused.
        An operation the WSDL lacks raises :class:`ConfigurationError`.
        """
        plain = self._conn.plain
        parameters = plain.parameters(operation)  # ConfigurationError for an unknown one
        checked, reqs = before_call(self, operation, dict(params),
                                    lambda name: parameters.child(name) is not None)
        result = self._call(operation, plain.shape(operation, checked))
        after_call(result.page, operation, reqs)
        return plain.read(operation, result.element)

    def check_lengths(self, kind: str, parent_id: int, fields: Mapping[str, WireValue],
                      requirements: Sequence[Requirement],
                      operation: str) -> Mapping[str, WireValue]:
        """``fields`` with over-long text cut (warning) or refused (``strict_lengths``)."""
        return check_lengths(self.field_names, kind, parent_id, fields, requirements,
                             operation, strict=self.strict_lengths)

    def _call(self, operation: str, params: dict[str, Any]) -> SoapResult:
        """Call ``operation`` with authentication and the retry policy applied."""
        attempts = 0

        def attempt() -> SoapResult:
            nonlocal attempts
            attempts += 1
            return self._call_authenticated(operation, params)

        try:
            return self._retry.call(operation, attempt)
        except CopernicaError as exc:
            exc.attempts = attempts
            raise

    def _call_authenticated(self, operation: str, params: dict[str, Any]) -> SoapResult:
        try:
            return self._send(operation, params)
        except AuthenticationError as exc:
            if not self._auth.renew(exc, self._ctx):
                raise
            log.info("%s: credentials renewed after %r; retrying once", operation, exc.message)
            return self._send(operation, params)

    def _send(self, operation: str, params: dict[str, Any]) -> SoapResult:
        call_params, headers = dict(params), dict[str, str]()
        self._auth.apply(call_params, headers, self._ctx)
        with self._gate(operation):
            return self._conn.call(operation, call_params, headers)

    def _load_field_names(self, kind: str, parent_id: int) -> list[tuple[str, int | None]]:
        # Every page: a name missing from a truncated list would be refused as unknown.
        fields = (self.fields.list(database=parent_id) if kind == "database"
                  else self.fields.list(collection=parent_id))
        # Text fields hold at most ``length`` characters (the service cuts the rest).
        return [(f.name, f.length if f.type == "text" and not f.big and f.length else None)
                for f in fields]

    def close(self) -> None:
        """Release HTTP connections (only the session the client created itself)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> CopernicaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CopernicaClient(endpoint={self._endpoint!r}, auth={type(self._auth).__name__})"


class _AuthContext(AuthContext):
    """What auth strategies may use of a client (and nothing more)."""

    def __init__(self, client: CopernicaClient) -> None:
        self._client = client
        self._lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        return self._client._session

    @property
    def timeout(self) -> tuple[float, float]:
        return self._client._timeout.as_tuple()

    @property
    def deadline(self) -> float:
        return self._client._timeout.total

    def call_unauthenticated(self, operation: str, params: dict[str, Any]) -> bool:
        return self._client._conn.call(operation, params).succeeded()
