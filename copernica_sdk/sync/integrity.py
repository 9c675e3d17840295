"""Listing integrity: notice a paginated listing that lies, tell it from a live one.

A stream that reads a listing page by page trusts the source to serve every
record once.  A caching plugin, a broken proxy or a buggy endpoint can break
that silently — answer one offset with an earlier page, announce fewer or more
records than it serves, answer an empty page in the middle — and a reader that
believes it stops early, reports success and moves its bookmark past records it
never saw.  :class:`ListingChecker` is fed every page of one listing and raises
:class:`~copernica_sdk.sync.errors.ListingInconsistentError` (a ``SourceError``:
the engine ends the stream with exit code 5 and keeps its bookmark) when:

- a page carries exactly the keys of an earlier page (a repeated page), unless
  the announced total shrank meanwhile (a reader stepping back re-reads);
- a page is empty before the announced end (``total`` records or ``pages``
  pages), or shorter than ``per_page`` before it (an over-reported total);
- a page serves records past the announced end, or the page after a full last
  page still has records (an under-reported total: the reader *probes* one page
  past an announced end that falls on a page boundary, see :attr:`PageVerdict.probe`);
- in an ``ordered`` listing, a record not seen before sorts before one already
  read (the ordering key, or the cursor it derives from, went backwards).

What a live source does while it is read is *not* an error: a record edited
during the scan and served again on a later page is dropped as a duplicate (by
key: :attr:`PageVerdict.fresh`), and a total that grows or shrinks by a few is
followed, since every check uses the total announced with the page itself.  In
a listing paged by position such a move also shifts one unread record back past
the read position; :attr:`ListingChecker.duplicates` counts the moves, and a
reader that saw any reads the listing once more with :meth:`ListingChecker.again`.

Usage, for an offset listing::

    check = ListingChecker("customers", ordered=True)
    offset = 0
    while True:
        page = api.get("/customers", offset=offset, limit=100)
        verdict = check.page(shown_url, [r["id"] for r in page.records], start=offset,
                             total=page.total, per_page=100,
                             order=[r["id"] for r in page.records])
        yield [page.records[i] for i in verdict.fresh]
        offset += len(page.records)
        if not verdict.more:
            break

Cursor and next-link listings pass ``has_next`` (the listing's own "there is
more" signal) instead; a total, if the answer has one, then only cross-checks
that page.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ListingInconsistentError

__all__ = ["ListingChecker", "ListingInconsistentError", "PageVerdict", "hashable_key"]


@dataclass(frozen=True)
class PageVerdict:
    """What a reader does with one page.

    ``fresh``: indexes of the page's records not seen before in this listing (in
    order) — yield only these.  ``more``: whether to request the next page.
    ``probe``: the next request only confirms an announced end that fell on a
    page boundary; a source that refuses a request past its end (WordPress
    answers HTTP 400 for a page number past ``X-WP-TotalPages``) may be taken as
    confirming it (:meth:`ListingChecker.probe_refused`).
    """

    fresh: tuple[int, ...]
    more: bool
    probe: bool = False


@dataclass(frozen=True)
class _Seen:
    where: str
    total: int | None


class ListingChecker:
    """Checks the pages of one listing, in the order they were read.

    ``listing`` names it in messages (``"customers"``); ``ordered`` says the
    listing is sorted ascending by the ``order`` values passed with each page.
    ``exact_page_size``: the source serves ``per_page`` records on every page but
    the last (it refuses a size it does not support, as WooCommerce does), so even
    the first page may be short only at the end; by default the first page sets
    the page size, because many APIs silently cap it.
    One checker per listing (one scan); it keeps the keys seen so far.
    """

    def __init__(self, listing: str, *, ordered: bool = False,
                 exact_page_size: bool = False) -> None:
        self.listing = listing
        self.ordered = ordered
        self.exact_page_size = exact_page_size
        # Every key seen, and every page's keys, as _stored() keeps them (compact:
        # they are held until the listing is read to its end).
        self._keys: set[Hashable] = set()
        self._pages: dict[tuple[Hashable, ...], _Seen] = {}
        self._highest: Any = None
        self._highest_key: Hashable = None
        self._probing: str | None = None
        self.pages = 0
        self.duplicates = 0
        self.shrank = False
        self._last_total: int | None = None
        self._largest = 0

    def page(self, where: str, keys: Sequence[Hashable], *, start: int | None = None,
             total: int | None = None, per_page: int | None = None,
             page: int | None = None, pages: int | None = None,
             order: Sequence[Any] | None = None, has_next: bool | None = None) -> PageVerdict:
        """Check one page and say which of its records to keep and whether to go on.

        ``where``: the request, for messages (without credentials).  ``keys``: the
        records' primary keys.  ``start``: the position of the first record in the
        listing (the offset) and ``total`` the record count the answer announced;
        or ``page`` (counting from 0) and ``pages``, the announced page count.
        ``per_page``: the page size asked for.  ``order``: each record's ordering
        value (``None`` for a record without one), for ``ordered`` listings.
        ``has_next``: the listing's own signal that another page follows (cursor,
        next link); when given it decides ``more``.

        Raises ListingInconsistentError when the page contradicts the listing.
        """
        self.pages += 1
        # A key the source sent as a list or table (`"id": [1]`) is that record's
        # problem (its dead letter), not a reason for the check to fail.
        keys = [hashable_key(key) for key in keys]
        count = len(keys)
        if self._probing is not None:
            announced, self._probing = self._probing, None
            if not count:
                return PageVerdict((), False)
            grew = (start is not None and total is not None and start + count <= total) or \
                (page is not None and pages is not None and page < pages)
            if not grew:
                raise self._error(where, f"the listing announced {announced}, but the page "
                                  f"after that end still has {count} record(s): the announced "
                                  "total is lower than what the source serves")
            # Records were added since the last page, and this answer counts them.
        stored = [_stored(key) for key in keys]
        self._check_repeat(where, stored, total)
        fresh = tuple(i for i, key in enumerate(stored) if key not in self._keys)
        self.duplicates += count - len(fresh)
        size = total if total is not None else pages
        if size is not None:
            if self._last_total is not None and size < self._last_total:
                self.shrank = True
            self._last_total = size
        if self.ordered and order is not None:
            self._check_order(where, keys, order, fresh)
        self._keys.update(stored)
        try:
            if has_next is not None:
                self._cross_check(where, count, start, total, per_page, page, pages)
                return PageVerdict(fresh, has_next)
            return self._decide(where, fresh, count, start, total, per_page, page, pages)
        finally:
            self._largest = max(self._largest, count)

    @property
    def moved(self) -> bool:
        """Whether records moved while the listing was read: one was served twice,
        or the announced total shrank (records left it).  In a listing paged by
        position either shifts unread records past the read position."""
        return self.duplicates > 0 or self.shrank

    def again(self) -> ListingChecker:
        """A checker for reading the same listing once more: the records seen so
        far stay seen (a re-read yields only what the first read missed), while
        repeats and order are checked afresh within the new read.

        Why: in a listing paged by position (offset, page number), a record that
        is edited while it is read and moves behind the read position shifts an
        unread record back across a page boundary, where no page serves it.  The
        only trace is the moved record served twice (:attr:`duplicates`); reading
        the listing again finds what shifted.
        """
        other = ListingChecker(self.listing, ordered=self.ordered,
                               exact_page_size=self.exact_page_size)
        other._keys = set(self._keys)
        return other

    def probe_refused(self) -> None:
        """The request past an announced end was refused: the end is confirmed."""
        self._probing = None

    # -- checks ---------------------------------------------------------------------

    def _error(self, where: str, what: str) -> ListingInconsistentError:
        return ListingInconsistentError(
            f"the {self.listing} listing is inconsistent at {where}: {what}; stopping this "
            "stream without moving its bookmark (it is read again next run)")

    def _check_repeat(self, where: str, keys: Sequence[Hashable], total: int | None) -> None:
        if not keys:
            return
        signature = tuple(keys)
        earlier = self._pages.get(signature)
        if earlier is not None:
            shrank = total is not None and earlier.total is not None and total < earlier.total
            if not shrank:
                raise self._error(where, f"the page repeats the {len(keys)} record(s) of the "
                                  f"earlier page {earlier.where}")
        self._pages[signature] = _Seen(where, total)

    def _check_order(self, where: str, keys: Sequence[Hashable], order: Sequence[Any],
                     fresh: tuple[int, ...]) -> None:
        # Only records not seen before count: one served again after an edit
        # (or after a reader stepped back) is a duplicate, not a step backwards.
        for index in fresh:
            value = order[index] if index < len(order) else None
            if value is None:
                continue
            try:
                backwards = self._highest is not None and value < self._highest
            except TypeError:
                continue  # not comparable (an id of another type): the record's own problem
            if backwards:
                raise self._error(where, f"the listing is ordered but record {keys[index]!r} "
                                  f"({value!r}) comes after record {self._highest_key!r} "
                                  f"({self._highest!r}): the order (or the cursor) went "
                                  "backwards")
            self._highest, self._highest_key = value, keys[index]

    def _short(self, count: int, per_page: int | None) -> bool:
        """Whether a page before the end is shorter than the listing's pages.

        Measured against the largest page served so far, not only the size asked
        for: many APIs silently cap the page size (ask 200, get 100 on every page),
        which is not a lie.  The first page therefore sets the size."""
        if per_page is None:
            return False
        if self.exact_page_size:
            return count < per_page
        return bool(self._largest) and count < min(per_page, self._largest)

    def _usual(self, per_page: int | None) -> int:
        if self.exact_page_size or not self._largest:
            return per_page or self._largest
        return min(per_page or self._largest, self._largest)

    def _cross_check(self, where: str, count: int, start: int | None, total: int | None,
                     per_page: int | None, page: int | None, pages: int | None) -> None:
        """A total the answer carries must agree with the page it came with."""
        if start is not None and total is not None:
            self._check_records(where, count, start, total, per_page)
        elif page is not None and pages is not None:
            self._check_pages(where, count, page, pages, per_page)

    def _check_records(self, where: str, count: int, start: int, total: int,
                       per_page: int | None) -> bool:
        """Checks against an announced record count; True: the end is reached."""
        end = start + count
        if count == 0:
            if start < total:
                raise self._error(where, f"an empty page at offset {start}, before the announced "
                                  f"end ({total} records)")
            return True
        if end > total:
            raise self._error(where, f"the page holds records {start + 1}-{end}, but the "
                              f"listing announced only {total}: the announced total is lower "
                              "than what the source serves")
        if end < total and self._short(count, per_page):
            raise self._error(where, f"a short page ({count} of {self._usual(per_page)} records) at offset "
                              f"{start} ends the listing at {end} records, before the announced "
                              f"{total}")
        return end == total

    def _check_pages(self, where: str, count: int, page: int, pages: int,
                     per_page: int | None) -> bool:
        """Checks against an announced page count; True: the last page is reached."""
        number = page + 1
        if count == 0:
            if number <= pages:
                raise self._error(where, f"page {number} is empty, before the announced last "
                                  f"page ({pages})")
            return True
        if number > pages:
            raise self._error(where, f"page {number} has {count} record(s), but the listing "
                              f"announced only {pages} page(s): the announced total is lower "
                              "than what the source serves")
        if number < pages and self._short(count, per_page):
            raise self._error(where, f"a short page ({count} of {self._usual(per_page)} records) at page "
                              f"{number}, before the announced last page ({pages})")
        return number == pages

    def _decide(self, where: str, fresh: tuple[int, ...], count: int, start: int | None,
                total: int | None, per_page: int | None, page: int | None,
                pages: int | None) -> PageVerdict:
        full = per_page is not None and count >= per_page
        if start is not None and total is not None:
            if not self._check_records(where, count, start, total, per_page):
                return PageVerdict(fresh, True)
            announced = f"{total} records"
        elif page is not None and pages is not None:
            if not self._check_pages(where, count, page, pages, per_page):
                return PageVerdict(fresh, True)
            announced = f"{pages} page(s)"
        else:
            # No total: the listing ends at an empty or short page.
            return PageVerdict(fresh, count > 0 and (per_page is None or full))
        if count and full:
            # The announced end falls on a page boundary: one more request tells
            # an honest end from a total that is too low.
            self._probing = announced
            return PageVerdict(fresh, True, probe=True)
        return PageVerdict(fresh, False)


def hashable_key(key: Any) -> Hashable:
    """``key`` itself, or a stand-in for a record key that cannot be hashed (a source
    that sends ``"id": [1]``), so sets and checks of keys never fail on it."""
    try:
        hash(key)
    except TypeError:
        return ("unhashable", repr(key))
    return key  # type: ignore[no-any-return]


def _stored(key: Hashable) -> Hashable:
    """How a checker keeps ``key`` in its sets: a value equal to another key's
    stored value exactly when the two keys are equal, but small.

    Why: a checker holds every key of its listing until the listing ends, and a
    key kept as the caller's tuple costs several objects: an order's ``(id,
    (modified, id))`` is two tuples, a string and an int, ~220 bytes (~256 with
    its share of the set and of the page signatures), so the engine's peak RSS
    grew with the orders read: ~75 MiB at 300,000 orders (issue 12, target 7).
    Such a tuple is kept as one bytes object spelling it (~80 bytes; ~120 with
    those shares); ints and strings, already small, are kept as they are, and so
    is any other key (compared as before).  Bytes keys are prefixed, so a bytes
    key never equals a spelled tuple.
    """
    if type(key) is int or type(key) is str:
        return key
    if isinstance(key, bytes):
        return b"b" + key
    if isinstance(key, tuple):
        parts: list[str] = []
        if _spell(key, parts):
            return "".join(parts).encode("utf-8", "surrogatepass")
    return key


def _spell(value: Any, parts: list[str]) -> bool:
    """Append an unambiguous spelling of ``value`` to ``parts`` if it is a string,
    a number equal to an int (spelled as that int: ``1``, ``1.0`` and ``True`` are
    equal keys) or a tuple of such values; False for anything else, whose tuple
    is then kept as it is (such a tuple never equals one that can be spelled)."""
    if isinstance(value, str):
        parts += ("s", str(len(value)), ":", value)
    elif isinstance(value, tuple):
        parts.append("(")
        if not all(_spell(item, parts) for item in value):
            return False
        parts.append(")")
    elif isinstance(value, int):
        # In hex: shorter, and without the limit on digits of str(int).
        parts += ("i", format(int(value), "x"), ";")
    elif isinstance(value, numbers.Number):  # float, Decimal, Fraction, complex
        number: Any = value
        try:
            # A complex number by its real part: 1+0j equals 1 too.
            whole = int(getattr(number, "real", number))
            if whole != number:
                return False
        except (TypeError, ValueError, OverflowError, ArithmeticError):
            return False
        parts += ("i", format(whole, "x"), ";")
    else:
        return False
    return True
