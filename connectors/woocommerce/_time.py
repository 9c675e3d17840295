"""Timestamps as WooCommerce writes them: ``YYYY-MM-DDTHH:MM:SS``, UTC, no offset.

The REST API returns ``*_gmt`` fields in exactly this shape, so keeping every
replication value in it lets bookmarks compare as plain strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

WC_FORMAT = "%Y-%m-%dT%H:%M:%S"


def parse_utc(value: str) -> datetime:
    """Parse an ISO-8601 date or date-time; naive values are taken as UTC.

    Raises ``ValueError`` for anything else.
    """
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_wc(value: str | datetime) -> str:
    """Normalise a timestamp to WooCommerce's UTC form, dropping fractions of a second."""
    moment = parse_utc(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(WC_FORMAT)


def shift(value: str, seconds: int) -> str:
    """``value`` (WooCommerce form) moved by ``seconds``."""
    return to_wc(parse_utc(value) + timedelta(seconds=seconds))
