"""The customers and orders streams of a WooCommerce store.

Both read the window ``[start, until)`` of ``date_modified_gmt`` — half-open,
because WooCommerce's ``modified_before`` is strict.  A record changed at exactly
``until`` (or during the run) is therefore *not* yielded to be synced; the next
run, whose start is this run's bookmark minus the lookback, reads it.  So ``read``
never yields a record changed at or after ``until`` to sync, on every path —
except one dated later than *now*, which no change can be (below).

Orders on WooCommerce ≥ 5.8 with ``orderby=modified`` come in ascending
``(date_modified_gmt, id)`` order (the stream is *sorted*).  Older stores get a
full scan by id with a client-side filter, and the stream says it is unsorted.
Customers have no server-side date filter at all, so they are always unsorted.

Every record the store returns is accounted for (see :func:`_place`): one whose
``date_modified_gmt`` cannot be read is yielded all the same (the engine
dead-letters it, naming the field and value) and one without a date is synced
whenever the store returns it; one dated in the future (a wrong clock, an
import) is synced now instead of waiting for that date — the engine caps the
bookmark at the run start, so the next run sees it again — and one changed
during the run is yielded as :class:`Skipped` (:data:`DEFERRED`): the next run
reads it.  Only records *before* ``start``, unchanged since the last run, are left
out: the store hands those over only because it cannot filter them itself.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from copernica_sdk.sync.connector import DEFERRED, PageItem, Record, Rejected, Skipped, Stream
from copernica_sdk.sync.errors import ListingInconsistentError
from copernica_sdk.sync.integrity import ListingChecker, hashable_key
from copernica_sdk.sync.timestamps import shift, to_utc

from ._responses import UNREADABLE
from .refunds import with_refund_totals

if TYPE_CHECKING:
    from .client import WooClient
    from .connector import WooCommerceConnector

__all__ = ["CustomersStream", "OrdersStream"]

log = logging.getLogger("copernica_sync.connectors.woocommerce")

REPLICATION_KEY = "date_modified_gmt"
#: Ids per ``include=`` request when fetching changed customers.
INCLUDE_BATCH = 100


def _modified(record: Record) -> str:
    """``date_modified_gmt`` in WooCommerce's form, or ``""`` when absent or unreadable."""
    value = record.get(REPLICATION_KEY)
    if not isinstance(value, str) or not value:
        return ""
    try:
        if len(value) == 19 and value[10] == "T":
            datetime.fromisoformat(value)  # validates (2024-13-45… is not a date)
            return value  # already WooCommerce's form
        return to_utc(value, epoch_numbers=False)
    except (ValueError, OverflowError):
        return ""


def _horizon(until: str) -> str:
    """Later than any real modification time: now (or ``until``, if that is later)."""
    return max(until, to_utc(datetime.now(UTC)))


def _place(record: Record, start: str | None, until: str, horizon: str) -> PageItem | None:
    """What a read does with one record the store returned; ``None``: leave it out
    (changed before ``start``, i.e. synced by an earlier run)."""
    if UNREADABLE in record:
        return Rejected(record, str(record[UNREADABLE]))
    modified = _modified(record)
    if not modified:
        # No date, or one that cannot be read: synced (or dead-lettered by the
        # engine, which names the value) whenever the store returns the record.
        return record
    if start is not None and modified < start:
        return None
    if modified < until or modified > horizon:
        # In the window, or dated in the future, which no change can be: synced
        # now; the bookmark is capped at the run start, so it never parks there.
        return record
    return Skipped(record, DEFERRED)


def _placed(records: Iterable[Record], start: str | None, until: str) -> list[PageItem]:
    horizon = _horizon(until)
    return [item for r in records if (item := _place(r, start, until, horizon)) is not None]


def _pair(record: Record) -> tuple[Any, str]:
    """An order's identity within a listing: id and modification time as sent."""
    return hashable_key(record.get("id")), str(record.get(REPLICATION_KEY))


def _order_key(item: PageItem) -> tuple[str, int, str]:
    record = item if isinstance(item, dict) else item.record
    # Ids are whole numbers; one that is not (a broken plugin) must not break the merge.
    ident = record.get("id", 0)
    number = ident if isinstance(ident, int) and not isinstance(ident, bool) else -1
    return _modified(record), number, "" if number >= 0 else repr(ident)


