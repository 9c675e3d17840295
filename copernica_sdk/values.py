"""Conversion of Python values to the strings Copernica stores.

Every value inside a Copernica field map is a string on the wire.  This module
is the one place that decides how a Python value becomes that string, and it
refuses text that XML 1.0 cannot carry (the request would be rejected or, worse,
mangled).  The sync engine uses :func:`sanitize_text` to repair such text
instead, and logs that it did.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

__all__ = [
    "WireValue",
    "find_forbidden_chars",
    "sanitize_text",
    "to_wire",
    "to_wire_fields",
]

#: Python types the SDK converts to Copernica's string form.
WireValue = str | int | float | Decimal | bool | date | datetime | None

# Characters XML 1.0 forbids: C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def find_forbidden_chars(text: str) -> list[str]:
    """Return the distinct characters in ``text`` that XML 1.0 forbids, as ``U+XXXX``."""
    return sorted({f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(text)})


def sanitize_text(text: str) -> str:
    """Remove the characters XML 1.0 forbids from ``text``."""
    return _FORBIDDEN.sub("", text)


def to_wire(value: WireValue, *, field: str) -> str:
    """Convert one value to the string Copernica stores.

    - ``None`` becomes ``""`` (Copernica maps cannot carry null; empty clears a field)
    - ``bool`` becomes ``"1"`` or ``"0"``
    - ``datetime`` becomes ``YYYY-MM-DD hh:mm:ss``; an aware datetime is converted to UTC first
    - ``date`` becomes ``YYYY-MM-DD``
    - numbers become plain decimal notation (never ``1e-07``); NaN and infinity are refused

    Raises ``ValueError`` naming ``field`` when the value cannot be represented.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"field {field!r}: {value!r} is not a finite number")
        text = _plain_decimal(Decimal(repr(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"field {field!r}: {value!r} is not a finite number")
        text = _plain_decimal(value)
    elif isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        text = value.strftime("%Y-%m-%d")
    else:
        raise ValueError(
            f"field {field!r}: cannot send a value of type {type(value).__name__}; "
            "use str, int, float, Decimal, bool, date, datetime or None"
        )
    bad = find_forbidden_chars(text) if _FORBIDDEN.search(text) else None
    if bad:
        raise ValueError(
            f"field {field!r}: value contains characters XML 1.0 forbids ({', '.join(bad)}); "
            "remove them, or let the sync engine sanitise the record"
        )
    return text


def to_wire_fields(fields: Mapping[str, WireValue]) -> dict[str, str]:
    """Convert a whole field map with :func:`to_wire`; field names are checked too."""
    out: dict[str, str] = {}
    for name, value in fields.items():
        if not name or _FORBIDDEN.search(name):
            raise ValueError(f"field name {name!r} is empty or contains forbidden characters")
        out[name] = to_wire(value, field=name)
    return out


def _plain_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
