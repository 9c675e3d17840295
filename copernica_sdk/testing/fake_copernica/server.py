"""FakeCopernica: the fake service on a threaded loopback HTTP server, plus helpers."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from types import MappingProxyType, TracebackType

from .._background import serve_in_background
from .app import FakeApp, Latency
from .auth import Auth
from .faults import FaultPlan
from .inspection import Inspector
from .operations import Options, is_write
from .persistence import SqliteStore
from .state import State
from .transport import FakeHTTPServer
from .wsdl import load_schema

DEFAULT_TOKENS: Mapping[str, str] = {"fake-token": "demo"}
DEFAULT_LOGINS: Mapping[tuple[str, str], str] = {("api@example.com", "secret"): "demo"}


class FakeCopernica(Inspector):
    """A stateful fake of Copernica's SOAP API on ``http://host:port/``.

    Use as a context manager (or ``start()``/``stop()``).  It serves the bundled WSDL
    at ``wsdl_url``, answers SOAP 1.1 rpc/literal calls at ``url`` and hands out
    Bearer JWTs at ``auth_url``.  See docs/testing.md for the behaviour it models.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        logins: Mapping[tuple[str, str], str] | None = None,
        state_path: str | os.PathLike[str] | None = None,
        latency: Latency = 0.0,
        seed: int = 0,
        max_body_bytes: int = 10 * 1024 * 1024,
        jwt_ttl: float = 24 * 3600,
        updateprofiles_returns_items: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self._tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self._logins = dict(DEFAULT_LOGINS if logins is None else logins)
        if not self._tokens and not self._logins:
            raise ValueError("the fake needs at least one token or login")
        self._state_path = state_path
        accounts = [*self._tokens.values(), *self._logins.values()]
        store = SqliteStore(state_path) if state_path is not None else None
        self.state = State(accounts, seed=seed, store=store)
        self.faults = FaultPlan()
        """Fault injection for upcoming SOAP calls (see FaultPlan)."""
        self.auth = Auth(self._tokens, self._logins, jwt_ttl)
        self.options = Options(updateprofiles_returns_items=updateprofiles_returns_items)
        self.app = FakeApp(
            schema=load_schema(),
            state=self.state,
            auth=self.auth,
            faults=self.faults,
            options=self.options,
            latency=latency,
            seed=seed,
            max_body_bytes=max_body_bytes,
        )
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._accepted_before = 0  # connections accepted by servers already stopped

    # ------------------------------------------------------------------- lifecycle

    def start(self) -> FakeCopernica:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            return self
        if self.state.closed and self._state_path is not None:
            self.state.reopen(SqliteStore(self._state_path))
        server = FakeHTTPServer((self.host, self.port), self.app, lambda: self.app.max_body_bytes)
        self._server = server
        self.port = server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.app.base_url = f"http://{host}:{self.port}/"
        self.app.stopping.clear()
        self._thread = serve_in_background(server, "fake-copernica")
        return self

    def stop(self) -> None:
        """Stop serving, release held (timeout/latency) requests and close the SQLite file."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            self._accepted_before += server.accepted
            self.app.stopping.set()
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self.state.close()

    def __enter__(self) -> FakeCopernica:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The SOAP endpoint, ``http://127.0.0.1:PORT/`` (only once started)."""
        if not self.app.base_url:
            raise RuntimeError("FakeCopernica is not started")
        return self.app.base_url

    @property
    def wsdl_url(self) -> str:
        """Where the WSDL is served: ``url + "?SOAPAPI=WSDL"``."""
        return self.url + "?SOAPAPI=WSDL"

    @property
    def auth_url(self) -> str:
        """The Bearer JWT endpoint: POST ``access_token=TOKEN`` here."""
        return self.url + "authenticate"

    @property
    def token(self) -> str:
        """The first access token."""
        return next(iter(self._tokens), "")

    # ------------------------------------------------------------------------ knobs

    @property
    def latency(self) -> Latency:
        """Seconds from a SOAP call's arrival to its answer, at least (the fake's own work
        included), or a callable drawing them from a seeded RNG."""
        return self.app.latency

    @latency.setter
    def latency(self, value: Latency) -> None:
        self.app.latency = value

    @property
    def updateprofiles_returns_items(self) -> bool:
        """Whether *_updateProfiles/updateSubProfiles return the affected items."""
        return self.options.updateprofiles_returns_items

    @updateprofiles_returns_items.setter
    def updateprofiles_returns_items(self, value: bool) -> None:
        self.options.updateprofiles_returns_items = value

    @property
    def max_body_bytes(self) -> int:
        return self.app.max_body_bytes

    @max_body_bytes.setter
    def max_body_bytes(self, value: int) -> None:
        self.app.max_body_bytes = value

    def expire_sessions(self) -> None:
        """End every legacy login session: the next call with its cookie is 'Not logged on'."""
        self.auth.expire_sessions()

    def expire_jwts(self) -> None:
        """Invalidate every JWT handed out so far (the next use gets HTTP 401)."""
        self.auth.expire_jwts()

    # --------------------------------------------------------------------- counters

    @property
    def calls(self) -> Mapping[str, int]:
        """A read-only snapshot: operation -> number of SOAP requests received.

        Every request naming a WSDL operation counts, including ones answered with a
        fault (injected or not).
        """
        return MappingProxyType(self.app.calls())

    def reset_calls(self) -> None:
        """Zero the call counters (and :attr:`max_in_flight`)."""
        self.app.reset_calls()

    @property
    def max_in_flight(self) -> Mapping[str, int]:
        """Account -> the most SOAP calls that were in flight for it at once (since the
        fake was made or :meth:`reset_calls`); latency and held requests count."""
        return MappingProxyType(self.app.max_in_flight())

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted since the fake was made (or :meth:`reset_connections`).

        A client that keeps its connections alive opens about one per concurrent
        caller; more than that means connections were dropped and made anew.
        """
        return self._accepted_before + (self._server.accepted if self._server else 0)

    def reset_connections(self) -> None:
        """Zero the connection counter (connections already open stay open)."""
        self._accepted_before = -(self._server.accepted if self._server else 0)

    def write_calls(self) -> int:
        """Requests to mutating operations (create/update/remove/move/set/unsubscribe)."""
        return sum(count for op, count in self.app.calls().items() if is_write(op))


__all__ = ["DEFAULT_LOGINS", "DEFAULT_TOKENS", "FakeCopernica"]
