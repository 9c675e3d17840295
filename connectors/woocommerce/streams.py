"""The customers and orders streams of a WooCommerce store.

Both read the window ``[start, until)`` of ``date_modified_gmt`` — half-open,
because WooCommerce's ``modified_before`` is strict.  A record changed at exactly
``until`` (or during the run) is therefore *not* yielded; the next run, whose
start is this run's bookmark minus the lookback, reads it.  So ``read`` never
yields a record changed at or after ``until``, on every path.

Orders on WooCommerce ≥ 5.8 with ``orderby=modified`` come in ascending
``(date_modified_gmt, id)`` order (the stream is *sorted*).  Older stores get a
full scan by id with a client-side filter, and the stream says it is unsorted.
Customers have no server-side date filter at all, so they are always unsorted.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from copernica_sdk.sync.connector import Record, Stream
from copernica_sdk.sync.errors import ListingInconsistentError
from copernica_sdk.sync.integrity import ListingChecker

from ._time import shift, to_wc

if TYPE_CHECKING:
    from .client import WooClient
    from .connector import WooCommerceConnector

__all__ = ["CustomersStream", "OrdersStream"]

log = logging.getLogger("connectors.woocommerce")

REPLICATION_KEY = "date_modified_gmt"
#: Ids per ``include=`` request when fetching changed customers.
INCLUDE_BATCH = 100


def _modified(record: Record) -> str:
    value = record.get(REPLICATION_KEY)
    if not isinstance(value, str) or not value:
        return ""
    if len(value) == 19 and value[10] == "T":
        return value  # already WooCommerce's form; skips a parse per comparison
    return to_wc(value)


def _in_window(modified: str, start: str | None, until: str) -> bool:
    return bool(modified) and (start is None or modified >= start) and modified < until


_T = TypeVar("_T")


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _WooStream(Stream):
    connector: WooCommerceConnector
    primary_key = "id"
    replication_key = REPLICATION_KEY

    @property
    def client(self) -> WooClient:
        return self.connector.client

    def _window(self, start: str | None, until: str) -> tuple[str | None, str]:
        """Normalised ``(start, until)``; ``start=None`` falls back to ``start_date``."""
        begin = start if start is not None else self.connector.start_date
        return (to_wc(begin) if begin is not None else None), to_wc(until)


class OrdersStream(_WooStream):
    """Orders, including trashed ones (so a trashed order's status reaches Copernica).

    ``is_sorted`` is decided by the store's capabilities, detected lazily on
    first access (or by ``connector.check()``, which detects them too).  Read it
    from the instance: on the class it is a property object.
    """

    name = "orders"

    # The base declares a ClassVar; here it depends on the store, hence the ignore.
    @property
    def is_sorted(self) -> bool:  # type: ignore[override]
        return self.client.capabilities().sorted_orders

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        begin, end = self._window(start, until)
        statuses = ["any", "trash"] if self.connector.include_trash else ["any"]
        caps = self.client.capabilities()
        if caps.sorted_orders:
            # Two sorted passes merged into one sorted sequence, so a checkpoint
            # after any page never jumps past a trashed order not yet read.
            passes = [self._sorted_pass(status, begin, end) for status in statuses]
            merged = heapq.merge(*passes, key=lambda r: (_modified(r), r.get("id", 0)))
            yield from _chunks(merged, self.connector.page_size)
            return
        for status in statuses:
            yield from self._scan_pass(status, begin, end, server_filter=caps.modified_filters)

    def _params(self, status: str) -> dict[str, Any]:
        return {"status": status, "dates_are_gmt": "true"}

    def _sorted_pass(self, status: str, start: str | None, until: str) -> Iterator[Record]:
        """One status's orders in ``[start, until)``, ascending, each exactly once.

        Keyset paging (reference §B11 step 3): each request asks for page 1 after
        the newest second seen so far minus one (``modified_after`` is strict),
        and drops the ``(id, date_modified_gmt)`` pairs already emitted in that
        second.  Offsets are never used across seconds, so an order modified
        during the read cannot shift others out of view.  A second holding a
        full page or more is drained by itself (see ``_drain_second``).
        """
        after = shift(start, -1) if start is not None else None
        seen: set[tuple[Any, str]] = set()
        seen_second: str | None = None
        # Keyset pages are each a new query: their X-WP-Total only cross-checks
        # the page it came with; the order must never go backwards (the stream is
        # sorted, so a checkpoint after any page must not pass an unread order).
        check = ListingChecker(f"orders ({status})", ordered=True, exact_page_size=True)
        while True:
            params = {**self._params(status), "orderby": "modified", "order": "asc", "modified_before": until}
            if after is not None:
                params["modified_after"] = after
            page = self.client.get_page("orders", params)
            records = page.records
            full = page.per_page is not None and len(records) >= page.per_page
            first = _modified(records[0]) if records else ""
            if after is not None and records and first <= after:
                # Paging would loop forever: the store (or a plugin/cache in front of
                # it) ignores modified_after although it claims WooCommerce >= 5.8.
                # A listing error: the cursor went backwards, so the bookmark this
                # sorted stream committed in this run is put back (see the engine).
                raise ListingInconsistentError(
                    f"WooCommerce ignored modified_after={after} (returned an order modified at "
                    f"{first}) at {page.url or 'orders'}; orders cannot be read incrementally "
                    "from this store"
                )
            keys = [_keyset_place(r) for r in records]
            check.page(page.url or "orders", [(r.get("id"), k) for r, k in zip(records, keys, strict=True)],
                       start=0, total=page.total, per_page=page.per_page, order=keys, has_next=full)
            if not records:
                return
            last = _modified(records[-1])
            if full and first == last:
                yield from (
                    r for r in self._drain_second(status, first, until)
                    if (r.get("id"), _modified(r)) not in seen and _in_window(_modified(r), start, until)
                )
                after, seen, seen_second = first, set(), None
                continue
            for record in records:
                pair = (record.get("id"), _modified(record))
                if pair not in seen and _in_window(pair[1], start, until):
                    yield record
            if not full:
                return
            if seen_second != last:
                seen = set()
            seen |= {(r.get("id"), m) for r in records if (m := _modified(r)) == last}
            seen_second = last
            after = shift(last, -1)

    def _drain_second(self, status: str, second: str, until: str) -> Iterator[Record]:
        """Every order modified within one second, by id and offset.

        The window is closed (it lies before ``until``), so orders can only leave
        it; the client's scan steps back when ``X-WP-Total`` shrinks.
        """
        params = {
            **self._params(status),
            "orderby": "id",
            "order": "asc",
            "modified_after": shift(second, -1),
            "modified_before": min(shift(second, 1), until),
        }
        for page in self.client.scan("orders", params, key=lambda r: (r.get("id"), _modified(r))):
            yield from page.records

    def _scan_pass(
        self, status: str, start: str | None, until: str, *, server_filter: bool
    ) -> Iterator[list[Record]]:
        """Fallback for stores without ``orderby=modified``: by id, filtered client-side.

        Where the store has the modified filters (≥ 5.8) they still narrow the scan.
        """
        params = {**self._params(status), "orderby": "id", "order": "asc"}
        if server_filter:
            params["modified_before"] = until
            if start is not None:
                params["modified_after"] = shift(start, -1)
        key = lambda r: (r.get("id"), _modified(r))  # noqa: E731
        for page in self.client.scan("orders", params, key=key):
            kept = [r for r in page.records if _in_window(_modified(r), start, until)]
            if kept:
                yield kept


class CustomersStream(_WooStream):
    """Customers (``role`` from the config, default every role).

    WooCommerce cannot filter customers by date, so an incremental read first
    scans ``id`` and ``date_modified_gmt`` only (``_fields``, 100 a request), then
    fetches the changed customers with ``include=`` in batches of 100.  The first
    read (no start) fetches everything directly.

    Customers never modified have ``date_modified_gmt: null``; their
    ``date_created_gmt`` stands in (and is written into the record), so every
    record carries a replication value.
    """

    name = "customers"
    is_sorted = False

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        begin, end = self._window(start, until)
        base = {"orderby": "id", "order": "asc", "role": self.connector.role}
        if begin is None:
            for page in self.client.scan("customers", base):
                kept = [c for c in map(_with_modified, page.records) if _in_window(_modified(c), None, end)]
                if kept:
                    yield kept
            return
        changed: list[Any] = []
        light = {**base, "_fields": "id,date_created_gmt,date_modified_gmt"}
        for page in self.client.scan("customers", light):
            changed.extend(
                c.get("id") for c in map(_with_modified, page.records) if _in_window(_modified(c), begin, end)
            )
        log.info("customers: %d changed since %s", len(changed), begin)
        for batch in _chunks(changed, INCLUDE_BATCH):
            ids = ",".join(str(i) for i in batch)
            for page in self.client.scan("customers", {**base, "include": ids}):
                # Re-checked: a customer may have changed again since the scan.
                kept = [c for c in map(_with_modified, page.records) if _in_window(_modified(c), begin, end)]
                if kept:
                    yield kept


def _with_modified(customer: Record) -> Record:
    if not customer.get(REPLICATION_KEY) and customer.get("date_created_gmt"):
        customer[REPLICATION_KEY] = customer["date_created_gmt"]
    return customer


def _keyset_place(record: Record) -> tuple[str, int] | None:
    """An order's place in the keyset listing, ``(date_modified_gmt, id)``; None when
    its date is unusable (that record's own problem, not the listing's order)."""
    try:
        modified = _modified(record)
    except (ValueError, TypeError, OverflowError):
        return None
    value = record.get("id")
    if not modified or isinstance(value, bool) or not isinstance(value, int):
        return None
    return (modified, value)
