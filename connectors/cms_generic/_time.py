"""Cursor values to the framework's replication form: ``YYYY-MM-DDTHH:MM:SS`` in UTC.

CMSes write timestamps every which way: ISO-8601 with ``Z`` or an offset
(Drupal JSON:API), naive ISO taken as UTC (WordPress ``*_gmt``), a space instead
of the ``T`` (CSV exports, SQL dumps) or Unix epoch seconds (Drupal's storage,
many in-house APIs).  Normalising all of them lets bookmarks compare as strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["FORMAT", "epoch", "normalize", "parse", "shift"]

FORMAT = "%Y-%m-%dT%H:%M:%S"


def _parse(value: object) -> datetime:
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse(value: object) -> datetime:
    """Like :func:`normalize`, as an aware UTC ``datetime`` (naive input = UTC)."""
    return _parse(value).astimezone(UTC)


def normalize(value: object) -> str:
    """An ISO-8601 string (any offset; naive = UTC), a date, or epoch seconds (number
    or digits) → ``YYYY-MM-DDTHH:MM:SS`` UTC.  Raises ``ValueError`` otherwise."""
    return _parse(value).strftime(FORMAT)


def shift(value: str, seconds: float) -> str:
    """``value`` (normalised form) moved by ``seconds``."""
    return (_parse(value) + timedelta(seconds=seconds)).strftime(FORMAT)


def epoch(value: str) -> int:
    """``value`` (normalised form) as Unix seconds."""
    return int(_parse(value).timestamp())
