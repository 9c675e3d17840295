"""Paginators, with the names people know from dlt: offset, page number, cursor in
the JSON body, next link in the JSON body, ``Link`` header, single page.

A paginator is a small frozen description of how a listing pages
(:class:`OffsetPaginator`, :class:`PageNumberPaginator`,
:class:`JSONResponseCursorPaginator`, :class:`JSONLinkPaginator`,
:class:`HeaderLinkPaginator`, :class:`SinglePagePaginator`);
:func:`paginate` walks a listing with one and yields :class:`Page` after page.
Every walk is guarded:

- **listing integrity** — every page goes through
  :class:`~copernica_sdk.sync.integrity.ListingChecker`: a page that repeats an
  earlier one (an API that ignores the page parameter, a cache), an empty or
  short page before the announced total (``total_path``, ``total_pages_header``),
  more records than announced, or — in a listing declared ordered — an ordering
  value that goes backwards stop the stream with
  :class:`~copernica_sdk.sync.errors.ListingInconsistentError` (exit code 5, the
  bookmark stays).  A record served twice (edited while the listing is read) is
  yielded once; when records moved in a listing paged by position, the listing is
  read once more for what they shifted;
- **loop detection** — the same request twice (same URL, same cursor) stops it;
- **page limit** — more than ``max_pages`` pages is an error, not a silent
  truncation, so an unsorted stream never promotes a bookmark over unread data;
- a next link to another origin is refused: credentials go to the configured
  site only.

Paths (``total_path``, ``cursor_path``, ``next_url_path``) point into the JSON
body in the project's one path grammar (:mod:`copernica_sdk.sync.paths`, the
mapping's too): ``meta.total``, ``links.next.href``, ``links[rel=next].href``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin

from ..connector import Record
from ..errors import SourceAuthError, SourceError, SourceUnavailableError
from ..integrity import ListingChecker, PageVerdict
from ..paths import Path, as_path
from .client import RestResponse, same_origin

__all__ = [
    "Fetch",
    "Guard",
    "HeaderLinkPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "Key",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "Paginator",
    "Show",
    "SinglePagePaginator",
    "paginate",
]

log = logging.getLogger("copernica_sdk.sync.rest")

Params = dict[str, str]


@dataclass(frozen=True)
class Page:
    """The records of one answer, with the answer itself."""

    records: list[Record]
    response: RestResponse


#: Does one request: ``(url, params) → Page`` (the records already selected).
Fetch = Callable[[str, Mapping[str, str]], Page]
#: Renders a request for a message: ``(url, params) → text without secrets``.
Show = Callable[[str, Mapping[str, str]], str]
#: A record's identity (primary key) or its ordering value, from the raw record.
Key = Callable[[Record], Any]


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else as_path(value)


@dataclass(frozen=True)
class Paginator:
    """Base of the paginators.  ``max_pages``: more pages than this in one listing
    is an error (raise it if a listing really is that long)."""

    max_pages: int = 1000
    #: Pages by position (offset or page number, also inside next links): a record
    #: moving during the read shifts others past a page boundary.
    positional: ClassVar[bool] = False

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        """The pages of one read of the listing (used by :func:`paginate`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SinglePagePaginator(Paginator):
    """The whole listing in one answer."""

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        page, _ = guard.check(guard.get(fetch, url, params), has_next=False)
        yield page


@dataclass(frozen=True)
class OffsetPaginator(Paginator):
    """``offset=0,n,2n…&limit=n`` until an empty page, the total at ``total_path``,
    or (without a total) a page shorter than ``limit``."""

    limit: int = 100
    offset: int = 0
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_path: str | Path | None = None
    positional: ClassVar[bool] = True

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        offset, probe = self.offset, False
        total_path = _path(self.total_path)
        while True:
            send = {**params, self.offset_param: str(offset), self.limit_param: str(self.limit)}
            raw = guard.probe(fetch, url, send) if probe else guard.get(fetch, url, send)
            if raw is None:
                return
            total = _int(total_path.get(raw.response.body)) if total_path is not None else None
            page, verdict = guard.check(raw, start=offset - self.offset, total=total,
                                        per_page=self.limit)
            if page.records:
                yield page
            if not verdict.more:
                return
            probe = verdict.probe
            offset += len(raw.records)


@dataclass(frozen=True)
class PageNumberPaginator(Paginator):
    """``page=1,2,…`` until an empty page, the last of the announced pages
    (``total_pages_header`` or ``total_path`` in the body), or (without a total) a
    page shorter than ``page_size``.  ``page_size`` is sent as ``size_param``
    when both are set."""

    base_page: int = 1
    page_param: str = "page"
    page_size: int | None = None
    size_param: str | None = None
    total_path: str | Path | None = None
    total_pages_header: str | None = None
    positional: ClassVar[bool] = True

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        _size(params, self.size_param, self.page_size)
        number, probe = self.base_page, False
        while True:
            send = {**params, self.page_param: str(number)}
            raw = guard.probe(fetch, url, send) if probe else guard.get(fetch, url, send)
            if raw is None:
                return
            page, verdict = guard.check(raw, page=number - self.base_page,
                                        pages=self._total_pages(raw), per_page=self.page_size)
            if page.records:
                yield page
            if not verdict.more:
                return
            probe = verdict.probe
            number += 1

    def _total_pages(self, page: Page) -> int | None:
        if self.total_pages_header:
            found = _int(page.response.headers.get(self.total_pages_header))
            if found is not None:
                return found
        path = _path(self.total_path)
        return _int(path.get(page.response.body)) if path is not None else None


@dataclass(frozen=True)
class JSONResponseCursorPaginator(Paginator):
    """First request plain, then ``cursor_param=<value at cursor_path>`` until the
    cursor is missing, null or empty (or a page is empty)."""

    cursor_path: str | Path = "cursors.next"
    cursor_param: str = "cursor"
    page_size: int | None = None
    size_param: str | None = None

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        _size(params, self.size_param, self.page_size)
        path = as_path(self.cursor_path)
        send = dict(params)
        while True:
            raw = guard.get(fetch, url, send)
            token = path.get(raw.response.body)
            more = token not in (None, "", False) and bool(raw.records)
            page, _ = guard.check(raw, has_next=more)
            yield page
            if not more:
                return
            send = {**params, self.cursor_param: str(token)}


@dataclass(frozen=True)
class _NextLink(Paginator):
    """Follows a next URL until there is none.  An empty page does not end the
    listing: JSON:API filters records by access after paging, so only a missing
    next link does (Drupal's documented rule)."""

    page_size: int | None = None
    size_param: str | None = None
    positional: ClassVar[bool] = True

    def next_url(self, page: Page) -> Any:
        raise NotImplementedError

    def pages(self, fetch: Fetch, url: str, params: Params, guard: Guard) -> Iterator[Page]:
        _size(params, self.size_param, self.page_size)
        current, send = url, dict(params)
        while True:
            raw = guard.get(fetch, current, send)
            target = self.next_url(raw)
            if isinstance(target, dict):  # a JSON:API link object
                target = target.get("href")
            more = isinstance(target, str) and bool(target)
            page, _ = guard.check(raw, has_next=more)
            yield page
            if not isinstance(target, str) or not target:
                return
            nxt = urljoin(raw.response.url, target)
            if not same_origin(nxt, url):
                raise SourceError(f"{raw.response.shown} sent a next page on another site "
                                  f"({nxt.split('?')[0]}); not following it with the "
                                  "credentials")
            current, send = nxt, {}  # the next URL carries its own query string


@dataclass(frozen=True)
class JSONLinkPaginator(_NextLink):
    """The next page's URL at ``next_url_path`` in the body (a string, or a link
    object with ``href``)."""

    next_url_path: str | Path = "next"

    def next_url(self, page: Page) -> Any:
        return as_path(self.next_url_path).get(page.response.body)


@dataclass(frozen=True)
class HeaderLinkPaginator(_NextLink):
    """The next page's URL in the RFC 8288 ``Link`` header (``rel="next"``)."""

    links_next_key: str = "next"

    def next_url(self, page: Page) -> Any:
        return page.response.links.get(self.links_next_key)


def paginate(paginator: Paginator, fetch: Fetch, url: str, params: Mapping[str, str], *,
             show: Show, key: Key | None = None, order: Key | None = None,
             listing: str = "records") -> Iterator[Page]:
    """Every page of the listing at ``url``, each record once.

    ``fetch`` does one request and selects its records; ``show`` renders a request
    for messages (without credentials).  ``key`` gives a record's primary key
    (default: its whole content), ``order`` its ordering value in a listing sorted
    ascending (``None``: not sorted, or the record has none); ``listing`` names the
    listing in messages.
    """
    checker = ListingChecker(listing, ordered=order is not None)
    ident = key or _content_key
    yield from paginator.pages(fetch, url, {k: str(v) for k, v in params.items()},
                               Guard(paginator.max_pages, show, checker, ident, order))
    if checker.moved and paginator.positional:
        # A record edited during the read moved behind the read position (or one
        # left the listing), which shifts unread ones back past it: one more read
        # finds what shifted.
        log.info("%s: records moved while the listing was read; reading it once more "
                 "for records they shifted", listing)
        yield from paginator.pages(fetch, url, {k: str(v) for k, v in params.items()},
                                   Guard(paginator.max_pages, show, checker.again(), ident, None))


class Guard:
    """Page counting, loop detection and the listing's integrity checks for one read
    (what a custom :class:`Paginator` calls: :meth:`get`, :meth:`probe`, :meth:`check`)."""

    def __init__(self, max_pages: int, show: Show, checker: ListingChecker, key: Key,
                 order: Key | None) -> None:
        self.max_pages = max_pages
        self.show = show
        self.checker = checker
        self.key = key
        self.order = order
        self.pages = 0
        self._requests: set[str] = set()

    def get(self, fetch: Fetch, url: str, params: Mapping[str, str]) -> Page:
        """Count and loop-check the request, then do it."""
        signature = url + "?" + json.dumps(sorted(params.items()))
        shown = self.show(url, params)
        if signature in self._requests:
            raise SourceError(f"pagination loop: {shown} was already requested in this listing; "
                              "the API keeps sending the same next page (check the paginator)")
        self._requests.add(signature)
        self.pages += 1
        if self.pages > self.max_pages:
            raise SourceError(f"more than {self.max_pages} pages in this listing (at {shown}); "
                              "raise the paginator's max_pages if that is expected")
        return fetch(url, params)

    def probe(self, fetch: Fetch, url: str, params: Mapping[str, str]) -> Page | None:
        """The request past an announced end; None when the API refuses it, which
        confirms the end (WordPress answers HTTP 400 for a page past X-WP-TotalPages)."""
        try:
            return self.get(fetch, url, params)
        except (SourceAuthError, SourceUnavailableError):
            raise
        except SourceError:
            self.checker.probe_refused()
            return None

    def _identity(self, record: Record) -> Hashable:
        """The key as JSON text (``1`` and ``"1"`` stay apart), or the record's
        content when the key function finds none."""
        value = self.key(record)
        if value is None:
            return ("content", _content_key(record))
        return ("key", json.dumps(value, sort_keys=True, default=str))

    def check(self, answer: Page, **where: Any) -> tuple[Page, PageVerdict]:
        """Check ``answer`` (``where``: its position, see ``ListingChecker.page``); the
        page with only the records not served before, and the verdict."""
        records = answer.records
        order = [self.order(r) for r in records] if self.order is not None else None
        verdict = self.checker.page(answer.response.shown, [self._identity(r) for r in records],
                                    order=order, **where)
        return Page([records[i] for i in verdict.fresh], answer.response), verdict


def _content_key(record: Record) -> Hashable:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _size(params: Params, size_param: str | None, page_size: int | None) -> None:
    if size_param and page_size:
        params[size_param] = str(page_size)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None

