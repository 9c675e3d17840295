"""Issue 18: the CSV locale settings — values, config errors — and ``html_unescape``."""

from __future__ import annotations

from typing import Any

import pytest

from copernica_sdk.sync._expressions import compile_expression
from copernica_sdk.sync.errors import ConfigError
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic._formats import FormatError, ValueFormats

NL = ValueFormats(date_formats=("%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y"),
                  decimal_comma=True)


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("datetime", "1-12-2026 0:00", "2026-12-01T00:00:00"),
    ("datetime", "01-12-2026 13:45:09", "2026-12-01T13:45:09"),
    ("datetime", "1-12-2026", "2026-12-01T00:00:00"),
    ("datetime", "2026-12-01T10:00:00+01:00", "2026-12-01T09:00:00"),  # ISO still works
    ("date", "31-1-2026 7:05", "2026-01-31"),
    ("number", "1.234,50", "1234.50"),
    ("number", "-0,5", "-0.5"),
    ("number", "1 234 567,8", "1234567.8"),
    ("bool", "WAAR", True), ("bool", "onwaar", False), ("bool", "Ja", True),
    ("bool", "nee", False), ("bool", "TRUE", True), ("bool", "0", False),
    ("datetime", "  ", ""),
])
def test_dutch_spreadsheet_values_are_read(kind: str, text: str, expected: Any) -> None:
    assert NL.convert(kind, text) == expected


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("datetime", "12/01/2026", "not a date/time in the stream's date_format"),
    ("datetime", "32-12-2026 0:00", "not a date/time"),
    ("number", "1.5", "not a number with a decimal comma"),
    ("number", "12,5,0", "not a number"),
    ("bool", "misschien", "neither a true word"),
    ("date", "46357", "a number, not a date/time"),
])
def test_values_that_do_not_fit_are_refused_not_guessed(kind: str, text: str,
                                                        message: str) -> None:
    with pytest.raises(FormatError, match=message):
        NL.convert(kind, text)


def test_without_decimal_comma_a_comma_decimal_is_refused_with_the_setting_to_use() -> None:
    with pytest.raises(FormatError, match="decimal_comma = true"):
        ValueFormats().convert("number", "12,50")
    assert ValueFormats().convert("number", "1,234.5") == "1234.5"


def _stream(**extra: Any) -> dict[str, Any]:
    return {"streams": {"c": {"type": "csv", "path": "/x/*.csv", "primary_key": "id", **extra}}}


def test_locale_settings_are_checked_with_their_full_key() -> None:
    with pytest.raises(ConfigError) as info:
        GenericCmsConnector.validate_config(_stream(
            types={"updated": "timestamp"}, date_format="dd-mm-yyyy",
            true_words=["ja", "nee"], false_words=["nee"], decimal_comma="yes"))
    text = str(info.value)
    assert "source.streams.c.types.updated: must be one of datetime, date, number or bool" in text
    assert "source.streams.c.date_format: 'dd-mm-yyyy' has no %-codes" in text
    assert "source.streams.c.true_words: nee also in false_words" in text
    assert "source.streams.c.decimal_comma: must be true or false" in text


def test_html_unescape_decodes_entities_in_text_and_lists() -> None:
    expr = compile_expression("name | html_unescape")
    assert expr.evaluate({"name": "Tom &amp; Jerry &#039;s &lt;b&gt;"}) == "Tom & Jerry 's <b>"
    assert expr.evaluate({"name": ["A &amp; B", None]}) == ["A & B", None]
    assert expr.evaluate({}) is None
