"""One timestamp normaliser: whatever a source writes, UTC ``YYYY-MM-DDTHH:MM:SS``.

Sources write times every which way: ISO-8601 with ``Z`` or any offset
(``2024-05-01T12:00:00+02:00``), naive ISO taken as UTC (WordPress ``*_gmt``), a
space instead of the ``T`` (CSV exports, SQL dumps), a date alone, fractions of a
second, or Unix epoch seconds.  Bookmarks, ``until`` and every replication value
the framework compares are kept in one form, :data:`FORMAT` in UTC, so they
compare as plain strings and as times alike.

- :func:`parse_utc` — text (or epoch number) to an aware UTC ``datetime``;
- :func:`to_utc` — the same, as the framework's text form;
- :func:`format_for` — a framework time in the form an API's filter wants
  (``iso``, ``iso_z``, ``epoch``, ``date`` or any ``strftime`` pattern);
- :func:`shift`, :func:`epoch` — arithmetic on the framework's form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["FORMAT", "epoch", "format_for", "parse_utc", "shift", "to_utc"]

#: The framework's form of a time: UTC, seconds, no offset.
FORMAT = "%Y-%m-%dT%H:%M:%S"


def parse_utc(value: object, *, epoch_numbers: bool = True) -> datetime:
    """``value`` as an aware UTC ``datetime``.

    Accepts ISO-8601 text with any offset or ``Z`` (naive text is UTC), a space
    for the ``T``, a date alone (midnight UTC), a ``datetime`` (naive = UTC) and —
    with ``epoch_numbers`` — Unix seconds as a number or as digits.  Raises
    ``ValueError`` for anything else (``OverflowError``/``OSError`` are turned
    into ``ValueError`` too: a year-10000 epoch is not a time).
    """
    try:
        return _parse(value, epoch_numbers)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"not a timestamp: {value!r} ({exc})") from None


def _parse(value: object, epoch_numbers: bool) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        if not epoch_numbers:
            raise ValueError(f"not a timestamp: {value!r}")
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if epoch_numbers and text.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if len(text) > 10 and text[10] == " ":
        text = f"{text[:10]}T{text[11:]}"
    parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_utc(value: object, *, epoch_numbers: bool = True) -> str:
    """``value`` (see :func:`parse_utc`) as ``YYYY-MM-DDTHH:MM:SS`` in UTC, fractions
    of a second dropped.  Raises ``ValueError`` when it is not a time."""
    return parse_utc(value, epoch_numbers=epoch_numbers).strftime(FORMAT)


def shift(value: str, seconds: float) -> str:
    """``value`` moved by ``seconds``, in the framework's form."""
    try:
        return (parse_utc(value) + timedelta(seconds=seconds)).strftime(FORMAT)
    except OverflowError:
        raise ValueError(f"{value!r} moved by {seconds:g} s is not a representable time") from None


def epoch(value: object) -> int:
    """``value`` as whole Unix seconds."""
    return int(parse_utc(value).timestamp())


def format_for(value: object, fmt: str = "iso") -> str:
    """A time in the form an API's filter parameter wants.

    ``fmt``: ``"iso"`` (``2024-05-01T10:00:00``), ``"iso_z"``
    (``2024-05-01T10:00:00Z``), ``"iso_offset"`` (``…+00:00``), ``"epoch"`` (Unix
    seconds), ``"date"`` (``2024-05-01``), or a ``strftime`` pattern (contains
    ``%``), always in UTC.
    """
    moment = parse_utc(value)
    if fmt == "iso":
        return moment.strftime(FORMAT)
    if fmt == "iso_z":
        return moment.strftime(FORMAT) + "Z"
    if fmt == "iso_offset":
        return moment.strftime(FORMAT) + "+00:00"
    if fmt == "epoch":
        return str(int(moment.timestamp()))
    if fmt == "date":
        return moment.strftime("%Y-%m-%d")
    if "%" in fmt:
        return moment.strftime(fmt)
    raise ValueError(f"unknown timestamp format {fmt!r}: use iso, iso_z, iso_offset, epoch, "
                     "date or a strftime pattern such as %Y-%m-%d %H:%M:%S")
