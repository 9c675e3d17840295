"""Listings that lie: hostile pagination for the fake shop's list endpoints.

Set ``shop.lies = ListingLies(...)`` (``None``: honest again).  Positions count
records from 0 in the listing's order, as ``offset`` does; a rule fires for the
page whose records start at or span that position.  Each models something seen
on real shops behind caching plugins, proxies or buggy extensions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from .query import Listing

__all__ = ["ListingLies", "lie"]


@dataclass(frozen=True)
class ListingLies:
    """How list answers lie (each ``None``/0 = honest in that respect).

    - ``endpoint``: ``"customers"`` or ``"orders"``; ``None`` = both.
    - ``repeat_at``: the page holding this position answers with the records of
      the page before it (a stale cache keyed without the offset).
    - ``empty_at``: the page holding this position answers ``[]``, headers honest.
    - ``reverse_at``: the page holding this position answers its records in
      reverse order (the ordering key goes backwards).
    - ``total_delta``: added to ``X-WP-Total`` (``X-WP-TotalPages`` follows):
      negative under-reports, positive over-reports.
    """

    endpoint: str | None = None
    repeat_at: int | None = None
    empty_at: int | None = None
    reverse_at: int | None = None
    total_delta: int = 0


def _hits(position: int | None, start: int, size: int) -> bool:
    return position is not None and start <= position < start + max(size, 1)


def lie(lies: ListingLies | None, endpoint: str, params: Mapping[str, str], listing: Listing,
        again: Callable[[dict[str, str]], Listing]) -> Listing:
    """``listing`` as the lies make it; ``again(params)`` lists with other params."""
    if lies is None or (lies.endpoint is not None and lies.endpoint != endpoint):
        return listing
    per_page = listing.per_page
    offset = params.get("offset")
    start = int(offset) if offset not in (None, "") else (listing.page - 1) * per_page
    records = listing.records
    if _hits(lies.repeat_at, start, per_page) and start > 0:
        earlier = {**params, "offset": str(max(0, start - per_page))}
        records = again(earlier).records
    if _hits(lies.empty_at, start, per_page):
        records = []
    if _hits(lies.reverse_at, start, per_page):
        records = records[::-1]
    # X-WP-TotalPages is recomputed from the lying total by Listing itself.
    return replace(listing, records=records, total=max(0, listing.total + lies.total_delta))
