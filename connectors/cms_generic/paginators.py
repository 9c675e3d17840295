"""Pagination styles: page number, offset/limit, cursor in the body, next URL in the
body, RFC 5988 ``Link`` header, single page.

Each style is a generator of :class:`Page` over one listing.  Shared guards:

- **listing integrity** — every page goes through the SDK's
  :class:`~copernica_sdk.sync.integrity.ListingChecker`: a page that repeats an
  earlier one (an API that ignores the page parameter, a cache), an empty or
  short page before the announced total (``total_path``, ``total_pages_*``), more
  records than announced, or — in a ``sorted`` stream — a cursor value that
  goes backwards stop the stream with a ``ListingInconsistentError``.  A record
  served twice (edited while the listing is read) is yielded once;
- **loop detection** — a request repeated (same URL, same cursor) stops the
  stream, since going on would resend the same records forever;
- **page limit** — more than ``max_pages`` pages is an error, not a silent
  truncation, so an unsorted stream never promotes a bookmark over unread data;
- a ``next`` URL on another origin is refused: credentials go to the configured
  site only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from copernica_sdk.sync.connector import Record
from copernica_sdk.sync.errors import SourceAuthError, SourceError, SourceUnavailableError
from copernica_sdk.sync.integrity import ListingChecker, PageVerdict

from .client import Response, same_origin
from .config import PaginateConfig

__all__ = ["Fetch", "Key", "Page", "Show", "paginate"]

log = logging.getLogger("copernica_sync.connectors.cms_generic")


@dataclass(frozen=True)
class Page:
    """The records of one answer, with the answer itself."""

    records: list[Record]
    response: Response


#: Does one request: ``(url, params) → Page``.
Fetch = Callable[[str, Mapping[str, str]], Page]
#: Renders a request for a message: ``(url, params) → text without secrets``.
Show = Callable[[str, Mapping[str, str]], str]
#: A record's identity (primary key) or its ordering value, from the raw record.
Key = Callable[[Record], Any]


def paginate(fetch: Fetch, url: str, params: Mapping[str, str], cfg: PaginateConfig,
             show: Show, *, key: Key | None = None, order: Key | None = None,
             listing: str = "records") -> Iterator[Page]:
    """Every page of the listing at ``url`` per ``cfg.style``, each record once;
    ``show`` renders a request for messages (without credentials).

    ``key`` gives a record's primary key (default: its whole content), ``order``
    its ordering value in a listing sorted ascending (``None``: not sorted, or
    the record has none); ``listing`` names the listing in messages.
    """
    style = _STYLES[cfg.style]
    checker = ListingChecker(listing, ordered=order is not None)
    yield from style(fetch, url, dict(params), cfg, _Guard(cfg.max_pages, show, checker,
                                                           key or _content_key, order))
    if checker.moved and cfg.style in _POSITIONAL:
        # A record edited during the read moved behind the read position (or one
        # left the listing), which shifts unread ones back past it: one more read
        # finds what shifted.
        log.info("%s: records moved while the listing was read; reading it once more "
                 "for records they shifted", listing)
        yield from style(fetch, url, dict(params), cfg, _Guard(cfg.max_pages, show,
                                                               checker.again(),
                                                               key or _content_key, None))


#: Styles that page by position (offset or page number, also inside next links),
#: where a record moving during the read shifts others past a page boundary.
_POSITIONAL = frozenset({"page_number", "offset", "next_url", "link_header"})


def _content_key(record: Record) -> Hashable:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()




class _Guard:
    """Page counting, loop detection and the listing's integrity checks."""

    def __init__(self, max_pages: int, show: Show, checker: ListingChecker, key: Key,
                 order: Key | None) -> None:
        self.max_pages = max_pages
        self.show = show
        self.checker = checker
        self.key = key
        self.order = order
        self.pages = 0
        self.requests: set[str] = set()

    def request(self, url: str, params: Mapping[str, str]) -> None:
        """Called before each request."""
        key = url + "?" + json.dumps(sorted(params.items()))
        shown = self.show(url, params)
        if key in self.requests:
            raise SourceError(f"pagination loop: {shown} was already requested in this listing; "
                              "the API keeps sending the same next page (check paginate.style)")
        self.requests.add(key)
        self.pages += 1
        if self.pages > self.max_pages:
            raise SourceError(f"more than {self.max_pages} pages in this listing (at {shown}); "
                              "raise paginate.max_pages if that is expected")

    def _identity(self, record: Record) -> Hashable:
        """A hashable identity: the key as JSON text (``1`` and ``"1"`` stay
        apart), or the record's content when the key function finds none."""
        value = self.key(record)
        if value is None:
            return ("content", _content_key(record))
        return ("key", json.dumps(value, sort_keys=True, default=str))

    def check(self, answer: Page, **where: Any) -> tuple[Page, PageVerdict]:
        """Check ``answer`` (``where``: its position, see ListingChecker.page); the
        page with only the records not served before, and the verdict."""
        records = answer.records
        order = [self.order(r) for r in records] if self.order is not None else None
        verdict = self.checker.page(answer.response.shown, [self._identity(r) for r in records],
                                    order=order, **where)
        return Page([records[i] for i in verdict.fresh], answer.response), verdict


