from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from copernica_sdk.values import find_forbidden_chars, sanitize_text, to_wire


@pytest.mark.parametrize(("value", "wire"), [
    (None, ""),
    (True, "1"),
    (False, "0"),
    (42, "42"),
    (0.1, "0.1"),
    (1e-7, "0.0000001"),
    (2.50, "2.5"),
    (Decimal("19.990"), "19.99"),
    (Decimal("-0.00"), "0"),
    (date(2024, 2, 29), "2024-02-29"),
    (datetime(2024, 2, 29, 13, 5, 9), "2024-02-29 13:05:09"),
    (datetime(2024, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))), "2024-01-01 00:00:00"),
    ("héllo 🌍 שלום", "héllo 🌍 שלום"),
])
def test_values_become_copernica_strings(value, wire):
    assert to_wire(value, field="f") == wire


def test_text_with_xml_forbidden_characters_is_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"field 'name'.*U\+0001"):
        to_wire("bad\x01name", field="name")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_non_finite_numbers_are_refused(value):
    with pytest.raises(ValueError, match="finite"):
        to_wire(value, field="total")


def test_unknown_types_are_refused_with_the_supported_list():
    with pytest.raises(ValueError, match="use str, int"):
        to_wire([1, 2], field="tags")  # type: ignore[arg-type]


def test_sanitize_removes_only_forbidden_characters():
    assert sanitize_text("a\x00b\tc\nd\ufffe") == "ab\tc\nd"
    assert find_forbidden_chars("ok\x1f") == ["U+001F"]
