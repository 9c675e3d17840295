"""The staging store: pages back in their order, contributions found by key or person."""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk.sync._staging import StagedFact, Staging
from copernica_sdk.sync.errors import SourceUnavailableError


def fact(record: str, key: str, source: str | None = None, total: str = "1") -> StagedFact:
    return StagedFact(record, source, key, {"total": total})


def test_pages_come_back_in_the_order_they_were_staged(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        for n in range(3):
            staging.add_page("orders", {"page": n, "items": [n] * 3}, [])
        staging.finish("orders", {"file": "done"})
        assert [p["page"] for p in staging.pages("orders")] == [0, 1, 2]
        assert staging.final_state("orders") == {"file": "done"}


def test_the_error_that_ended_the_reading_comes_after_the_pages(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add_page("orders", "page 1", [])
        staging.finish("orders", {}, SourceUnavailableError("shop down"))
        pages = staging.pages("orders")
        assert next(pages) == "page 1"
        with pytest.raises(SourceUnavailableError, match="shop down"):
            next(pages)


def test_a_stream_is_staged_once_finished_even_without_pages(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        assert not staging.has("orders")
        staging.finish("orders", {})
        assert staging.has("orders") and list(staging.pages("orders")) == []


def test_contributions_are_found_by_mapped_key_or_by_person(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add_page("orders", None, [fact("1", "a@x"), fact("2", "b@x", source="7"),
                                          fact("3", "c@x")])
        found = staging.facts_for("orders", mapped_keys={"a@x"}, source_ids={"7"})
        assert sorted(f.record_key for f in found) == ["1", "2"]
        assert staging.facts_for("people", mapped_keys={"a@x"}, source_ids=()) == []


def test_a_record_staged_twice_keeps_its_later_contribution(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add_page("orders", None, [fact("1", "a@x", total="1")])
        staging.add_page("orders", None, [fact("1", "b@x", total="5")])
        assert staging.facts_for("orders", mapped_keys={"a@x", "b@x"}, source_ids=()) == \
            [fact("1", "b@x", total="5")]
        assert staging.staged_among("orders", ["1", "2"]) == {"1"}


def test_closing_removes_the_file(tmp_path: Path) -> None:
    staging = Staging(tmp_path)
    staging.add_page("orders", "page", [fact("1", "a@x")])
    assert staging.path.exists() and staging.path.parent == tmp_path
    staging.close()
    assert list(tmp_path.iterdir()) == []