def _get(fetch: Fetch, guard: _Guard, url: str, params: Mapping[str, str]) -> Page:
    guard.request(url, params)
    return fetch(url, params)


def _probe(fetch: Fetch, guard: _Guard, url: str, params: Mapping[str, str]) -> Page | None:
    """The request past an announced end; None when the API refuses it, which
    confirms the end (WordPress answers HTTP 400 for a page past X-WP-TotalPages)."""
    try:
        return _get(fetch, guard, url, params)
    except (SourceAuthError, SourceUnavailableError):
        raise
    except SourceError:
        guard.checker.probe_refused()
        return None


def _single(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    page, _ = guard.check(_get(fetch, guard, url, params), has_next=False)
    yield page


def _int_at(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _total_pages(page: Page, cfg: PaginateConfig) -> int | None:
    if cfg.total_pages_header:
        found = _int_at(page.response.headers.get(cfg.total_pages_header))
        if found is not None:
            return found
    if cfg.total_pages_path is not None:
        return _int_at(cfg.total_pages_path.get(page.response.body))
    return None


def _page_number(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
                 guard: _Guard) -> Iterator[Page]:
    """``page=1,2,…`` until an empty page, the last of the total pages, or (without a
    total) a page shorter than ``page_size``."""
    if cfg.size_param and cfg.page_size:
        params[cfg.size_param] = str(cfg.page_size)
    number = cfg.first_page
    probe = False
    while True:
        send = {**params, cfg.page_param: str(number)}
        raw = _probe(fetch, guard, url, send) if probe else _get(fetch, guard, url, send)
        if raw is None:
            return
        page, verdict = guard.check(raw, page=number - cfg.first_page,
                                    pages=_total_pages(raw, cfg), per_page=cfg.page_size)
        if page.records:
            yield page
        if not verdict.more:
            return
        probe = verdict.probe
        number += 1


def _offset(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    """``offset=0,n,2n…&limit=n`` until an empty page, ``total_path`` reached, or a
    short page when there is no total."""
    limit = cfg.page_size or 100
    offset = 0
    probe = False
    while True:
        send = {**params, cfg.offset_param: str(offset), cfg.limit_param: str(limit)}
        raw = _probe(fetch, guard, url, send) if probe else _get(fetch, guard, url, send)
        if raw is None:
            return
        total = _int_at(cfg.total_path.get(raw.response.body)) \
            if cfg.total_path is not None else None
        page, verdict = guard.check(raw, start=offset, total=total, per_page=limit)
        if page.records:
            yield page
        if not verdict.more:
            return
        probe = verdict.probe
        offset += len(raw.records)


def _cursor(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    """First request plain, then ``cursor_param=<token at cursor_path>`` until the
    token is missing, null or empty."""
    if cfg.size_param and cfg.page_size:
        params[cfg.size_param] = str(cfg.page_size)
    send = dict(params)
    while True:
        raw = _get(fetch, guard, url, send)
        token = cfg.cursor_path.get(raw.response.body)
        more = token not in (None, "", False) and bool(raw.records)
        page, _ = guard.check(raw, has_next=more)
        yield page
        if not more:
            return
        send = {**params, cfg.cursor_param: str(token)}


def _next_url(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
              guard: _Guard) -> Iterator[Page]:
    """Follow the ``next`` URL from the body (``next_url_path``; a JSON:API link
    object's ``href`` too) or from the ``Link`` header, until there is none.

    An empty page does not end the listing: JSON:API filters records by access
    after paging, so only a missing ``next`` does (Drupal's documented rule).
    """
    if cfg.size_param and cfg.page_size:
        params[cfg.size_param] = str(cfg.page_size)
    current, send = url, dict(params)
    while True:
        raw = _get(fetch, guard, current, send)
        if cfg.style == "link_header":
            target: Any = raw.response.links.get("next")
        else:
            target = cfg.next_url_path.get(raw.response.body)
            if isinstance(target, dict):
                target = target.get("href")
        more = isinstance(target, str) and bool(target)
        page, _ = guard.check(raw, has_next=more)
        yield page
        if not isinstance(target, str) or not target:
            return
        nxt = urljoin(raw.response.url, target)
        if not same_origin(nxt, url):
            raise SourceError(f"{raw.response.shown} sent a next page on another site "
                              f"({nxt.split('?')[0]}); not following it with the credentials")
        # The next URL carries its own query string.
        current, send = nxt, {}


_STYLES: dict[str, Callable[[Fetch, str, dict[str, str], PaginateConfig, _Guard],
                            Iterator[Page]]] = {
    "single": _single, "page_number": _page_number, "offset": _offset,
    "cursor": _cursor, "next_url": _next_url, "link_header": _next_url,
}
