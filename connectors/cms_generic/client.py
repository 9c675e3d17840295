"""One ``requests.Session`` for every HTTP stream: timeouts, retries, clear errors.

- (connect, read) timeouts, default 10 s / 60 s, and a deadline for each whole
  request (default 120 s), so a site that trickles its answer cannot hang a run;
- redirects are refused, not followed (credentials in headers or the query
  string would travel to whatever host the site names);
- retries on connection errors, timeouts and the framework's retryable statuses
  (:class:`copernica_sdk.retry.RetryPolicy`: 429/500/502/503/504 by default),
  with its exponential backoff and jitter, waiting at least ``Retry-After``
  (a longer wait than the policy's ``max_retry_after`` gives up for this run);
- errors a site owner can act on, naming the URL — never a credential: every
  message passes through :func:`.auth.redact`.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from copernica_sdk import deadline as _deadline
from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync import deep_json
from copernica_sdk.sync.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceUnavailableError,
)

from .auth import apply_auth, query_auth, redact
from .config import AuthConfig

__all__ = ["Response", "SourceClient"]

log = logging.getLogger("copernica_sync.connectors.cms_generic")

USER_AGENT = "copernica-sync-cms-generic/0.1"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Response:
    """A 2xx answer, decoded: JSON body, headers, ``Link`` relations, the URL to show."""

    body: Any
    headers: Mapping[str, str]
    links: Mapping[str, str]
    url: str
    shown: str


class SourceClient:
    """Requests to the CMS with the configured auth.  ``policy.sleep`` is
    injectable, so tests count retries without waiting."""

    def __init__(self, auth: AuthConfig, *, headers: Mapping[str, str] | None = None,
                 timeout: float = 60.0, connect_timeout: float = 10.0,
                 deadline: float = _deadline.DEFAULT_DEADLINE,
                 policy: RetryPolicy | None = None, verify: bool = True,
                 session: requests.Session | None = None) -> None:
        self.auth = auth
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.deadline = float(deadline)
        self.policy = policy or RetryPolicy()
        self._secrets = auth.secrets()
        self._session = session or _deadline.new_session()
        self._session.verify = verify
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self._session.headers.update(dict(headers or {}))
        apply_auth(self._session, auth)

    def show(self, url: str, params: Mapping[str, str] | None = None) -> str:
        """``url`` with ``params`` as a message may show it (credentials removed)."""
        query = urlencode(params or {}, safe=",:[]")
        joined = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        return redact(joined, self._secrets)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def request_json(self, method: str, url: str, params: Mapping[str, str] | None = None, *,
                     body: Mapping[str, Any] | None = None,
                     headers: Mapping[str, str] | None = None) -> Response:
        """One logical request with retries; the decoded JSON of its 2xx answer."""
        send = dict(params or {})
        # Shown without the query-string API key, which is added only for sending.
        shown = self.show(url, send)
        query_auth(self.auth, send)
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = _deadline.request(
                    self._session, method, url, params=send or None, json=body,
                    headers=dict(headers or {}), timeout=(self.connect_timeout, self.timeout),
                    deadline=self.deadline, allow_redirects=False)
            except _deadline.DeadlineExceeded as exc:
                failure = (f"no complete answer within the {self.deadline:g} s deadline "
                           f"({exc.received} bytes received)")
            except requests.exceptions.SSLError:
                raise SourceError(f"TLS/SSL verification failed for {shown}: check the site's "
                                  "certificate (or the url's scheme)") from None
            except requests.ConnectTimeout:
                failure = f"could not connect within {self.connect_timeout:g} s"
            except requests.Timeout:
                failure = f"no answer within {self.timeout:g} s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                failure = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._decode(response, shown)
                if status not in self.policy.retry_statuses:
                    raise self._fatal(response, shown)
                failure = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
                response.close()
            self._wait(attempt, failure, shown, retry_after, started)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    # -------------------------------------------------------------------- internals

    def _wait(self, attempt: int, failure: str, shown: str, retry_after: float | None,
              started: float) -> None:
        policy = self.policy
        if attempt >= policy.max_attempts:
            raise SourceUnavailableError(
                f"{shown} kept failing: {failure} (gave up after {attempt} attempts)")
        if retry_after is not None and retry_after > policy.max_retry_after:
            raise SourceUnavailableError(
                f"{shown} asked to wait {retry_after:g} s before retrying ({failure}); "
                "giving up for this run")
        delay = policy.backoff(attempt, None)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if time.monotonic() - started + delay > policy.max_elapsed:
            raise SourceUnavailableError(
                f"{shown} kept failing: {failure} (gave up after {attempt} attempts, "
                f"{policy.max_elapsed:g} s)")
        log.warning("%s for %s; retrying in %.1f s (attempt %d of %d)",
                    failure, shown, delay, attempt + 1, policy.max_attempts)
        policy.sleep(delay)

    def _fatal(self, response: requests.Response, shown: str) -> SourceError | ConfigError:
        status = response.status_code
        if 300 <= status < 400:
            target = self.redact(response.headers.get("Location", "(no Location header)"))
            return ConfigError([
                f"source: {shown} redirects (HTTP {status}) to {target}; redirects are not "
                "followed, so credentials never travel to another address: set "
                "source.base_url (or the stream's url) to the final address"])
        detail = self._detail(response)
        if status in (401, 403):
            return SourceAuthError(
                f"{shown} refused the credentials (HTTP {status}){detail}: check source.auth "
                "(type, user name, password/token/key) and the user's permissions")
        if status == 404:
            return SourceError(f"{shown} does not exist (HTTP 404){detail}: check the stream's "
                               "path and source.base_url")
        return SourceError(f"{shown} answered HTTP {status}{detail}")

    def _detail(self, response: requests.Response) -> str:
        """A short, secret-free hint from an error body (JSON message or HTML title)."""
        text = response.text[:4000]
        message = ""
        try:
            data = json.loads(text)
        except ValueError:
            match = _TITLE.search(text)
            message = match.group(1) if match else _TAGS.sub(" ", text)
            message = _TAGS.sub(" ", message)
        else:
            if isinstance(data, dict):
                for key in ("message", "error", "detail", "title"):
                    if isinstance(data.get(key), str):
                        message = data[key]
                        break
                errors = data.get("errors")
                if not message and isinstance(errors, list) and errors \
                        and isinstance(errors[0], dict):
                    message = str(errors[0].get("detail") or errors[0].get("title") or "")
        # WordPress and its plugins put markup in messages (<strong>Error:</strong> …).
        message = " ".join(html.unescape(_TAGS.sub("", message)).split())[:160]
        return f": {self.redact(message)}" if message else ""

    def _decode(self, response: requests.Response, shown: str) -> Response:
        ctype = response.headers.get("Content-Type", "")
        text = response.text
        try:
            body = json.loads(text) if text.strip() else None
        except RecursionError:
            # A list of records is decoded around the records nested too deep (they
            # become stand-ins the stream dead-letters); anything else cannot be.
            try:
                body = deep_json.loads(text, where=shown)
            except ValueError:
                raise SourceError(
                    f"{shown} answered JSON nested deeper than can be decoded (HTTP "
                    f"{response.status_code}): a plugin or field may hold a runaway "
                    "structure; flatten it in the source") from None
        except ValueError as exc:
            head = text.lstrip()[:200].lower()
            if "html" in ctype.lower() or head.startswith(("<!doctype", "<html")):
                match = _TITLE.search(text)
                title = f" titled {self.redact(' '.join(match.group(1).split())[:100])!r}" \
                    if match else ""
                raise SourceError(
                    f"{shown} answered an HTML page{title} instead of JSON (HTTP "
                    f"{response.status_code}): check the url — a login page, maintenance page "
                    "or a security plugin may be answering") from None
            where = f" at line {exc.lineno} column {exc.colno}" \
                if isinstance(exc, json.JSONDecodeError) else ""
            raise SourceError(
                f"{shown} answered malformed JSON{where} (HTTP {response.status_code}, "
                f"Content-Type {ctype or 'none'!r})") from None
        links = {rel: str(link.get("url", "")) for rel, link in response.links.items()}
        return Response(body, response.headers, links, response.url, shown)


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (credentials go to that origin only)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
