"""``RestClient``: the HTTP plumbing of a REST source, owned by the framework.

One ``requests.Session`` (connections reused) and, for every request:

- **auth** — an :mod:`~copernica_sdk.sync.rest.auth` authenticator; plain ``http``
  is refused (``ConfigError``) unless the host is loopback, or ``https_only=False``
  and the authenticator does not send its secret in clear (OAuth 1.0a signing);
- **deadline** — (connect, read) timeouts plus a deadline for the whole call
  (:mod:`copernica_sdk.deadline`), so a server that trickles its answer cannot
  hold a run, and its job lock, forever; ``max_bytes`` caps the body;
- **retries** — the project's :class:`~copernica_sdk.retry.RetryPolicy` (tenacity):
  connection errors, timeouts and the policy's ``retry_statuses`` (429, 500,
  502, 503, 504) are retried with exponential backoff and jitter, waiting at
  least ``Retry-After``; a ``Retry-After`` longer than ``max_retry_after``, or a
  wait that would end past ``max_elapsed``, gives up at once.  Giving up is
  :class:`~copernica_sdk.sync.errors.SourceUnavailableError` (exit code 5: the
  stream stops, its bookmark stays, the next run picks up);
- **redirects** — refused by default (``ConfigError`` naming both addresses):
  credentials would travel to whatever host the server names.
  ``redirects="same_origin"`` follows a redirect to the same scheme, host and
  port (and an http→https upgrade of the same host), never another host and
  never https→http;
- **status** — 401/403 → :class:`~copernica_sdk.sync.errors.SourceAuthError`
  (exit code 4); other 4xx → :class:`SourceHTTPError` (a ``SourceError``;
  ``per_record`` tells a 404/410/422 of one record's own URL, which a stream may
  yield as :class:`~copernica_sdk.sync.connector.Rejected`);
- **JSON** — decoded with clear errors naming the (redacted) URL, the status
  and what came instead (an HTML login or maintenance page is named by its
  title); a list of records nested deeper than the parser allows is decoded
  around the damage (:mod:`copernica_sdk.sync.deep_json`);
- **redaction** — every URL and message passes :mod:`copernica_sdk.redaction`
  with the authenticator's secrets; urllib3's and oauthlib's debug logs too.

Subclass hooks (a connector with its own error vocabulary, e.g. WooCommerce):
:meth:`RestClient.error_for` builds the error for a non-2xx answer,
:meth:`RestClient.hint` adds advice to it, ``json_hint`` to decode errors.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import tenacity

from copernica_sdk import deadline as _deadline
from copernica_sdk._net import is_loopback
from copernica_sdk.errors import (
    ConnectError,
    ConnectTimeout,
    CopernicaError,
    DeadlineError,
    HTTPStatusError,
    RateLimitError,
    ReadError,
    ReadTimeout,
)
from copernica_sdk.redaction import install_log_redaction, redact, redact_url
from copernica_sdk.retry import CallKind, RetryPolicy, parse_retry_after

from .. import deep_json
from ..errors import ConfigError, SourceAuthError, SourceError, SourceUnavailableError
from .auth import Authenticator, NoAuth

__all__ = [
    "DEFAULT_SOURCE_RETRY",
    "RestClient",
    "RestResponse",
    "SourceHTTPError",
    "error_detail",
    "same_origin",
]

log = logging.getLogger("copernica_sdk.sync.rest")

#: The retry policy of source reads by default: patient with a struggling source
#: (a minute and a half at most), but never waits out a ``Retry-After`` of minutes.
DEFAULT_SOURCE_RETRY = RetryPolicy(max_attempts=5, max_elapsed=90.0, initial_backoff=1.0,
                                   max_backoff=30.0, max_retry_after=60.0)

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_REDIRECTS = 5
#: Statuses that concern the one record a URL names, not the source.
RECORD_STATUSES = frozenset({404, 410, 422})


class SourceHTTPError(SourceError):
    """The source answered an HTTP error that retrying will not fix.

    ``status_code``; ``code`` and ``detail``: the API's own error code and message,
    when its body said (``{"code": …, "message": …}`` and the common variants).
    ``per_record``: a 404/410/422 — for a request about one record (``GET
    /orders/17``) that record's own problem: yield it as ``Rejected(record,
    str(error))`` and the run goes on.
    """

    def __init__(self, message: str, *, status_code: int, code: str | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.detail = detail

    @property
    def per_record(self) -> bool:
        return self.status_code in RECORD_STATUSES


@dataclass(frozen=True)
class RestResponse:
    """A 2xx answer, decoded.

    ``body``: the JSON (``None`` for an empty body); ``headers``; ``links``: the
    ``Link`` header's relations (``{"next": url}``); ``url``: the URL answered
    (with its query, credentials included — for following links, never for
    showing); ``shown``: the request as messages show it (redacted);
    ``raw``: the ``requests.Response``.
    """

    body: Any
    status: int
    headers: Mapping[str, str]
    links: Mapping[str, str]
    url: str
    shown: str
    raw: requests.Response = field(repr=False, compare=False)


Params = Mapping[str, Any]


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (credentials go to that origin only)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, (pa.hostname or "").lower(), _port(pa)) == \
        (pb.scheme, (pb.hostname or "").lower(), _port(pb))


def _port(parts: Any) -> int | None:
    try:
        port: int | None = parts.port
    except ValueError:
        return None
    return port if port is not None else {"http": 80, "https": 443}.get(parts.scheme)


def error_detail(response: requests.Response) -> tuple[str | None, str]:
    """An error body's code and a short message, secret-free once redacted: JSON
    ``code``/``message`` (``error``, ``detail``, ``title``, JSON:API ``errors[0]``)
    or an HTML page's title; markup stripped, one line, at most 160 characters."""
    text = response.text[:4000]
    code: str | None = None
    message = ""
    try:
        data = json.loads(text)
    except ValueError:
        match = _TITLE.search(text)
        message = match.group(1) if match else _TAGS.sub(" ", text)
    else:
        if isinstance(data, dict):
            raw_code = data.get("code")
            code = str(raw_code) if isinstance(raw_code, str | int) and raw_code != "" else None
            for key in ("message", "error_description", "error", "detail", "title"):
                if isinstance(data.get(key), str):
                    message = data[key]
                    break
            errors = data.get("errors")
            if not message and isinstance(errors, list) and errors and isinstance(errors[0], dict):
                message = str(errors[0].get("detail") or errors[0].get("title") or "")
    # WordPress and its plugins put markup in messages (<strong>Error:</strong> …).
    message = " ".join(_CONTROL.sub(" ", html.unescape(_TAGS.sub("", message))).split())
    return code, message[:160]


