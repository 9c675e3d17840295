"""Auto-paging over Copernica's ``start``/``length``/``total`` collections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from .errors import ResponseParseError
from .models import Page

__all__ = ["auto_paging"]

T = TypeVar("T")


def auto_paging(fetch: Callable[[int, int], Page[T]], page_size: int, *, operation: str,
                start: int = 0) -> Iterator[T]:
    """Yield every item of a paged result, fetching ``page_size`` items at a time.

    Only one page is held in memory, so a million profiles stream in constant
    memory.  A page that does not start where it was asked to, or that repeats
    the previous page, stops the iteration with :class:`ResponseParseError`
    instead of looping forever.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    previous_first: object = None
    while True:
        page = fetch(start, page_size)
        if page.start != start:
            raise ResponseParseError(
                f"paging loop: asked for items from {start}, got a page starting at {page.start}",
                operation=operation)
        if not page.items:
            return
        first = getattr(page.items[0], "id", page.items[0])
        if previous_first is not None and first == previous_first:
            raise ResponseParseError(f"paging loop: the page at {start} repeats the previous one",
                                     operation=operation)
        previous_first = first
        yield from page.items
        start = page.next_start
        if start >= page.total:
            return