_T = TypeVar("_T")


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _WooStream(Stream):
    connector: WooCommerceConnector
    primary_key = "id"
    replication_key = REPLICATION_KEY
    read_ahead = True  # reading is all a read does: the next page may come early

    @property
    def client(self) -> WooClient:
        return self.connector.client

    def _window(self, start: str | None, until: str) -> tuple[str | None, str]:
        """Normalised ``(start, until)``; ``start=None`` falls back to ``start_date``."""
        begin = start if start is not None else self.connector.start_date
        return (to_utc(begin, epoch_numbers=False) if begin is not None else None), \
            to_utc(until, epoch_numbers=False)


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

    def read(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        """Pages of orders, each with its refunded and net totals (see refunds.py)."""
        for page in self._read_orders(start, until):
            yield [with_refund_totals(item) if isinstance(item, dict) else item for item in page]

    def _read_orders(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        begin, end = self._window(start, until)
        horizon = _horizon(end)
        statuses = ["any", "trash"] if self.connector.include_trash else ["any"]
        caps = self.client.capabilities()
        if caps.sorted_orders:
            # Two sorted passes merged into one sorted sequence, so a checkpoint
            # after any page never jumps past a trashed order not yet read.  Each
            # ends with the orders dated in the future, which lie after the run
            # start, where the bookmark is capped: their order does not matter.
            passes = [itertools.chain(self._sorted_pass(status, begin, end),
                                      self._future_pass(status, horizon))
                      for status in statuses]
            merged = heapq.merge(*passes, key=_order_key)
            yield from _chunks(merged, self.connector.page_size)
            return
        for status in statuses:
            yield from self._scan_pass(status, begin, end, server_filter=caps.modified_filters)
            if caps.modified_filters:
                future: list[PageItem] = list(self._future_pass(status, horizon))
                yield from _chunks(future, self.connector.page_size)

    def _params(self, status: str) -> dict[str, Any]:
        return {"status": status, "dates_are_gmt": "true"}

    def _future_pass(self, status: str, horizon: str) -> Iterator[Record]:
        """One status's orders dated after ``horizon`` (now): ``modified_before`` hides
        them from the window's passes, and they must not wait for that date."""
        params = {**self._params(status), "orderby": "id", "order": "asc",
                  "modified_after": horizon}
        for page in self.client.scan("orders", params, key=_pair):
            yield from page.records

    def _sorted_pass(self, status: str, start: str | None, until: str) -> Iterator[PageItem]:
        """One status's orders in ``[start, until)``, ascending, each exactly once.

        Keyset paging (docs/source-api-notes.md §9, step 2): each request asks for page 1 after
        the newest second seen so far minus one (``modified_after`` is strict),
        and drops the ``(id, date_modified_gmt)`` pairs already emitted in that
        second.  Offsets are never used across seconds, so an order modified
        during the read cannot shift others out of view.  A second holding a
        full page or more is drained by itself (see ``_drain_second``).
        """
        after = shift(start, -1) if start is not None else None
        horizon = _horizon(until)
        seen: set[tuple[Any, str]] = set()
        seen_second: str | None = None
        # Orders whose date cannot be read: yielded once (the engine dead-letters
        # them); the keyset moves on the dated orders around them.
        undated: set[Any] = set()

        def fresh(record: Record) -> PageItem | None:
            if not _modified(record):
                key = _pair(record)
                if key in undated:
                    return None
                undated.add(key)
            elif _pair(record) in seen:
                return None
            return _place(record, start, until, horizon)

        # Within one keyset query, pages of nothing but unreadable dates are stepped
        # over by offset (the query's order is the store's, whatever the answer says).
        offset = 0
        # Keyset pages are each a new query: their X-WP-Total only cross-checks
        # the page it came with; the order must never go backwards (the stream is
        # sorted, so a checkpoint after any page must not pass an unread order).
        check = ListingChecker(f"orders ({status})", ordered=True, exact_page_size=True)
        while True:
            params = {**self._params(status), "orderby": "modified", "order": "asc", "modified_before": until}
            if after is not None:
                params["modified_after"] = after
            if offset:
                params["offset"] = offset
            page = self.client.get_page("orders", params)
            records = page.records
            dated = [m for r in records if (m := _modified(r))]
            if after is not None and dated and dated[0] <= after:
                # Paging would loop forever: the store (or a plugin/cache in front of
                # it) ignores modified_after although it claims WooCommerce >= 5.8.
                # A listing error: the cursor went backwards, so the bookmark this
                # sorted stream committed in this run is put back (see the engine).
                raise ListingInconsistentError(
                    f"WooCommerce ignored modified_after={after} (returned an order modified at "
                    f"{dated[0]}) at {page.url or 'orders'}; orders cannot be read incrementally "
                    "from this store"
                )
            keys = [_keyset_place(r, until) for r in records]
            check.page(page.url or "orders", [(r.get("id"), k) for r, k in zip(records, keys, strict=True)],
                       start=offset, total=page.total, per_page=page.per_page, order=keys,
                       has_next=page.per_page is not None and len(records) >= page.per_page)
            if not records:
                return
            full = page.per_page is not None and len(records) >= page.per_page
            if not dated:
                yield from (item for r in records if (item := fresh(r)) is not None)
                if not full:
                    return
                offset += len(records)
                continue
            offset = 0
            first, last = dated[0], dated[-1]
            if full and first == last:
                # The drain covers the page's dated orders; the undated ones it holds
                # are not in that second as far as the answer says, so they go now.
                yield from (item for r in records
                            if not _modified(r) and (item := fresh(r)) is not None)
                yield from (item for r in self._drain_second(status, first, until)
                            if (item := fresh(r)) is not None)
                after, seen, seen_second = first, set(), None
                continue
            yield from (item for r in records if (item := fresh(r)) is not None)
            if not full:
                return
            if seen_second != last:
                seen = set()
            seen |= {_pair(r) for r in records if _modified(r) == last}
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
        for page in self.client.scan("orders", params, key=_pair):
            yield from page.records

    def _scan_pass(
        self, status: str, start: str | None, until: str, *, server_filter: bool
    ) -> Iterator[list[PageItem]]:
        """Fallback for stores without ``orderby=modified``: by id, filtered client-side.

        Where the store has the modified filters (≥ 5.8) they still narrow the scan.
        """
        params = {**self._params(status), "orderby": "id", "order": "asc"}
        if server_filter:
            params["modified_before"] = until
            if start is not None:
                params["modified_after"] = shift(start, -1)
        for page in self.client.scan("orders", params, key=_pair):
            kept = _placed(page.records, start, until)
            if kept:
                yield kept


class CustomersStream(_WooStream):
    """Customer accounts of the configured roles (``role``: default
    ``customer,subscriber``; ``all`` for every account, staff included).

    WooCommerce filters by one role per request: one role is sent to the shop;
    several are read as ``role=all`` and filtered here by each record's ``role``
    (the same requests as one role, and staff accounts are few).  WooCommerce
    cannot filter customers by date, so an incremental read first scans ``id``
    and ``date_modified_gmt`` only (``_fields``, 100 a request), then fetches the
    changed customers with ``include=`` in batches of 100.  The first read (no
    start) fetches everything directly.

    Customers never modified have ``date_modified_gmt: null``; their
    ``date_created_gmt`` stands in (and is written into the record), so every
    record carries a replication value.
    """

    name = "customers"
    is_sorted = False

    def read(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        begin, end = self._window(start, until)
        roles = self.connector.roles
        wanted = None if len(roles) == 1 else frozenset(roles)
        base = {"orderby": "id", "order": "asc", "role": roles[0] if wanted is None else "all"}

        def keep(records: Iterable[Record], since: str | None) -> list[PageItem]:
            # Several roles are read as role=all and filtered here: the others are
            # counted as skipped, like every record the store returned.
            return [Skipped(item, f"role {item.get('role')!r} not in source.role")
                    if isinstance(item, dict) and wanted is not None
                    and item.get("role") not in wanted else item
                    for item in _placed(map(_with_modified, records), since, end)]

        if begin is None:
            for page in self.client.scan("customers", base):
                if kept := keep(page.records, None):
                    yield kept
            return
        changed: list[Any] = []
        light = {**base, "_fields": "id,date_created_gmt,date_modified_gmt"}
        horizon = _horizon(end)
        for page in self.client.scan("customers", light):
            changed.extend(
                c.get("id") for c in map(_with_modified, page.records)
                if _place(c, begin, end, horizon) is not None
            )
        log.info("customers: %d changed since %s", len(changed), begin)
        for batch in _chunks(changed, INCLUDE_BATCH):
            ids = ",".join(str(i) for i in batch)
            for page in self.client.scan("customers", {**base, "include": ids}):
                # Re-checked: a customer may have changed again since the scan.
                if kept := keep(page.records, begin):
                    yield kept


def _with_modified(customer: Record) -> Record:
    if not customer.get(REPLICATION_KEY) and customer.get("date_created_gmt"):
        customer[REPLICATION_KEY] = customer["date_created_gmt"]
    return customer


def _keyset_place(record: Record, until: str) -> tuple[str, int] | None:
    """An order's place in the keyset listing, ``(date_modified_gmt, id)``; None when
    its date is unusable or contradicts the query (``modified_before=until``): that is
    the record's own problem (synced or dead-lettered by itself), not the listing's
    order."""
    try:
        modified = _modified(record)
    except (ValueError, TypeError, OverflowError):
        return None
    value = record.get("id")
    if not modified or modified >= until or isinstance(value, bool) or not isinstance(value, int):
        return None
    return (modified, value)
