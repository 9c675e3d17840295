"""How requests to a shop are authenticated, and how its keys are kept out of text.

WooCommerce accepts three transports (docs/source-api-notes.md §2):

- HTTPS + HTTP Basic (consumer key as user, secret as password) — the default;
- HTTPS + the keys as query parameters, for hosts whose CGI/FastCGI set-up strips
  the ``Authorization`` header ("Consumer key is missing");
- plain HTTP + OAuth 1.0a "one-legged" signing of the query string.  WooCommerce
  only checks Basic credentials when ``is_ssl()``, so over plain HTTP signing is
  the only scheme it accepts.

The authenticators and the redactor are the framework's
(:mod:`copernica_sdk.sync.rest.auth`, :mod:`copernica_sdk.redaction`); this module
only picks the transport and adds the shape of WooCommerce keys (``ck_…``/``cs_…``)
to what is masked.
"""

from __future__ import annotations

import re
from typing import Literal

from copernica_sdk import redaction
from copernica_sdk._net import is_loopback
from copernica_sdk.redaction import install_log_redaction
from copernica_sdk.sync.rest.auth import Authenticator, HttpBasicAuth, OAuth1Auth, QueryParamsAuth

__all__ = [
    "KEY_PATTERNS",
    "AuthMode",
    "choose_auth",
    "install_log_redaction",
    "make_auth",
    "redact_text",
    "redact_url",
]

AuthMode = Literal["basic", "query", "oauth1"]

#: WooCommerce keys look like ck_<40 hex> / cs_<40 hex>; masked wherever they appear.
KEY_PATTERNS = (re.compile(r"(?:(?<![A-Za-z0-9])|(?<=%3D))(c[ks]_)[A-Za-z0-9]{6,}"),)


def redact_url(url: str) -> str:
    """``url`` without credential or OAuth query parameters (keys, secrets, signatures)."""
    return redaction.redact_url(url, patterns=KEY_PATTERNS)


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with credential parameters, WooCommerce keys and ``secrets`` masked."""
    return redaction.redact(text, secrets, patterns=KEY_PATTERNS)


def choose_auth(scheme: str, host: str | None, *, query_string_auth: bool, mode: AuthMode | None) -> AuthMode:
    """The transport to use for a store URL, or ``ValueError`` explaining why not.

    ``mode=None`` picks WooCommerce's own rule: HTTPS → Basic (or query string when
    ``query_string_auth``), HTTP → OAuth 1.0a.  Sending keys in clear (Basic or
    query string over HTTP) is refused except to loopback hosts, where tests and
    local fakes live.
    """
    if mode is None:
        if scheme == "https":
            return "query" if query_string_auth else "basic"
        mode = "query" if query_string_auth and is_loopback(host) else "oauth1"
        if query_string_auth and mode != "query":
            raise ValueError(
                "query_string_auth would send the consumer key and secret in clear text over "
                "plain http; use an https:// store URL (over http the keys are never sent, "
                "requests are OAuth-signed instead)"
            )
        return mode
    if scheme == "http" and mode in ("basic", "query") and not is_loopback(host):
        raise ValueError(
            f"{mode} authentication over plain http would expose the consumer secret; "
            "use an https:// store URL or OAuth 1.0a signing"
        )
    return mode


def make_auth(mode: AuthMode, consumer_key: str, consumer_secret: str) -> Authenticator:
    """The framework authenticator for ``mode``."""
    if mode == "basic":
        return HttpBasicAuth(consumer_key, consumer_secret)
    if mode == "query":
        return QueryParamsAuth({"consumer_key": consumer_key, "consumer_secret": consumer_secret})
    return OAuth1Auth(consumer_key, consumer_secret)
