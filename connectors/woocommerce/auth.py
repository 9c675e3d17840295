"""How requests to a shop are authenticated, and how secrets are kept out of text.

WooCommerce accepts three transports (docs/source-api-notes.md §2):

- HTTPS + HTTP Basic (consumer key as user, secret as password) — the default;
- HTTPS + the keys as query parameters, for hosts whose CGI/FastCGI set-up strips
  the ``Authorization`` header ("Consumer key is missing");
- plain HTTP + OAuth 1.0a "one-legged" signing of the query string.  WooCommerce
  only checks Basic credentials when ``is_ssl()``, so over plain HTTP signing is
  the only scheme it accepts.  Signing is delegated to oauthlib.

Secrets must never reach logs, messages or exceptions.  Query-string and OAuth
parameters end up in URLs, which requests' exceptions, urllib3's debug log and
WordPress's own ``Link`` headers all repeat, so every URL we show goes through
:func:`redact_url` and every message through :func:`redact_text`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY
from oauthlib.oauth1 import Client as OAuth1Client
from requests.auth import AuthBase, HTTPBasicAuth

__all__ = [
    "AuthMode",
    "OAuth1QueryAuth",
    "QueryStringAuth",
    "choose_auth",
    "install_log_redaction",
    "is_loopback",
    "redact_text",
    "redact_url",
]

AuthMode = Literal["basic", "query", "oauth1"]

#: Query parameters that carry credentials or signatures.
_SECRET_PARAM = re.compile(r"^(consumer_key|consumer_secret|oauth_.*)$", re.IGNORECASE)
# The same, inside free text (exception strings, urllib3 debug lines, oauthlib's
# "Collected params" list of tuples).
_SECRET_IN_TEXT = re.compile(
    r"""(?P<name>consumer_key|consumer_secret|oauth_[a-z_]+)(?P<sep>['"]?\s*(?:=|%3D|,\s*|:\s*)['"]?)[^'"&\s,)\]%]+""",
    re.IGNORECASE,
)
# WooCommerce keys look like ck_<40 hex> / cs_<40 hex>; mask them wherever they appear.
_WC_KEY = re.compile(r"(?<![A-Za-z0-9])(c[ks])_[A-Za-z0-9]{6,}|(?<=%3D)(c[ks])_[A-Za-z0-9]{6,}")
_MASK = "***"


def redact_url(url: str) -> str:
    """``url`` without credential or OAuth query parameters (keys, secrets, signatures)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.query:
        return redact_text(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SECRET_PARAM.match(k)]
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    # Credentials in the authority (user:pass@host) are dropped too.
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, urlencode(kept, safe=",:"), "")))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with credential parameters, WooCommerce keys and ``secrets`` masked."""
    out = _SECRET_IN_TEXT.sub(lambda m: f"{m.group('name')}{m.group('sep')}{_MASK}", text)
    out = _WC_KEY.sub(lambda m: f"{m.group(1) or m.group(2)}_{_MASK}", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, _MASK)
    return out


class _RedactingFilter(logging.Filter):
    """Rewrites a log record's message with secrets masked (never drops records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's problem, not ours
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = _RedactingFilter()
_INSTALL_LOCK = threading.Lock()
# Loggers of the libraries under us that print full URLs or OAuth parameters at DEBUG.
_LEAKY_LOGGERS = (
    "urllib3.connectionpool",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)


def install_log_redaction() -> None:
    """Mask secrets in the debug output of urllib3 and oauthlib (idempotent).

    Filters attach to the exact loggers that emit, because logging does not apply
    a parent logger's filters to records of its children.
    """
    with _INSTALL_LOCK:
        for name in _LEAKY_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


class QueryStringAuth(AuthBase):
    """Send the keys as ``consumer_key``/``consumer_secret`` query parameters."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key = consumer_key
        self._secret = consumer_secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_url(r.url, {"consumer_key": self._key, "consumer_secret": self._secret})
        return r


class OAuth1QueryAuth(AuthBase):
    """OAuth 1.0a one-legged HMAC-SHA256 signature in the query string (oauthlib).

    A fresh nonce and timestamp are drawn for every request, so a retried request
    is signed anew (WooCommerce rejects reused nonces).
    """

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key = consumer_key
        self._secret = consumer_secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        client = OAuth1Client(
            self._key,
            client_secret=self._secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_QUERY,
        )
        if (r.method or "GET").upper() != "GET":
            # The connector only reads; signing bodies is not implemented.
            raise ValueError("OAuth1QueryAuth signs GET requests only")
        signed_url, _headers, _body = client.sign(r.url or "", http_method="GET")
        r.url = signed_url
        return r


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


def make_auth(mode: AuthMode, consumer_key: str, consumer_secret: str) -> AuthBase:
    """The requests auth object for ``mode``."""
    if mode == "basic":
        return HTTPBasicAuth(consumer_key, consumer_secret)
    if mode == "query":
        return QueryStringAuth(consumer_key, consumer_secret)
    return OAuth1QueryAuth(consumer_key, consumer_secret)
