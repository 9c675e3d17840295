"""Pagination styles: page number, offset/limit, cursor in the body, next URL in the
body, RFC 5988 ``Link`` header, single page.

Each style is a generator of :class:`Page` over one listing.  Shared guards:

- **loop detection** — a request repeated (same URL, same cursor) or a page with
  exactly the records of the page before (an API that ignores the page
  parameter) stops the stream with a :class:`SourceError`, since going on would
  resend the same records forever;
- **page limit** — more than ``max_pages`` pages is an error, not a silent
  truncation, so an unsorted stream never promotes a bookmark over unread data;
- a ``next`` URL on another origin is refused: credentials go to the configured
  site only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from copernica_sdk.sync.connector import Record
from copernica_sdk.sync.errors import SourceError

from ._paths import MISSING, get_path
from .client import Response, same_origin
from .config import PaginateConfig

__all__ = ["Fetch", "Page", "Show", "paginate"]


@dataclass(frozen=True)
class Page:
    """The records of one answer, with the answer itself."""

    records: list[Record]
    response: Response


#: Does one request: ``(url, params) → Page``.
Fetch = Callable[[str, Mapping[str, str]], Page]
#: Renders a request for a message: ``(url, params) → text without secrets``.
Show = Callable[[str, Mapping[str, str]], str]


def paginate(fetch: Fetch, url: str, params: Mapping[str, str], cfg: PaginateConfig,
             show: Show) -> Iterator[Page]:
    """Every page of the listing at ``url`` per ``cfg.style``; ``show`` renders a
    request for messages (without credentials)."""
    guard = _Guard(cfg.max_pages, show)
    styles = {
        "single": _single, "page_number": _page_number, "offset": _offset,
        "cursor": _cursor, "next_url": _next_url, "link_header": _next_url,
    }
    for page in styles[cfg.style](fetch, url, dict(params), cfg, guard):
        guard.check_content(page)
        yield page


class _Guard:
    """Page counting and loop detection for one listing."""

    def __init__(self, max_pages: int, show: Show) -> None:
        self.max_pages = max_pages
        self.show = show
        self.pages = 0
        self.requests: set[str] = set()
        self.last_digest: str | None = None

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

    def check_content(self, page: Page) -> None:
        if not page.records:
            return
        digest = hashlib.sha256(json.dumps(page.records, sort_keys=True, default=str)
                                .encode()).hexdigest()
        if digest == self.last_digest:
            raise SourceError(
                f"pagination loop: {page.response.shown} returned the same records as the page "
                "before; the API seems to ignore the paging parameter (check paginate settings)")
        self.last_digest = digest


def _get(fetch: Fetch, guard: _Guard, url: str, params: Mapping[str, str]) -> Page:
    guard.request(url, params)
    return fetch(url, params)


def _single(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    yield _get(fetch, guard, url, params)


def _int_at(value: Any) -> int | None:
    if isinstance(value, bool) or value is MISSING or value is None:
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
        return _int_at(get_path(page.response.body, cfg.total_pages_path))
    return None


def _page_number(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
                 guard: _Guard) -> Iterator[Page]:
    """``page=1,2,…`` until an empty page, the last of the total pages, or (without a
    total) a page shorter than ``page_size``."""
    if cfg.size_param and cfg.page_size:
        params[cfg.size_param] = str(cfg.page_size)
    number = cfg.first_page
    while True:
        page = _get(fetch, guard, url, {**params, cfg.page_param: str(number)})
        if not page.records:
            return
        yield page
        total = _total_pages(page, cfg)
        if total is not None:
            if number - cfg.first_page + 1 >= total:
                return
        elif cfg.page_size and len(page.records) < cfg.page_size:
            return
        number += 1


def _offset(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    """``offset=0,n,2n…&limit=n`` until an empty page, ``total_path`` reached, or a
    short page when there is no total."""
    limit = cfg.page_size or 100
    offset = 0
    while True:
        page = _get(fetch, guard, url, {**params, cfg.offset_param: str(offset),
                                         cfg.limit_param: str(limit)})
        if not page.records:
            return
        yield page
        offset += len(page.records)
        total = _int_at(get_path(page.response.body, cfg.total_path)) \
            if cfg.total_path is not None else None
        if total is not None:
            if offset >= total:
                return
        elif len(page.records) < limit:
            return


def _cursor(fetch: Fetch, url: str, params: dict[str, str], cfg: PaginateConfig,
            guard: _Guard) -> Iterator[Page]:
    """First request plain, then ``cursor_param=<token at cursor_path>`` until the
    token is missing, null or empty."""
    if cfg.size_param and cfg.page_size:
        params[cfg.size_param] = str(cfg.page_size)
    send = dict(params)
    while True:
        page = _get(fetch, guard, url, send)
        yield page
        token = get_path(page.response.body, cfg.cursor_path)
        if token is MISSING or token in (None, "", False):
            return
        if not page.records:
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
        page = _get(fetch, guard, current, send)
        yield page
        if cfg.style == "link_header":
            target: Any = page.response.links.get("next")
        else:
            target = get_path(page.response.body, cfg.next_url_path)
            if isinstance(target, dict):
                target = target.get("href")
        if not isinstance(target, str) or not target:
            return
        nxt = urljoin(page.response.url, target)
        if not same_origin(nxt, url):
            raise SourceError(f"{page.response.shown} sent a next page on another site "
                              f"({nxt.split('?')[0]}); not following it with the credentials")
        # The next URL carries its own query string.
        current, send = nxt, {}
