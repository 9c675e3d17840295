"""Authentication strategies.  One strategy (and so one account) per client.

Copernica has had three schemes, all documented and possibly all in use:

- :class:`AccessTokenAuth` (default): ``access_token`` inside every call's parameters.
- :class:`BearerAuth`: a JWT fetched by POSTing the access token to the
  authentication endpoint, sent as ``Authorization: Bearer``; cached for less
  than its 24 h life and fetched again after an authentication failure.
- :class:`LoginAuth`: the legacy ``login`` call whose session cookie later calls
  carry; logs in again once when the service answers ``Not logged on``.

A strategy never shares credentials with another client: the session that
carries a login cookie belongs to one client only.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

import requests

from . import deadline as _deadline
from ._soap.connection import refused_redirect
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    DeadlineError,
    ReadError,
)

__all__ = [
    "DEFAULT_AUTH_ENDPOINT",
    "AccessTokenAuth",
    "Auth",
    "AuthContext",
    "BearerAuth",
    "LoginAuth",
]

DEFAULT_AUTH_ENDPOINT = "https://authenticate.copernica.com"


class AuthContext(Protocol):
    """What a strategy may use of the client: its session and an unauthenticated call."""

    @property
    def session(self) -> requests.Session: ...

    @property
    def timeout(self) -> tuple[float, float]: ...

    @property
    def deadline(self) -> float: ...

    def call_unauthenticated(self, operation: str, params: dict[str, Any]) -> bool: ...


class Auth(ABC):
    """Adds credentials to a call and renews them after an authentication failure."""

    @property
    @abstractmethod
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in logs, errors or recorded fixtures."""

    @abstractmethod
    def apply(self, params: dict[str, Any], headers: dict[str, str], ctx: AuthContext) -> None:
        """Add credentials to one call's parameters or HTTP headers."""

    def renew(self, error: AuthenticationError, ctx: AuthContext) -> bool:
        """Drop cached credentials after ``error``; ``True`` means "retry the call once"."""
        return False


class AccessTokenAuth(Auth):
    """The ``access_token`` parameter in every call (Copernica's scheme since 2020)."""

    def __init__(self, access_token: str) -> None:
        if not access_token or not access_token.strip():
            raise ConfigurationError("access_token is empty; create one under "
                                     "Admin → Access tokens in Copernica's dashboard")
        self._token = access_token.strip()

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    def apply(self, params: dict[str, Any], headers: dict[str, str], ctx: AuthContext) -> None:
        params["access_token"] = self._token


class BearerAuth(Auth):
    """``Authorization: Bearer <JWT>``, the JWT obtained from the authentication endpoint."""

    def __init__(
        self,
        access_token: str,
        *,
        auth_endpoint: str = DEFAULT_AUTH_ENDPOINT,
        max_age: float = 23 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_token or not access_token.strip():
            raise ConfigurationError("access_token is empty")
        self._token = access_token.strip()
        self._endpoint = auth_endpoint
        self._max_age = min(max_age, 24 * 3600 - 60)  # a JWT lives 24 h; renew before that
        self._clock = clock
        self._lock = threading.Lock()
        self._jwt: str | None = None
        self._fetched_at = 0.0

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token,) + ((self._jwt,) if self._jwt else ())

    def apply(self, params: dict[str, Any], headers: dict[str, str], ctx: AuthContext) -> None:
        headers["Authorization"] = f"Bearer {self._current_jwt(ctx)}"

    def renew(self, error: AuthenticationError, ctx: AuthContext) -> bool:
        with self._lock:
            self._jwt = None
        return True

    def _current_jwt(self, ctx: AuthContext) -> str:
        with self._lock:
            if self._jwt is None or self._clock() - self._fetched_at >= self._max_age:
                self._jwt = self._fetch(ctx)
                self._fetched_at = self._clock()
            return self._jwt

    def _fetch(self, ctx: AuthContext) -> str:
        try:
            # Never follow a redirect: requests would re-send the token to the new host.
            response = _deadline.request(ctx.session, "POST", self._endpoint,
                                         data={"access_token": self._token},
                                         timeout=ctx.timeout, deadline=ctx.deadline,
                                         max_bytes=64 * 1024, allow_redirects=False)
        except _deadline.DeadlineExceeded:
            raise DeadlineError(f"the authentication endpoint {self._endpoint} sent no "
                                f"complete answer within {ctx.deadline:g} s",
                                operation="authenticate") from None
        except requests.exceptions.ConnectionError:
            raise ConnectError(f"cannot reach the authentication endpoint {self._endpoint}",
                               operation="authenticate") from None
        except requests.exceptions.RequestException as exc:
            raise ReadError(f"authentication endpoint failed ({type(exc).__name__})",
                            operation="authenticate") from None
        if 300 <= response.status_code < 400:
            raise refused_redirect(self._endpoint, response, "authenticate", lambda t: t)
        jwt = response.text.strip()
        if response.status_code != 200 or jwt.count(".") != 2:
            raise AuthenticationError(
                f"the authentication endpoint refused the access token (HTTP "
                f"{response.status_code}); check the token and that it may use the SOAP API",
                operation="authenticate", status_code=response.status_code,
            )
        return jwt


class LoginAuth(Auth):
    """Legacy ``login(username, account, password)`` with a cookie session (deprecated 2020)."""

    def __init__(self, username: str, password: str, account: str = "") -> None:
        if not username or not password:
            raise ConfigurationError("LoginAuth needs a username (the API user's e-mail) "
                                     "and a password")
        self._username, self._password, self._account = username, password, account
        self._lock = threading.Lock()
        self._logged_in = False

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._password,)

    def apply(self, params: dict[str, Any], headers: dict[str, str], ctx: AuthContext) -> None:
        with self._lock:
            if self._logged_in:
                return
            params_login: dict[str, Any] = {"username": self._username,
                                            "password": self._password}
            if self._account:
                params_login["account"] = self._account
            if not ctx.call_unauthenticated("login", params_login):
                raise AuthenticationError("login was refused", operation="login")
            self._logged_in = True

    def renew(self, error: AuthenticationError, ctx: AuthContext) -> bool:
        # Only an expired session is worth one more login; wrong credentials stay wrong.
        if "not logged on" not in error.message.lower():
            return False
        with self._lock:
            self._logged_in = False
        return True