class RestClient:
    """Requests to one REST source; see the module docstring for what each does.

    ``base_url``: where relative paths resolve (``https://api.example.com/v1/``).
    ``name``: the source in messages (``"WooCommerce"``, ``"the Hello API"``);
    ``setting``: the config key of the address, named in configuration errors.
    ``secrets``: more values to mask beside the authenticator's.
    ``retry``: the policy (its ``sleep`` is injectable: tests count retries
    without waiting).  ``session``: bring your own (a ``DeadlineAdapter`` is
    mounted on new ones).
    """

    #: Appended to a JSON decode error: what usually causes one at this source.
    json_hint: str = ""

    def __init__(self, base_url: str, *, auth: Authenticator | None = None,
                 name: str = "the source", headers: Mapping[str, str] | None = None,
                 timeout: float = 60.0, connect_timeout: float = 10.0,
                 deadline: float = _deadline.DEFAULT_DEADLINE, max_bytes: int | None = None,
                 retry: RetryPolicy | None = None,
                 redirects: Literal["refuse", "same_origin"] = "refuse",
                 https_only: bool = True, verify: bool | str = True,
                 secrets: Iterable[str] = (), user_agent: str = "copernica-sync",
                 setting: str = "base_url", session: requests.Session | None = None) -> None:
        self.auth: Authenticator = auth or NoAuth()
        self.setting = setting
        self.base_url = self._checked_base(base_url, https_only)
        self.name = name
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.deadline = float(deadline)
        self.max_bytes = max_bytes
        self.retry = retry or DEFAULT_SOURCE_RETRY
        if redirects not in ("refuse", "same_origin"):
            raise ValueError(f"redirects must be 'refuse' or 'same_origin', not {redirects!r}")
        self.redirects = redirects
        self.secrets: tuple[str, ...] = tuple(s for s in (*self.auth.secrets, *secrets) if s)
        self._session = session or _deadline.new_session()
        self._session.verify = verify
        self._session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self._session.headers.update(dict(headers or {}))
        install_log_redaction(self.secrets)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, auth={self.auth!r})"

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    # ------------------------------------------------------------------ showing

    def url(self, path: str) -> str:
        """``path`` resolved against ``base_url`` (an absolute URL stays as it is)."""
        if urlsplit(path).scheme:
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def show(self, url: str, params: Params | None = None) -> str:
        """``url`` with ``params`` as a message may show it (credentials removed)."""
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None},
                          doseq=True, safe=",:[]")
        joined = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        return redact_url(joined, self.secrets)

    def redact(self, text: str) -> str:
        """``text`` with this client's secrets and every credential shape masked."""
        return redact(text, self.secrets)

    # ----------------------------------------------------------------- requests

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` and return its decoded JSON."""
        return self.request("GET", path, params).body

    def request(self, method: str, path: str, params: Params | Callable[[], Params] | None = None,
                *, json: Any = None, headers: Mapping[str, str] | None = None,
                on_retry: Callable[[CopernicaError], None] | None = None,
                kind: CallKind = CallKind.READ) -> RestResponse:
        """One logical request with retries; the decoded answer of its 2xx response.

        ``params`` may be a function, evaluated for every attempt (a page size
        that shrinks after a timeout); ``on_retry`` is called with the transient
        error (a ``copernica_sdk.errors`` ``TransportError`` or ``HTTPStatusError``)
        before each wait.  ``kind``: whether a repeat is safe (reads are; a
        ``CallKind.WRITE`` is repeated only when the request never left).
        """
        url = self.url(path)
        attempts = 0
        started = time.monotonic()
        shown = self.show(url, _params(params))
        retrying = self.retry.retrying(f"{method} {shown}", kind, strict=True)
        if on_retry is not None:
            before = retrying.before_sleep

            def before_sleep(state: tenacity.RetryCallState) -> None:
                exc = state.outcome.exception() if state.outcome else None
                if isinstance(exc, CopernicaError):
                    on_retry(exc)
                if before is not None:
                    before(state)

            retrying = retrying.copy(before_sleep=before_sleep)
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    send = _params(params)
                    shown = self.show(url, send)
                    return self._once(method, url, send, shown, json, headers)
        except (HTTPStatusError, ConnectError, ConnectTimeout, ReadError, ReadTimeout) as exc:
            raise self._gave_up(exc, shown, attempts, time.monotonic() - started) from None
        raise AssertionError("unreachable: tenacity re-raises the last error")

    # ---------------------------------------------------------------- overrides

    def hint(self, status: int, code: str | None) -> str:
        """Advice appended to the error for ``status`` (override for a source's own
        advice; start it with ``"; "``)."""
        if status in (401, 403):
            return "; check the credentials and the permissions of the user or key"
        if status == 404:
            return "; check the path and the source's base URL"
        return ""

    def error_for(self, response: requests.Response, shown: str) -> SourceError:
        """The error for a non-2xx answer that retrying will not fix (not 3xx)."""
        status = response.status_code
        code, message = error_detail(response)
        if code and message:
            quoted = f'{code}: "{message}"'
        else:
            quoted = code or (f'"{message}"' if message else "")
        detail = f" ({quoted})" if quoted else ""
        hint = self.hint(status, code)
        if status in (401, 403):
            return SourceAuthError(self.redact(
                f"{self.name} refused the credentials (HTTP {status}){detail} for {shown}{hint}"))
        if status == 404:
            text = f"{shown} does not exist (HTTP 404){detail}{hint}"
        else:
            text = f"{self.name} answered HTTP {status}{detail} for {shown}{hint}"
        return SourceHTTPError(self.redact(text), status_code=status, code=code,
                               detail=self.redact(message) or None)

    # ---------------------------------------------------------------- internals

    def _checked_base(self, base_url: str, https_only: bool) -> str:
        text = (base_url or "").strip()
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError([f"{self.setting}: {text!r} is not an http(s) address, e.g. "
                               "https://api.example.com"])
        if parts.username or parts.password:
            raise ConfigError([f"{self.setting}: must not contain a user name or password; "
                               "configure the credentials as settings of their own"])
        if parts.scheme == "http" and not is_loopback(parts.hostname) \
                and (https_only or self.auth.in_clear):
            raise ConfigError([
                f"{self.setting}: must use https (plain http only on localhost/loopback): "
                "over http the credentials travel in clear text"])
        return text if text.endswith("/") else text + "/"

    def _once(self, method: str, url: str, params: Params, shown: str, body: Any,
              headers: Mapping[str, str] | None) -> RestResponse:
        """One attempt: the decoded 2xx answer, a transient SDK error to retry, or a
        final error."""
        current, send = url, dict(params)
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._send(method, current, send, shown, body, headers)
            status = response.status_code
            if not 300 <= status < 400:
                break
            target = self._redirect_target(response, current, shown)
            log.info("%s redirects to %s; following (same origin)", shown, self.redact(target))
            current, send = target, {}  # the Location carries its own query
        else:
            raise SourceError(f"{shown} redirected more than {_MAX_REDIRECTS} times")
        if 200 <= status < 300:
            return self._decode(response, shown)
        if status in self.retry.retry_statuses:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
            message = f"HTTP {status}"
            if retry_after is not None or status == 429:
                raise RateLimitError(message, status_code=status, retry_after=retry_after)
            raise HTTPStatusError(message, status_code=status)
        raise self.error_for(response, shown)

    def _send(self, method: str, url: str, params: Params, shown: str, body: Any,
              headers: Mapping[str, str] | None) -> requests.Response:
        try:
            return _deadline.request(
                self._session, method, url, params=dict(params) or None, json=body,
                headers=dict(headers or {}), auth=self.auth, deadline=self.deadline,
                timeout=(self.connect_timeout, self.timeout), max_bytes=self.max_bytes,
                allow_redirects=False)
        except _deadline.DeadlineExceeded as exc:
            raise DeadlineError(f"no complete answer within the {self.deadline:g} s deadline "
                                f"({exc.received} bytes received)") from None
        except _deadline.BodyTooLarge:
            raise SourceError(f"{shown}: the answer is larger than {self.max_bytes} bytes; "
                              "refused (ask for smaller pages)") from None
        except requests.exceptions.SSLError:
            raise SourceError(f"TLS/SSL verification failed for {shown}: check the "
                              "certificate of the source (or the address's scheme)") from None
        except requests.ConnectTimeout:
            raise ConnectTimeout(f"could not connect within {self.connect_timeout:g} s") from None
        except requests.Timeout:
            raise ReadTimeout(f"no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            if "NewConnectionError" in repr(exc) or "NameResolution" in repr(exc):
                raise ConnectError(f"could not connect ({type(exc).__name__})") from None
            raise ReadError(f"connection failed ({type(exc).__name__})") from None
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise ReadError(f"the answer broke off ({type(exc).__name__})") from None
        except requests.exceptions.InvalidURL:
            raise SourceError(f"{shown} is not a valid address") from None

    def _redirect_target(self, response: requests.Response, current: str, shown: str) -> str:
        location = response.headers.get("Location")
        status = response.status_code
        target = urljoin(current, location) if location else ""
        response.close()
        if self.redirects == "same_origin" and target:
            a, b = urlsplit(current), urlsplit(target)
            upgrade = a.scheme == "http" and b.scheme == "https" and \
                (a.hostname or "").lower() == (b.hostname or "").lower()
            if same_origin(current, target) or upgrade:
                return target
        shown_target = redact_url(target, self.secrets) if target else "(no Location header)"
        why = "redirects are not followed" if self.redirects == "refuse" else \
            "it points to another site (or from https to http)"
        raise ConfigError([
            f"{self.setting}: {shown} redirects (HTTP {status}) to {shown_target}; {why}, so "
            "credentials never travel to another address: set the base URL to the final "
            "address (https, with or without www as the site itself uses)"])

    def _decode(self, response: requests.Response, shown: str) -> RestResponse:
        # A byte-order mark before the JSON (PHP files saved with one) is not an error.
        text = response.text.removeprefix("\ufeff")
        try:
            body = json.loads(text) if text.strip() else None
        except RecursionError:
            # A list of records is decoded around the records nested too deep (they
            # become stand-ins the stream rejects); anything else cannot be.
            try:
                body = deep_json.loads(text, where=shown)
            except ValueError:
                raise SourceError(
                    f"{self.name} answered JSON nested deeper than can be decoded for {shown} "
                    f"(HTTP {response.status_code}): a field may hold a runaway structure; "
                    "flatten it in the source") from None
        except ValueError as exc:
            raise SourceError(self._not_json(response, shown, exc)) from None
        links = {str(rel): str(link.get("url", "")) for rel, link in response.links.items()}
        return RestResponse(body, response.status_code, response.headers, links, response.url,
                            shown, response)

    def _not_json(self, response: requests.Response, shown: str, exc: ValueError) -> str:
        ctype = response.headers.get("Content-Type", "")
        kind = ctype.split(";")[0].strip() or "no content type"
        text = response.text
        where = f" at line {exc.lineno} column {exc.colno}" \
            if isinstance(exc, json.JSONDecodeError) else ""
        message = (f"{self.name} answered HTTP {response.status_code} with {kind} that is not "
                   f"valid JSON{where} for {shown}")
        head = text.lstrip()[:200].lower()
        match = _TITLE.search(text)
        if match and ("html" in ctype.lower() or head.startswith(("<!doctype", "<html"))):
            title = self.redact(" ".join(match.group(1).split())[:100])
            message += (f": an HTML page titled {title!r} — check the address; a login page, "
                        "a maintenance page or a security plugin may be answering")
        else:
            start = self.redact(" ".join(_CONTROL.sub(" ", text[:160]).split()))[:80]
            message += f" (starts with: {start!r})" if start else " (empty body)"
        return message + self.json_hint

    def _gave_up(self, exc: CopernicaError, shown: str, attempts: int,
                 elapsed: float) -> SourceUnavailableError:
        policy = self.retry
        if isinstance(exc, RateLimitError) and exc.retry_after is not None \
                and exc.retry_after > policy.max_retry_after:
            text = (f"{self.name} at {shown} asked to wait {exc.retry_after:g} s before retrying "
                    f"({exc.message}); giving up for this run")
        elif attempts < policy.max_attempts:
            text = (f"{self.name} at {shown} kept failing: {exc.message} (gave up after "
                    f"{attempts} attempts: the next wait would pass the "
                    f"{policy.max_elapsed:g} s limit)")
        else:
            text = (f"{self.name} at {shown} kept failing: {exc.message} (gave up after "
                    f"{attempts} attempts)")
        err = SourceUnavailableError(self.redact(text))
        err.attempts = attempts
        return err


def _params(params: Params | Callable[[], Params] | None) -> dict[str, Any]:
    if params is None:
        return {}
    found = params() if callable(params) else params
    return {k: v for k, v in found.items() if v is not None}

