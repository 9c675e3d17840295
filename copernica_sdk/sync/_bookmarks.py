"""Bookmark arithmetic: replication values are ISO-8601 UTC timestamps (text).

Compared as times when they parse (``2024-01-01T10:00:00`` and ``…Z`` forms mix
safely), as text otherwise (a source may use another sortable value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from .connector import Record, Stream

__all__ = ["format_ts", "max_ts", "min_ts", "minus", "parse_ts", "replication_max"]


def parse_ts(value: str) -> datetime | None:
    """A naive UTC datetime, or None when ``value`` is not ISO-8601."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else \
        parsed.astimezone(UTC).replace(tzinfo=None)


def format_ts(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC, the form streams receive as ``until``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def minus(bookmark: str, delta: timedelta) -> str:
    """The bookmark moved back by the lookback window (unchanged if not a time)."""
    parsed = parse_ts(bookmark)
    return bookmark if parsed is None else (parsed - delta).isoformat(timespec="seconds")


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


def replication_max(stream: Stream, page: Sequence[Record]) -> str | None:
    """The highest replication value in a page, or None (no key or no values)."""
    key = stream.replication_key
    if key is None:
        return None
    highest: str | None = None
    for record in page:
        value = record.get(key) if isinstance(record, Mapping) else None
        if value:
            highest = max_ts(highest, str(value))
    return highest
