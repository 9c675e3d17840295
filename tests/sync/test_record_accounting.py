"""Unit level: skipped and rejected page items, bad replication values, the report."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from copernica_sdk.sync._bookmarks import minus, parse_ts, replication_max, replication_problem
from copernica_sdk.sync.connector import PageItem, Rejected, Skipped, Stream
from copernica_sdk.sync.report import RunReport, StreamReport
from copernica_sdk.sync.state import StateStore


class _Dated(Stream):
    name: ClassVar[str] = "people"
    primary_key: ClassVar[str] = "id"
    replication_key: ClassVar[str | None] = "updated"

    def read(self, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        yield []


STREAM = _Dated(None)  # type: ignore[arg-type]


def test_a_value_that_is_not_a_time_never_becomes_the_bookmark() -> None:
    page: list[PageItem] = [{"id": 1, "updated": "2024-01-01T10:00:00"},
                            {"id": 2, "updated": "garbage"}, {"id": 3, "updated": None},
                            {"id": 4, "updated": 17}]
    assert replication_max(STREAM, page) == "2024-01-01T10:00:00"


def test_values_after_the_run_start_do_not_lift_the_bookmark() -> None:
    page: list[PageItem] = [{"id": 1, "updated": "2024-01-01T10:00:00"},
                            {"id": 2, "updated": "2099-01-01T00:00:00"}]
    assert replication_max(STREAM, page, "2024-06-01T00:00:00") == "2024-01-01T10:00:00"


def test_rejected_items_do_not_count_for_the_bookmark_and_skipped_ones_do() -> None:
    page: list[PageItem] = [Rejected({"id": 1, "updated": "2024-05-01T00:00:00"}, "x"),
                            Skipped({"id": 2, "updated": "2024-02-01T00:00:00"}, "y")]
    assert replication_max(STREAM, page) == "2024-02-01T00:00:00"


def test_the_replication_problem_names_the_field_and_the_value() -> None:
    problem = replication_problem(STREAM, {"id": 1, "updated": "garbage"})
    assert problem is not None and "updated" in problem and "'garbage'" in problem
    assert replication_problem(STREAM, {"id": 1, "updated": None}) is None
    assert replication_problem(STREAM, {"id": 1}) is None
    assert replication_problem(STREAM, {"id": 1, "updated": "2024-01-01T00:00:00Z"}) is None
    assert replication_problem(STREAM, {"id": 1, "updated": 1700000000}) is not None


def test_dates_at_the_edge_of_the_calendar_are_not_a_crash() -> None:
    assert parse_ts("0001-01-01T00:00:00+01:00") is None
    assert parse_ts("9999-12-31T23:59:59-01:00") is None
    assert minus("0001-01-01T00:01:00", timedelta(minutes=5)) == "0001-01-01T00:00:00"


def test_the_summary_and_totals_count_skips_per_reason() -> None:
    first = StreamReport("users", read=5, written=2, skipped=3,
                         skip_reasons={"no email (skip_if_missing)": 2, "changed later": 1})
    second = StreamReport("orders", read=1, skipped=1, skip_reasons={"changed later": 1})
    assert "skipped 3 (1 changed later; 2 no email (skip_if_missing))" in first.summary()
    assert "skipped" not in StreamReport("x", read=1, written=1).summary()
    totals = RunReport("job", streams=[first, second]).totals()
    assert totals["skipped"] == 4
    assert totals["skipped: changed later"] == 2
    assert totals["skipped: no email (skip_if_missing)"] == 2


def test_a_dead_letter_nested_too_deep_to_encode_is_still_stored(tmp_path: Any) -> None:
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(5000):
        cursor["a"] = {}
        cursor = cursor["a"]
    with StateStore(tmp_path / "s.sqlite3") as state:
        with state.checkpoint() as cp:
            cp.add_dead_letter(run_id=None, stream="orders", record_key="7", reason="deep",
                               payload={"id": 7, "meta_data": deep})
        [letter] = state.dead_letters()
    assert letter.record_key == "7" and letter.payload["id"] == 7
