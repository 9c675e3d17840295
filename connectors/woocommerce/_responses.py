"""Turning WooCommerce HTTP answers into data or into errors a shop owner can act on.

WooCommerce errors are JSON ``{"code", "message", "data": {"status"}}``; proxies,
WAFs and PHP failures answer with HTML instead.  Every message names the URL
(redacted) and the status, and quotes WooCommerce's own code and message.  The
requests, retries and JSON decoding are the framework's
(:class:`~copernica_sdk.sync.rest.client.RestClient`); these are WooCommerce's words
for its errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

from copernica_sdk.retry import parse_retry_after
from copernica_sdk.sync.deep_json import UNREADABLE
from copernica_sdk.sync.errors import SourceAuthError, SourceError

from .auth import redact_text, redact_url

__all__ = [
    "UNREADABLE",
    "Page",
    "WooError",
    "WooHTTPError",
    "auth_error",
    "parse_retry_after",
    "status_error",
    "wc_error",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class WooError:
    """A WooCommerce JSON error body (all fields optional: HTML pages have none)."""

    code: str | None
    message: str | None

    def quoted(self) -> str:
        if self.code and self.message:
            return f'{self.code}: "{self.message}"'
        return self.code or (f'"{self.message}"' if self.message else "")


class WooHTTPError(SourceError):
    """WooCommerce answered with an HTTP error that retrying will not fix.

    ``status_code`` and ``code`` (WooCommerce's error code, if the body was JSON)
    let callers tell e.g. an unsupported parameter (400 ``rest_invalid_param``)
    from other failures.
    """

    def __init__(self, message: str, *, status_code: int, code: str | None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint.

    ``total``/``total_pages`` come from ``X-WP-Total``/``X-WP-TotalPages``,
    ``next_url``/``prev_url`` from the ``Link`` header (redacted: WordPress copies
    every query parameter into it, credentials included).  ``per_page`` is the
    page size that was requested, ``url`` the request as shown in messages
    (credentials redacted).
    """

    records: list[dict[str, Any]]
    total: int | None = None
    total_pages: int | None = None
    next_url: str | None = None
    prev_url: str | None = None
    per_page: int | None = None
    url: str | None = None


def wc_error(response: requests.Response) -> WooError:
    """The ``code``/``message`` of a WooCommerce error body, if it is one."""
    try:
        body = response.json()
    except ValueError:
        return WooError(None, None)
    if not isinstance(body, dict):
        return WooError(None, None)
    code, message = body.get("code"), body.get("message")
    return WooError(
        str(code) if code is not None else None,
        _CONTROL.sub(" ", str(message)).strip() if message is not None else None,
    )


def snippet(response: requests.Response, secrets: tuple[str, ...], limit: int = 80) -> str:
    """The start of a body, on one line, secrets masked — for messages about odd answers."""
    text = _CONTROL.sub(" ", response.text[: limit * 2]).strip()
    text = redact_text(text, secrets)
    return text[:limit] + ("…" if len(text) > limit else "")


def page_from(response: requests.Response, data: list[dict[str, Any]], per_page: int | None,
              url: str | None = None) -> Page:
    links = response.links
    return Page(
        url=url,
        records=data,
        total=_int_header(response, "X-WP-Total"),
        total_pages=_int_header(response, "X-WP-TotalPages"),
        next_url=redact_url(links["next"]["url"]) if "next" in links else None,
        prev_url=redact_url(links["prev"]["url"]) if "prev" in links else None,
        per_page=per_page,
    )


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def auth_error(
    response: requests.Response, url: str, mode: str, secrets: tuple[str, ...]
) -> SourceAuthError:
    """401/403 as an error that says what to check."""
    err = wc_error(response)
    detail = f"HTTP {response.status_code}" + (f" {err.quoted()}" if err.quoted() else "")
    hint = "check the consumer key/secret and that the key has Read access"
    if mode == "basic" and response.status_code == 401 and err.code in (
        "woocommerce_rest_cannot_view",
        "woocommerce_rest_authentication_error",
        None,
    ):
        hint += (
            "; if the key is right, the web server may strip the Authorization header — "
            "set query_string_auth = true"
        )
    if mode == "oauth1":
        hint += "; with OAuth signing the store URL must match the shop's own address exactly (www, http/https)"
    return SourceAuthError(redact_text(f"WooCommerce refused the API key ({detail}) for {url}: {hint}", secrets))


def status_error(response: requests.Response, url: str, secrets: tuple[str, ...]) -> WooHTTPError:
    """A non-retryable HTTP error status as ``SourceError``."""
    err = wc_error(response)
    status = response.status_code
    detail = err.quoted() or f"non-JSON body: {snippet(response, secrets)!r}"
    hint = ""
    if status == 404 and err.code in (None, "rest_no_route"):
        hint = (
            "; check the store URL, that WooCommerce is active and that pretty permalinks are "
            "enabled (Settings > Permalinks)"
        )
    elif status == 501:
        hint = "; security modules such as ModSecurity answer 501 to API requests"
    return WooHTTPError(
        redact_text(f"WooCommerce answered HTTP {status} ({detail}) for {url}{hint}", secrets),
        status_code=status,
        code=err.code,
    )



