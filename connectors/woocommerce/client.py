"""A WooCommerce REST API v3 client on one ``requests.Session``.

Why not the ``woocommerce`` package from PyPI: it opens a new connection per
call, has no retries and a 5 s timeout (docs/source-api-notes.md §7).  This client adds:

- the framework's :class:`~copernica_sdk.sync.rest.client.RestClient` underneath:
  connection reuse, (connect, read) timeouts of 10 s / 60 s by default, a
  deadline for each whole request (120 s by default: a shop that trickles its
  answer cannot hold the run, and its job lock, forever), redirects refused,
  secrets redacted, and the project's ``RetryPolicy`` (tenacity): retries on
  connection errors, timeouts and HTTP 429/500/502/503/504, honouring
  ``Retry-After``, with exponential backoff and jitter, bounded by attempts and
  by elapsed time (:data:`WOO_RETRY`);
- a page size that halves (100 → 50 → 25 → 12 → 10) after a timeout or 5xx on a
  list request and stays small for the rest of the run, because oversized pages
  are what makes shared hosting time out (woocommerce #22035, #26437);
- errors a shop owner can act on, never containing the key or secret.

List endpoints are paged by ``offset`` rather than ``page`` so that a page size
change mid-listing does not skip or repeat records.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from copernica_sdk import deadline as _deadline
from copernica_sdk.errors import CopernicaError, DeadlineError, HTTPStatusError, ReadTimeout
from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync.errors import (
    ConfigError,
    SourceError,
    SourceUnavailableError,
)
from copernica_sdk.sync.integrity import ListingChecker, hashable_key
from copernica_sdk.sync.rest.client import RestClient, RestResponse
from copernica_sdk.sync.timestamps import to_utc

from ._responses import (
    Page,
    WooHTTPError,
    auth_error,
    page_from,
    status_error,
)
from .auth import AuthMode, choose_auth, make_auth

__all__ = ["WOO_RETRY", "Capabilities", "Page", "WooClient", "WooHTTPError", "parse_version"]

log = logging.getLogger("copernica_sync.connectors.woocommerce")

API_PATH = "wp-json/wc/v3/"
MAX_PER_PAGE = 100
#: modified_after/modified_before for orders shipped in WooCommerce 5.8.0 (PR #30585).
MODIFIED_FILTERS_SINCE = (5, 8)
USER_AGENT = "copernica-sync-woocommerce/0.1"

#: Retries against a shop: 1 s, 2 s, 4 s… (at most 30 s) between five attempts;
#: a ``Retry-After`` up to two minutes is waited out (shared hosting asks for that),
#: all within five minutes.
WOO_RETRY = RetryPolicy(max_attempts=5, initial_backoff=1.0, max_backoff=30.0,
                        max_retry_after=120.0, max_elapsed=300.0)


class _WooRest(RestClient):
    """The framework's REST client with WooCommerce's own error messages."""

    json_hint = ("; a plugin, a PHP notice or a caching/security layer may be corrupting API "
                 "output")

    def __init__(self, base_url: str, *, mode: AuthMode, **kwargs: Any) -> None:
        super().__init__(base_url, name="WooCommerce", setting="url", https_only=False,
                         user_agent=USER_AGENT, **kwargs)
        self.mode = mode

    def error_for(self, response: requests.Response, shown: str) -> SourceError:
        if response.status_code in (401, 403):
            return auth_error(response, shown, self.mode, self.secrets)
        return status_error(response, shown, self.secrets)


@dataclass(frozen=True)
class Capabilities:
    """What the store's orders endpoint can do, detected once per client.

    ``version`` is ``None`` when ``system_status`` is not readable with the key;
    ``modified_filters`` was then probed instead of derived from the version.
    """

    version: str | None
    modified_filters: bool
    orderby_modified: bool

    @property
    def sorted_orders(self) -> bool:
        """Orders can be read in ascending ``date_modified_gmt`` within a window."""
        return self.modified_filters and self.orderby_modified


def parse_version(version: str) -> tuple[int, ...]:
    """``"8.9.1-rc.2"`` → ``(8, 9, 1)``; unparsable parts end the tuple."""
    parts: list[int] = []
    for piece in version.strip().split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


class WooClient:
    """Read-only access to ``{store_url}/wp-json/wc/v3/``.

    ``auth`` forces a transport (``"basic"``, ``"query"``, ``"oauth1"``); by default
    HTTPS uses Basic (query string with ``query_string_auth``) and HTTP uses
    OAuth 1.0a, as WooCommerce itself requires.  ``sleep`` and ``rng`` are
    injectable so tests can count retries without waiting.
    """

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        query_string_auth: bool = False,
        auth: AuthMode | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        deadline: float = _deadline.DEFAULT_DEADLINE,
        per_page: int = MAX_PER_PAGE,
        min_per_page: int = 10,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        self.store_url = _store_url(url)
        parts = urlsplit(self.store_url)
        try:
            self.auth_mode: AuthMode = choose_auth(
                parts.scheme, parts.hostname, query_string_auth=query_string_auth, mode=auth
            )
        except ValueError as exc:
            raise ConfigError([f"url: {exc}"]) from None
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ConfigError([f"per_page: must be between 1 and {MAX_PER_PAGE}, not {per_page}"])
        self.api_url = f"{self.store_url}/{API_PATH}"
        self.per_page = per_page
        self.min_per_page = min(min_per_page, per_page)
        policy = retry or WOO_RETRY
        if sleep is not None:
            policy = policy.with_(sleep=sleep)
        if rng is not None:
            policy = policy.with_(rng=rng)
        self._rest = _WooRest(
            self.api_url, mode=self.auth_mode,
            auth=make_auth(self.auth_mode, consumer_key, consumer_secret),
            timeout=timeout, connect_timeout=connect_timeout, deadline=deadline,
            retry=policy, verify=verify, session=session)
        self._capabilities: Capabilities | None = None
        self._system_status: dict[str, Any] | None = None
        self._system_status_error: SourceError | None = None

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy requests use."""
        return self._rest.retry

    @property
    def timeout(self) -> float:
        """Seconds a read may wait for the shop (each socket read)."""
        return self._rest.timeout

    @property
    def deadline(self) -> float:
        """Seconds one whole request may take."""
        return self._rest.deadline

    def __repr__(self) -> str:
        return f"WooClient({self.store_url!r}, auth={self.auth_mode!r})"

    # ------------------------------------------------------------------- requests

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to ``/wp-json/wc/v3/``) and return its JSON."""
        return self._get(path, dict(params or {}), adaptive=False)[0].body

    def get_page(
        self, path: str, params: Mapping[str, Any] | None = None, *, per_page: int | None = None
    ) -> Page:
        """GET one page of a list endpoint.

        Without ``per_page`` the client's adaptive page size is used (and may be
        halved by a failure of this very request); ``Page.per_page`` tells which.
        """
        send = dict(params or {})
        if per_page is not None:
            send["per_page"] = per_page
        response, used = self._get(path, send, adaptive=per_page is None)
        data = response.body
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceError(
                f"WooCommerce answered HTTP {response.status} with JSON that is not a list "
                f"of records for {response.shown}"
            )
        return page_from(response.raw, data, used if used is not None else per_page,
                         response.shown)

    def scan(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        key: Callable[[dict[str, Any]], Hashable] | None = None,
        max_shifts: int = 25,
    ) -> Iterator[Page]:
        """Every record of a listing, page by page, by ``offset``.

        Offset paging skips a record when one already read drops out of the
        result set (trashed, or modified out of a date window).  Each answer
        carries ``X-WP-Total``; when it shrinks the offset steps back by the
        difference and records already yielded (by ``key``, default ``id``) are
        dropped, so nothing is skipped.  After ``max_shifts`` such steps the scan
        carries on without compensating (and logs it): the next run's lookback
        catches what a wildly changing listing may have shifted.

        Every page goes through a :class:`~copernica_sdk.sync.integrity.ListingChecker`:
        a repeated page, an empty or short page before ``X-WP-Total``, or more
        records than it announced raise ``ListingInconsistentError``; with
        ``orderby=id`` ids must not go backwards.  A last page that is full is
        followed by one more request, which must be empty.
        """
        base = dict(params or {})
        key_of = key or _id_key
        by_id = base.get("orderby") == "id"
        descending = str(base.get("order", "")).lower() == "desc"
        # WooCommerce refuses a per_page it does not serve (400), it never caps it.
        check = ListingChecker(path, ordered=by_id, exact_page_size=True)
        offset = 0
        last_total: int | None = None
        shifts = 0
        while True:
            page = self.get_page(path, {**base, "offset": offset})
            if last_total is not None and page.total is not None and page.total < last_total:
                if shifts < max_shifts:
                    shifts += 1
                    offset = max(0, offset - (last_total - page.total))
                    last_total = page.total
                    continue
                if shifts == max_shifts:
                    shifts += 1
                    log.warning("the %s listing keeps changing while it is read; records that "
                                "shifted will be picked up by the next run", path)
            last_total = page.total
            order = [_id_order(r, descending) for r in page.records] if by_id else None
            verdict = check.page(page.url or path, [key_of(r) for r in page.records], start=offset,
                                 total=page.total, per_page=page.per_page, order=order)
            offset += len(page.records)
            if verdict.fresh:
                yield replace(page, records=[page.records[i] for i in verdict.fresh])
            if not verdict.more:
                return

    # ------------------------------------------------------------- store metadata

    def system_status(self) -> dict[str, Any]:
        """``GET system_status`` (environment only: the full report is slow on big stores)."""
        if self._system_status_error is not None:
            raise self._system_status_error
        if self._system_status is None:
            try:
                data = self.get("system_status", {"_fields": "environment"})
            except SourceUnavailableError:
                raise
            except SourceError as exc:
                # Remembered: capability detection asks again and should not
                # repeat a request that is refused for this key.
                self._system_status_error = exc
                raise
            if not isinstance(data, dict):
                raise SourceError(
                    f"WooCommerce answered unexpected JSON for {self._rest.show(self.api_url + 'system_status')}"
                )
            self._system_status = data
        return self._system_status

    def version(self) -> str | None:
        """The WooCommerce version from ``system_status.environment.version``."""
        environment = self.system_status().get("environment")
        if isinstance(environment, dict) and environment.get("version"):
            return str(environment["version"])
        return None

    def capabilities(self) -> Capabilities:
        """Detect (once) whether orders can be filtered and sorted by modification time."""
        if self._capabilities is None:
            self._capabilities = self._detect()
        return self._capabilities

    def _detect(self) -> Capabilities:
        version: str | None = None
        try:
            version = self.version()
        except SourceUnavailableError:
            raise
        except SourceError as exc:
            # A Read key of a user without manage_woocommerce cannot see
            # system_status; the orders endpoint tells us enough by itself.
            log.info("WooCommerce version unknown (%s); probing the orders endpoint instead", exc)
        if version is not None and parse_version(version):
            modified = parse_version(version) >= MODIFIED_FILTERS_SINCE
        else:
            modified = self.probe_modified_filter()
        caps = Capabilities(version, modified, self.probe_orderby_modified())
        log.info(
            "WooCommerce %s: modified_after filter %s, orderby=modified %s",
            version or "(version unknown)",
            "yes" if caps.modified_filters else "no",
            "yes" if caps.orderby_modified else "no",
        )
        return caps

    def probe_orderby_modified(self) -> bool:
        """Whether ``orderby=modified`` is accepted (older stores answer 400 rest_invalid_param)."""
        try:
            self.get_page("orders", {"orderby": "modified", "order": "asc", "_fields": "id"}, per_page=1)
        except WooHTTPError as exc:
            if exc.status_code == 400 and exc.code in ("rest_invalid_param", None):
                return False
            raise
        return True

    def probe_modified_filter(self) -> bool:
        """Whether ``modified_after`` is honoured, for stores whose version is hidden.

        WordPress ignores unknown parameters, so support shows only in the result:
        asking for orders modified after a date far in the future returns none when
        the filter works, and every order when it is ignored.  An empty store
        counts as supporting it; every path also filters client-side, so a wrong
        guess costs requests, not correctness.
        """
        future = to_utc(datetime.now(UTC) + timedelta(days=3650))
        page = self.get_page(
            "orders",
            {"modified_after": future, "dates_are_gmt": "true", "status": "any", "_fields": "id"},
            per_page=1,
        )
        return not page.records and not page.total

    def close(self) -> None:
        """Release pooled connections."""
        self._rest.close()

    # -------------------------------------------------------------------- internals

    def _get(self, path: str, params: dict[str, Any], *,
             adaptive: bool) -> tuple[RestResponse, int | None]:
        """One logical GET with the framework's retries; the decoded 2xx answer and
        the page size used (adaptive requests only: the size is read for every
        attempt, so one halved by a failure applies to the retry)."""
        used: list[int | None] = [None]

        def send() -> dict[str, Any]:
            if not adaptive:
                return params
            used[0] = self.per_page
            return {**params, "per_page": self.per_page}

        def on_retry(exc: CopernicaError) -> None:
            shrinks = isinstance(exc, ReadTimeout | DeadlineError) or (
                isinstance(exc, HTTPStatusError) and exc.status_code >= 500)
            if adaptive and shrinks:
                self._shrink(exc.message)

        started = time.monotonic()
        response = self._rest.request("GET", path, send, on_retry=on_retry)
        log.debug("GET %s -> %s in %.2f s", response.shown, response.status,
                  time.monotonic() - started)
        return response, used[0]

    def _shrink(self, reason: str) -> None:
        if self.per_page > self.min_per_page:
            self.per_page = max(self.min_per_page, self.per_page // 2)
            log.info("WooCommerce %s: asking for %d records per page from now on", reason, self.per_page)


def _id_order(record: dict[str, Any], descending: bool) -> int | None:
    """A record's place in an ``orderby=id`` listing (None: no usable id)."""
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return -value if descending else value


def _id_key(record: dict[str, Any]) -> Hashable:
    return hashable_key(record.get("id"))


def _store_url(url: str) -> str:
    """Validate the store URL and strip what users paste by mistake."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(["url: must be the shop's address, e.g. https://shop.example.com"])
    if parts.username or parts.password:
        raise ConfigError(["url: must not contain a user name or password; use consumer_key/consumer_secret"])
    if parts.query or parts.fragment:
        raise ConfigError(["url: must not contain a query string or fragment"])
    path = parts.path.rstrip("/")
    for suffix in ("/wp-json/wc/v3", "/wp-json"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    netloc = parts.netloc.lower()
    return f"{parts.scheme}://{netloc}{path}"
