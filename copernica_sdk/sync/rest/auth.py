"""Authenticators for REST sources: HTTP Basic, bearer token, API key (header or
query), several query parameters, OAuth 1.0a one-legged signing.

Each is a ``requests`` auth object (install it on a session or pass it to
:class:`~copernica_sdk.sync.rest.client.RestClient`) that also knows

- ``secrets``: the values the redactor masks in every message and log line;
- ``in_clear``: whether a request carries the secret readable by anyone on the
  wire (Basic, bearer, API keys) rather than a signature (OAuth 1.0a).  The
  client refuses such an authenticator over plain ``http`` except to loopback
  hosts, where tests and local fakes live.

Credentials are applied to each request as it is sent — also to a ``next`` URL
an API hands back, so paging keeps working with query-string keys — and a retry
is signed anew (OAuth nonces must not repeat).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Literal

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, SIGNATURE_TYPE_QUERY
from oauthlib.oauth1 import Client as OAuth1Client
from requests.auth import AuthBase

__all__ = [
    "APIKeyAuth",
    "Authenticator",
    "BearerTokenAuth",
    "HttpBasicAuth",
    "NoAuth",
    "OAuth1Auth",
    "QueryParamsAuth",
]


class Authenticator(AuthBase):
    """Base of the authenticators: a ``requests`` auth plus what the client needs to
    keep the credentials safe."""

    #: Whether requests carry the secret readable on the wire (refused over plain
    #: http except to loopback hosts).
    in_clear: bool = True

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values to mask wherever text is shown."""
        return ()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r

    def __repr__(self) -> str:  # never the secret
        return f"{type(self).__name__}()"


class NoAuth(Authenticator):
    """No credentials (public APIs)."""

    in_clear = False


class HttpBasicAuth(Authenticator):
    """HTTP Basic: ``Authorization: Basic base64(username:password)``."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password

    @property
    def secrets(self) -> tuple[str, ...]:
        token = base64.b64encode(f"{self.username}:{self._password}".encode()).decode()
        return tuple(s for s in (self._password, token) if s)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_auth((self.username, self._password))
        return r


class BearerTokenAuth(Authenticator):
    """``Authorization: Bearer <token>`` (or another ``scheme``, e.g. ``Token``)."""

    def __init__(self, token: str, *, scheme: str = "Bearer") -> None:
        self._token = token
        self.scheme = scheme

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"{self.scheme} {self._token}"
        return r


class QueryParamsAuth(Authenticator):
    """Credentials as query parameters, e.g. WooCommerce's ``consumer_key`` and
    ``consumer_secret`` for hosts that strip the ``Authorization`` header."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self._params = dict(params)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in self._params.values() if v)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_url(r.url, self._params)
        return r


class APIKeyAuth(Authenticator):
    """An API key in a header (``location="header"``, e.g. ``X-API-Key``) or in the
    query string (``location="query"``, e.g. ``api_key``)."""

    def __init__(self, name: str, key: str,
                 location: Literal["header", "query"] = "header") -> None:
        if location not in ("header", "query"):
            raise ValueError(f"location must be 'header' or 'query', not {location!r}")
        self.name = name
        self._key = key
        self.location = location

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,) if self._key else ()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.location == "header":
            r.headers[self.name] = self._key
        else:
            r.prepare_url(r.url, {self.name: self._key})
        return r


class OAuth1Auth(Authenticator):
    """OAuth 1.0a one-legged signing (consumer key and secret, no token), by oauthlib.

    ``signature_type="query"`` puts the signature in the query string (what
    WooCommerce requires over plain http), ``"header"`` in an ``Authorization:
    OAuth …`` header.  HMAC-SHA256 by default.  A fresh nonce and timestamp are drawn
    for every request, so a retried request is signed anew.  Requests with a body
    are not signed (the sources read; a form body would have to be signed too).
    """

    in_clear = False

    def __init__(self, consumer_key: str, consumer_secret: str, *,
                 signature_method: str = SIGNATURE_HMAC_SHA256,
                 signature_type: Literal["query", "header"] = "query") -> None:
        self._key = consumer_key
        self._secret = consumer_secret
        self.signature_method = signature_method
        self.signature_type = signature_type

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._key, self._secret) if s)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.body:
            raise ValueError("OAuth1Auth signs requests without a body only")
        client = OAuth1Client(
            self._key, client_secret=self._secret, signature_method=self.signature_method,
            signature_type=SIGNATURE_TYPE_QUERY if self.signature_type == "query"
            else SIGNATURE_TYPE_AUTH_HEADER)
        method: Any = (r.method or "GET").upper()  # oauthlib's stubs list the verbs
        url, headers, _ = client.sign(r.url or "", http_method=method)
        r.url = url
        r.headers.update(headers)
        return r
