"""Bookmark arithmetic: times compare as times, whatever their spelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from copernica_sdk.sync._bookmarks import format_ts, max_ts, min_ts, minus


def test_z_and_naive_utc_spellings_compare_as_the_same_time() -> None:
    assert max_ts("2024-01-01T10:00:00Z", "2024-01-01T09:59:59") == "2024-01-01T10:00:00Z"
    assert min_ts("2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00") == \
        "2024-01-01T10:00:00+02:00"


def test_a_bookmark_is_never_moved_past_the_run_start() -> None:
    start = format_ts(datetime(2024, 5, 1, 12, 0, 0, 123, tzinfo=UTC))
    assert start == "2024-05-01T12:00:00"
    assert min_ts("2024-05-01T12:00:05", start) == start


def test_the_lookback_moves_a_time_back_and_leaves_other_values_alone() -> None:
    assert minus("2024-05-01T12:00:00", timedelta(minutes=5)) == "2024-05-01T11:55:00"
    assert minus("cursor-abc", timedelta(minutes=5)) == "cursor-abc"


def test_values_that_are_not_times_compare_as_text() -> None:
    assert max_ts("b", "a") == "b" and max_ts(None, "a") == "a"
