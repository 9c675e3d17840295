"""Unit level: skipped and rejected page items, bad replication values, the report."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.sync import deep_json
from copernica_sdk.sync._bookmarks import minus, parse_ts, replication_max, replication_problem
from copernica_sdk.sync.connector import PageItem, Rejected, Skipped, Stream
from copernica_sdk.sync.engine import SyncEngine
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import RunReport, StreamReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .memory_source import MAPPING, MemoryConnector


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


# -- through the engine -------------------------------------------------------------

class _HostilePeople(Stream):
    """One page with a good record and one of each kind of trouble."""

    name: ClassVar[str] = "people"
    primary_key: ClassVar[str] = "id"
    replication_key: ClassVar[str | None] = "updated"
    is_sorted: ClassVar[bool] = True

    def read(self, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        deep: dict[str, Any] = {}
        cursor = deep
        for _ in range(5000):
            cursor["a"] = {}
            cursor = cursor["a"]
        yield [
            {"id": 1, "email": "one@example.com", "name": "One", "updated": "2024-01-01T10:00:00"},
            {"id": 2, "email": "two@example.com", "name": "Two", "updated": "garbage"},
            Skipped({"id": 3, "email": "", "updated": "2024-01-01T11:00:00"}, "no e-mail"),
            Rejected({"id": 4}, "could not be decoded"),
            {"id": 5, "email": "five@example.com", "name": deep, "updated": "2024-01-01T09:00:00"},
            {"id": 6, "email": "six@example.com", "name": "Six", "updated": "2099-01-01T00:00:00"},
        ]


class _HostileSource(MemoryConnector):
    def streams(self) -> Sequence[Stream]:
        return [_HostilePeople(self)]


def test_the_engine_counts_skips_dead_letters_bad_values_and_never_lifts_the_bookmark(
        copernica_fake: FakeCopernica, tmp_path: Path) -> None:
    source = _HostileSource()
    target = parse_target({}, {**source.default_mapping(),
                               "streams": {"people": MAPPING["streams"]["people"]}})
    with CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url,
                         retry=RetryPolicy(max_attempts=2, sleep=lambda _: None)) as client, \
            StateStore(tmp_path / "state.sqlite3") as state:
        schema.apply(client, schema.plan(client, schema_for(target)))
        report = SyncEngine(client, source, target, state, job="t").run()
        [people] = report.streams
        assert (people.read, people.written, people.dead_lettered, people.skipped) == (6, 2, 3, 1)
        assert people.skip_reasons == {"no e-mail": 1}
        assert int(report.exit_code) == 1
        letters = {d.record_key: d.reason for d in state.dead_letters()}
        assert set(letters) == {"2", "4", "5"}
        assert "updated = 'garbage'" in letters["2"]
        assert letters["4"] == "could not be decoded"
        # A value nested 5,000 levels deep is this record's dead letter (its payload,
        # too deep for JSON, is stored cut), not a crash of the checkpoint.
        assert "name" in letters["5"]
        assert {d.record_key: d.payload["id"] for d in state.dead_letters()}["5"] == 5
        # Neither "garbage" nor 2099 became the bookmark.
        assert state.bookmark("people") == "2024-01-01T11:00:00"
        assert state.runs(limit=1)[0].counts["skipped: no e-mail"] == 1


# -- deep JSON ----------------------------------------------------------------------

def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_a_list_is_decoded_around_an_element_nested_too_deep() -> None:
    text = ('[{"id": 1, "note": "a, [b] {c}\\" ,"}, '
            f'{{"id": 2, "email": "x@example.com", "ok": true, "meta": [{_nested(5000)}], '
            '"date": null}, {"id": 3}]')
    decoded = deep_json.loads(text, where="https://cms.example/users")
    assert decoded[0] == {"id": 1, "note": 'a, [b] {c}" ,'} and decoded[2] == {"id": 3}
    stand_in = decoded[1]
    assert {k: stand_in[k] for k in ("id", "email", "ok", "date")} == \
        {"id": 2, "email": "x@example.com", "ok": True, "date": None}
    assert "meta" not in stand_in
    assert "https://cms.example/users" in stand_in[deep_json.UNREADABLE]


def test_depth_outside_a_list_is_an_error_not_a_recursion_error() -> None:
    with pytest.raises(deep_json.TooDeepError, match=r"cms\.example"):
        deep_json.loads(f'{{"items": [{_nested(5000)}]}}', where="https://cms.example")
    with pytest.raises(ValueError):
        deep_json.loads(f"[{_nested(5000)}", where="x")
    assert deep_json.loads('[{"id": 1}]', where="x") == [{"id": 1}]
