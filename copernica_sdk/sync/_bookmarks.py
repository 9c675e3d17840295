"""Bookmark arithmetic: replication values are ISO-8601 UTC timestamps (text).

Compared as times when they parse (``2024-01-01T10:00:00`` and ``…Z`` forms mix
safely), as text otherwise (a source may use another sortable value).

A record whose replication value is not a timestamp never moves a bookmark (the
engine dead-letters it, see :func:`replication_problem`): one ``"garbage"`` must
not lift the bookmark past records not read yet.  Records without a value do not
move it either; they are synced whenever the source returns them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from .connector import PageItem, Rejected, Skipped, Stream
from .timestamps import parse_utc

__all__ = ["format_ts", "max_ts", "min_ts", "minus", "parse_ts", "replication_max",
           "replication_problem"]


def parse_ts(value: str) -> datetime | None:
    """A naive UTC datetime, or None when ``value`` is not ISO-8601 (or is out of
    the range of dates, e.g. ``0001-01-01T00:00:00+01:00`` in UTC)."""
    try:
        return parse_utc(value, epoch_numbers=False).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def format_ts(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC, the form streams receive as ``until``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def minus(bookmark: str, delta: timedelta) -> str:
    """The bookmark moved back by the lookback window (unchanged if not a time)."""
    parsed = parse_ts(bookmark)
    if parsed is None:
        return bookmark
    try:
        return (parsed - delta).isoformat(timespec="seconds")
    except OverflowError:  # a bookmark in year 1: nothing can be earlier
        return datetime.min.isoformat(timespec="seconds")


def max_ts(a: str | None, b: str | None) -> str | None:
    """The later of two replication values (either may be None)."""
    if a is None or b is None:
        return a or b
    pa, pb = parse_ts(a), parse_ts(b)
    if pa is not None and pb is not None:
        return a if pa >= pb else b
    return max(a, b)


def min_ts(a: str, b: str) -> str:
    """The earlier of two replication values: caps a bookmark at the run's start."""
    pa, pb = parse_ts(a), parse_ts(b)
    if pa is not None and pb is not None:
        return a if pa <= pb else b
    return min(a, b)


def replication_problem(stream: Stream, record: Mapping[str, object]) -> str | None:
    """Why ``record``'s replication value is unusable, or None (a timestamp, or no
    value at all).  Names the field and the value, as a dead letter must."""
    key = stream.replication_key
    if key is None:
        return None
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and parse_ts(value) is not None:
        return None
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return (f"{key} = {shown} is not an ISO-8601 date-time, so this {stream.name} record "
            "cannot be placed in the incremental sync; fix the value in the source (the "
            "record is retried on every run that reads it)")


def replication_max(stream: Stream, page: Sequence[PageItem],
                    until: str | None = None) -> str | None:
    """The highest usable replication value in a page, or None (no key or no values).

    Rejected records and values that are not timestamps do not count, nor values
    after ``until`` (the run start): a record dated in the future — by a wrong
    clock, or a source that lies about its order — must not lift a sorted
    stream's bookmark past records not read yet; it is read again next run.
    """
    key = stream.replication_key
    if key is None:
        return None
    limit = parse_ts(until) if until is not None else None
    highest: str | None = None
    for item in page:
        if isinstance(item, Rejected):
            continue
        record = item.record if isinstance(item, Skipped) else item
        value = record.get(key) if isinstance(record, Mapping) else None
        moment = parse_ts(value) if isinstance(value, str) and value else None
        if moment is not None and (limit is None or moment <= limit):
            highest = max_ts(highest, str(value))
    return highest
