"""The one timestamp normaliser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copernica_sdk.sync.timestamps import epoch, format_for, parse_utc, shift, to_utc


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00"),
    ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00"),
    ("2024-05-01T10:00:00.123456z", "2024-05-01T10:00:00"),
    ("2024-05-01 10:00:00", "2024-05-01T10:00:00"),
    ("2024-05-01T05:00:00-05:00", "2024-05-01T10:00:00"),
    ("2024-05-01", "2024-05-01T00:00:00"),
    (1714557600, "2024-05-01T10:00:00"),
    ("1714557600", "2024-05-01T10:00:00"),
    (datetime(2024, 5, 1, 10, tzinfo=UTC), "2024-05-01T10:00:00"),
])
def test_any_offset_and_form_becomes_utc_text(value: object, expected: str) -> None:
    assert to_utc(value) == expected


@pytest.mark.parametrize("value", ["garbage", "", None, True, "2024-13-45", "1e400"])
def test_what_is_not_a_time_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        parse_utc(value)


def test_epoch_numbers_can_be_refused() -> None:
    with pytest.raises(ValueError):
        parse_utc("1714557600", epoch_numbers=False)


def test_formats_for_apis() -> None:
    moment = "2024-05-01T12:00:00+02:00"
    assert format_for(moment, "iso_z") == "2024-05-01T10:00:00Z"
    assert format_for(moment, "epoch") == "1714557600"
    assert format_for(moment, "date") == "2024-05-01"
    assert format_for(moment, "%d/%m/%Y %H:%M") == "01/05/2024 10:00"
    with pytest.raises(ValueError, match="unknown timestamp format"):
        format_for(moment, "rfc")
    assert shift("2024-05-01T10:00:00", -1) == "2024-05-01T09:59:59"
    assert epoch("2024-05-01T10:00:00") == 1714557600
