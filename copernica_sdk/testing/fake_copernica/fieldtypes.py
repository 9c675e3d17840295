"""Field types: which values each accepts, how they are stored, and their defaults.

The real validation rules are not documented (docs/copernica-api-notes.md §4: Copernica
lists only the type names), so these are the fake's assumptions, documented in docs/testing.md:

* integer / float: a number ('' is stored as '0'); integers are stored normalised
  ('007' -> '7') so searches compare numbers, not spellings.
* date: ``YYYY-MM-DD`` (or ``0000-00-00``); empty_date also accepts ''.
* datetime: ``YYYY-MM-DD hh:mm:ss`` (or all zeros); empty_datetime also accepts ''.
* email: '' or ``local@domain.tld`` without spaces.
* phone, phone_fax, phone_gsm: '' or digits with ``+ - ( ) . /`` and spaces.
* select: '' or one of the options (the field's default ``value``, one option per line);
  any value when the field has no options.
* foreign_key: '' or a non-negative integer.
* text: any string, truncated to the field's ``length`` (default 50) unless the field
  is ``big``; big, country, locale: any string, never truncated.
"""

from __future__ import annotations

import datetime as dt
import re

FIELD_TYPES = (
    "integer",
    "float",
    "date",
    "empty_date",
    "datetime",
    "empty_datetime",
    "text",
    "email",
    "phone",
    "phone_fax",
    "phone_gsm",
    "select",
    "big",
    "foreign_key",
    "country",
    "locale",
)
DEFAULT_TEXT_LENGTH = 50

_DEFAULTS = {
    "integer": "0",
    "float": "0",
    "date": "0000-00-00",
    "datetime": "0000-00-00 00:00:00",
}
_INT_RE = re.compile(r"[+-]?\d+\Z", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z", re.ASCII)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_PHONE_RE = re.compile(r"[0-9+\-(). /]*[0-9][0-9+\-(). /]*\Z")
_DIGITS_RE = re.compile(r"\d+\Z", re.ASCII)
_ZERO_DATE = "0000-00-00"
_ZERO_DATETIME = "0000-00-00 00:00:00"


def default_value(field_type: str) -> str:
    """The value a new profile gets for a field without an explicit default."""
    return _DEFAULTS.get(field_type, "")


def _valid_date(value: str) -> bool:
    if value == _ZERO_DATE:
        return True
    try:
        dt.datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return len(value) == 10


def _valid_datetime(value: str) -> bool:
    if value == _ZERO_DATETIME:
        return True
    try:
        dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return len(value) == 19


def normalise(
    field_type: str, value: str, *, length: int = 0, big: bool = False, options: str = ""
) -> str | None:
    """The stored form of ``value``, or None when the type rejects it."""
    if field_type == "integer":
        stripped = value.strip()
        if stripped == "":
            return "0"
        return str(int(stripped)) if _INT_RE.match(stripped) else None
    if field_type == "float":
        stripped = value.strip()
        if stripped == "":
            return "0"
        return stripped if _FLOAT_RE.match(stripped) else None
    if field_type in ("date", "empty_date"):
        if value == "" and field_type == "empty_date":
            return ""
        return value if _valid_date(value) else None
    if field_type in ("datetime", "empty_datetime"):
        if value == "" and field_type == "empty_datetime":
            return ""
        return value if _valid_datetime(value) else None
    if field_type == "email":
        return value if value == "" or _EMAIL_RE.match(value) else None
    if field_type in ("phone", "phone_fax", "phone_gsm"):
        return value if value == "" or _PHONE_RE.match(value) else None
    if field_type == "foreign_key":
        return value if value == "" or _DIGITS_RE.match(value) else None
    if field_type == "select":
        choices = [line.strip() for line in options.splitlines() if line.strip()]
        return value if value == "" or not choices or value in choices else None
    if field_type == "text" and not big:
        # Assumption: over-long text is cut to the field length rather than rejected.
        return value[: length or DEFAULT_TEXT_LENGTH]
    return value


def sort_key(field_type: str, value: str) -> tuple[int, float, str]:
    """Order numbers numerically and everything else as text (for ``order``)."""
    if field_type in ("integer", "float"):
        try:
            return (0, float(value), "")
        except ValueError:
            return (1, 0.0, value)
    return (0, 0.0, value)
