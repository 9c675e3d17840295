"""How a CSV stream reads spreadsheet values: dates, numbers and yes/no words by locale.

The one place where text from a file becomes a typed value.  Spreadsheets save
what their locale shows: Excel in a Dutch locale writes ``1-12-2026 0:00``,
``12,50`` and ``WAAR``/``ONWAAR``.  A stream says which of its columns are
dates, numbers or booleans (``types``) and how they are written
(``date_format``, ``decimal_comma``, ``true_words``/``false_words``); each such
value is turned into the form the mapping's transforms and Copernica expect:

- ``datetime`` → ``YYYY-MM-DDTHH:MM:SS`` (as written: no time zone is added),
- ``date`` → ``YYYY-MM-DD``,
- ``number`` → decimal text with a dot and no thousands separators (``1234.5``),
- ``bool`` → ``True``/``False``.

A value that fits none of the configured forms raises :class:`FormatError`
naming the accepted forms, so the row is dead-lettered instead of being read
as something else (``WAAR`` silently becoming "no", a day read as a month).
Empty cells stay empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from copernica_sdk.sync import timestamps

__all__ = ["COLUMN_TYPES", "DEFAULT_FALSE_WORDS", "DEFAULT_TRUE_WORDS", "FormatError",
           "ValueFormats"]

COLUMN_TYPES = ("datetime", "date", "number", "bool")

#: Yes/no as spreadsheets and exports write them (compared without case):
#: English, Dutch (Excel: WAAR/ONWAAR), German, French, Spanish, and 1/0.
DEFAULT_TRUE_WORDS = ("1", "true", "yes", "y", "on", "waar", "ja", "j", "wahr", "vrai", "oui",
                      "si", "sí")
DEFAULT_FALSE_WORDS = ("0", "false", "no", "n", "off", "onwaar", "nee", "falsch", "nein",
                       "faux", "non")

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Thousands separators a decimal-comma locale writes: dots, spaces, no-break spaces.
_GROUPING = re.compile(r"(?<=\d)[.\s\u00a0\u202f'](?=\d{3}(?!\d))")


class FormatError(ValueError):
    """A value that does not have the configured form; the message says which forms fit."""


@dataclass(frozen=True)
class ValueFormats:
    """A stream's locale settings.  Without ``date_formats`` dates must be ISO-8601
    (any offset; a space may replace the ``T``) or Unix seconds."""

    date_formats: tuple[str, ...] = ()
    decimal_comma: bool = False
    true_words: tuple[str, ...] = DEFAULT_TRUE_WORDS
    false_words: tuple[str, ...] = DEFAULT_FALSE_WORDS

    def convert(self, kind: str, text: str) -> str | bool:
        """``text`` as a value of ``kind`` (one of :data:`COLUMN_TYPES`); ``""`` stays ``""``."""
        value = text.strip()
        if not value:
            return ""
        if kind == "bool":
            return self.boolean(value)
        if kind == "number":
            return self.number(value)
        moment = self.moment(value, epoch=False)
        return moment.strftime("%Y-%m-%d") if kind == "date" else moment.strftime(timestamps.FORMAT)

    def moment(self, text: str, *, epoch: bool = True) -> datetime:
        """A date/time in one of ``date_formats``, else ISO-8601 or (``epoch``) Unix
        seconds.  An ISO value with an offset is converted to UTC; other values are
        kept as written (naive)."""
        value = text.strip()
        for fmt in self.date_formats:
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        if not epoch and value.replace(".", "", 1).isdigit():
            # 46357 in a date column is an Excel serial date, not 1970 plus seconds.
            raise FormatError(f"{text[:40]!r} is a number, not a date/time (a spreadsheet's "
                              "serial date? format the column as a date before exporting)")
        try:
            return timestamps.parse_utc(value).replace(tzinfo=None)
        except ValueError:
            pass
        forms = ", ".join(self.date_formats) if self.date_formats else "none configured"
        raise FormatError(f"{text[:40]!r} is not a date/time in the stream's date_format "
                          f"({forms}) nor ISO-8601 (set date_format, e.g. \"%d-%m-%Y %H:%M\")")

    def number(self, text: str) -> str:
        """Decimal text with a dot: ``1.234,50`` → ``1234.50`` when ``decimal_comma``."""
        value = text.strip()
        if self.decimal_comma:
            value = _GROUPING.sub("", value)
            if "." in value:
                raise FormatError(f"{text[:40]!r} is not a number with a decimal comma")
            value = value.replace(",", ".", 1)
        else:
            value = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", value)
        if not _NUMBER.fullmatch(value):
            hint = "" if self.decimal_comma else " (comma decimals need decimal_comma = true)"
            raise FormatError(f"{text[:40]!r} is not a number{hint}")
        return value

    def boolean(self, text: str) -> bool:
        word = text.strip().casefold()
        if word in (w.casefold() for w in self.true_words):
            return True
        if word in (w.casefold() for w in self.false_words):
            return False
        raise FormatError(f"{text[:40]!r} is neither a true word ({', '.join(self.true_words)}) "
                          f"nor a false word ({', '.join(self.false_words)}); set true_words / "
                          "false_words")

    def cursor(self, raw: object) -> str:
        """A cursor value in the framework's form (``YYYY-MM-DDTHH:MM:SS``, naive = UTC)."""
        if isinstance(raw, str):
            return self.moment(raw).strftime(timestamps.FORMAT)
        return timestamps.to_utc(raw)

