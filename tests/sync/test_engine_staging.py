"""A stream with aggregates read in full before writing: one write per profile per run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from copernica_sdk.sync._aggregates import pending_scope
from copernica_sdk.sync.errors import SourceUnavailableError
from copernica_sdk.sync.report import ExitCode

from .engine_harness import Harness, people_and_orders, profile_writes

WRITES = ("Database_updateProfiles", "Profile_updateSubProfiles")


@pytest.fixture
def staged(h: Harness) -> Harness:
    h.source.read_ahead = True  # what lets the engine read the orders stream ahead in full
    return h


def writes(h: Harness) -> int:
    return sum(h.fake.calls.get(op, 0) for op in WRITES)


def entities(h: Harness) -> int:
    return len(h.fake.profiles("Customers")) + len(h.fake.subprofiles("Orders"))


def staging_files(h: Harness) -> list[Path]:
    return list(h.state.path.parent.glob(".copernica-sync-staging-*"))


def test_a_first_run_writes_each_profile_once_with_its_final_totals(staged: Harness) -> None:
    people_and_orders(staged, [1, 2, 1, 2, 1, 1, 2, 1, 2, 1])  # both people on both pages
    report = staged.run()
    assert report.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert profile_writes(staged) == 2
    assert writes(staged) == entities(staged) == 12
    p0 = staged.profiles()["p0@example.com"]
    assert (p0["name"], p0["orders_count"], p0["total_spent"], p0["last_order"]) == \
        ("Person 0", "6", "9", "109")
    assert staged.profiles()["p1@example.com"]["orders_count"] == "4"
    assert staged.state.hash_keys(pending_scope("orders")) == []


def test_the_same_run_without_staging_writes_customers_with_orders_twice(h: Harness) -> None:
    # The page-at-a-time plan, for a stream that may not be read ahead: the
    # comparison the test above is about.
    people_and_orders(h, [1, 2, 1, 2, 1, 1, 2, 1, 2, 1])
    h.run()
    assert profile_writes(h) == 4
    assert h.profiles()["p0@example.com"]["orders_count"] == "6"


def test_a_guest_with_orders_on_many_pages_is_written_once(staged: Harness) -> None:
    for n in range(12):
        staged.source.put("orders", id=100 + n, person_id=0, email="guest@example.com",
                          name="Guest", status="processing", total="2")
    staged.run()
    assert profile_writes(staged) == 1
    assert staged.profiles()["guest@example.com"]["orders_count"] == "12"
    assert staged.profiles()["guest@example.com"]["total_spent"] == "24"


def test_an_order_billed_to_another_address_counts_for_its_customer_in_that_one_write(
        staged: Harness) -> None:
    staged.source.put("people", id=1, email="p0@example.com", name="Person 0", age=30)
    staged.source.put("orders", id=100, person_id=1, email="office@example.com", name="Office",
                      status="processing", total="5")
    staged.source.put("orders", id=101, person_id=0, email="p0@example.com", name="Person 0",
                      status="completed", total="1")
    staged.run()
    assert profile_writes(staged) == 1
    assert sorted(staged.profiles()) == ["p0@example.com"]
    assert staged.profiles()["p0@example.com"]["orders_count"] == "2"
    assert staged.profiles()["p0@example.com"]["total_spent"] == "6"


def test_a_changed_customer_with_a_new_order_is_written_once(staged: Harness) -> None:
    people_and_orders(staged, [1, 2, 1])
    staged.run()
    staged.source.put("people", id=1, name="Renamed")
    staged.source.put("orders", id=200, person_id=1, email="p0@example.com", name="Person 0",
                      status="processing", total="3")
    staged.run(lookback=timedelta(0))
    assert profile_writes(staged) == 1
    assert staged.fake.calls.get("Profile_updateSubProfiles", 0) == 1
    p0 = staged.profiles()["p0@example.com"]
    assert (p0["name"], p0["orders_count"], p0["total_spent"]) == ("Renamed", "3", "6")


def test_a_stream_that_fails_while_read_ahead_lands_what_it_read_and_the_next_run_the_rest(
        staged: Harness) -> None:
    people_and_orders(staged, [2, 2, 1, 1, 1, 1, 1, 1])
    staged.source.fail_after["orders"] = (1, SourceUnavailableError("shop down"))
    first = staged.run()
    assert first.exit_code is ExitCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert sorted(staged.orders()) == [str(100 + n) for n in range(5)]  # the first page
    # People carry the totals of what was read: person 2's two orders, 3 of person 1's.
    assert staged.profiles()["p1@example.com"]["orders_count"] == "2"
    assert staged.profiles()["p0@example.com"]["orders_count"] == "3"
    del staged.source.fail_after["orders"]
    staged.run(lookback=timedelta(0))
    assert staged.profiles()["p0@example.com"]["orders_count"] == "6"
    assert profile_writes(staged) == 1  # person 1's new totals; person 2 is unchanged
    assert staged.state.hash_keys(pending_scope("orders")) == []


def test_totals_predicted_wrong_are_put_right_by_the_flush(staged: Harness) -> None:
    # Person 30's order is billed to person 1's address.  When the first batch of
    # people is written (25 records: one writer), person 30 is not known yet: the
    # order is counted where its address points.  The orders stream then writes it
    # to person 30, and its flush writes person 1's totals, which differ from
    # those sent.
    for n in range(30):
        staged.source.put("people", id=n + 1, email=f"p{n}@example.com", name=f"P{n}", age=30)
    for order_id, person in ((100, 1), (101, 30)):
        staged.source.put("orders", id=order_id, person_id=person, email="p0@example.com",
                          name="P0", status="processing", total="1")
    report = staged.run(concurrency=1)
    assert report.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert staged.profiles()["p0@example.com"]["orders_count"] == "1"
    assert staged.profiles()["p29@example.com"]["orders_count"] == "1"
    assert profile_writes(staged) == 31  # 30 people, and person 1 once more by the flush
    assert staged.state.hash_keys(pending_scope("orders")) == []


def test_the_staging_file_is_removed_when_the_run_ends(staged: Harness) -> None:
    people_and_orders(staged, [1, 2] * 6)
    staged.run()
    assert staging_files(staged) == []
    staged.source.put("orders", id=300, person_id=1, email="p0@example.com", name="P",
                      status="processing", total="1")
    staged.source.fail_after["orders"] = (0, SourceUnavailableError("shop down"))
    assert staged.run().exit_code is ExitCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert staging_files(staged) == []


def test_a_dry_run_and_a_limited_run_are_not_staged(staged: Harness) -> None:
    people_and_orders(staged, [1, 2] * 6)
    assert staged.run(dry_run=True).exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert staged.fake.calls.get("Database_updateProfiles", 0) == 0
    report = staged.run(limit=3)
    assert report.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert [s.read for s in report.streams] == [2, 3]  # type: ignore[attr-defined]


def test_a_failed_chunk_moves_no_bookmark_and_the_next_run_writes_only_the_rest(
        staged: Harness) -> None:
    people_and_orders(staged, [1, 2] * 30)
    # One writer: a chunk holds one person's 30 orders.  Set-up takes 4 calls, the
    # people 2, the first chunk 30; the 6th write of the second one then fails
    # through every retry.
    staged.fake.faults.schedule([None] * 41 + ["http503"] * 4, when="before")
    first = staged.run(concurrency=1)
    assert first.exit_code is ExitCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert staged.state.bookmark("orders") is None
    staged.fake.faults.clear()
    again = staged.run(concurrency=1)
    assert again.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert len(staged.orders()) == 60 and staged.state.bookmark("orders") is not None
    # The first chunk was committed: only the second one's orders are written again.
    assert staged.fake.calls.get("Profile_updateSubProfiles", 0) == 30
    assert staged.fake.subprofile_duplicates("Orders", "order_id") == {}


def test_a_run_of_the_customers_stream_alone_writes_the_totals_the_state_holds(
        staged: Harness) -> None:
    people_and_orders(staged, [1, 2, 1])
    staged.run()
    staged.source.put("people", id=1, name="Renamed")
    report = staged.run(streams=["people"], lookback=timedelta(0))
    assert report.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    assert profile_writes(staged) == 1
    p0 = staged.profiles()["p0@example.com"]
    assert (p0["name"], p0["orders_count"], p0["total_spent"]) == ("Renamed", "2", "3")
