"""The sync engine end to end against the fake Copernica over loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient
from copernica_sdk.sync.engine import SyncEngine
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import ExitCode
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .engine_harness import Harness, seed
from .memory_source import MemoryConnector


def test_initial_sync_writes_every_record_once(h: Harness) -> None:
    seed(h)
    report = h.run()
    assert report.exit_code is ExitCode.OK
    assert sorted(h.profiles()) == [f"p{n}@example.com" for n in range(6)]
    assert len(h.orders()) == 9
    assert h.fake.duplicates("Customers", "customer_key") == {}


def test_a_rerun_with_nothing_changed_makes_no_write_calls(h: Harness) -> None:
    seed(h)
    h.run()
    report = h.run(full_refresh=False)
    assert h.fake.write_calls() == 0
    assert report.totals()["written"] == 0


def test_one_changed_record_costs_exactly_its_writes(h: Harness) -> None:
    seed(h)
    h.run()
    h.source.put("orders", id=103, status="completed")
    report = h.run()
    assert h.fake.calls.get("Profile_updateSubProfiles") == 1
    assert h.fake.write_calls() == 1
    assert report.totals()["written"] == 1
    assert h.orders()["103"]["status"] == "completed"


def test_a_full_refresh_resends_everything_without_duplicates(h: Harness) -> None:
    seed(h)
    h.run()
    h.run(full_refresh=True)
    assert h.fake.write_calls() > 0
    assert h.fake.duplicates("Customers", "customer_key") == {}
    assert h.fake.subprofile_duplicates("Orders", "order_id") == {}


def test_a_service_failure_mid_run_then_a_rerun_ends_exact_with_zero_duplicates(h: Harness) -> None:
    seed(h, people=6, orders=20)
    h.fake.faults.schedule([None] * 25 + ["http503"] * 4, when="after")
    failed = h.run(concurrency=1)  # one writer: the scheduled faults hit one call's retries
    assert failed.exit_code is ExitCode.UNAVAILABLE
    h.fake.faults.clear()
    again = h.run()
    assert again.exit_code is ExitCode.OK
    assert len(h.profiles()) == 6 and len(h.orders()) == 20
    assert h.fake.duplicates("Customers", "customer_key") == {}
    assert h.fake.subprofile_duplicates("Orders", "order_id") == {}


def test_the_bookmark_does_not_move_past_a_failed_page(h: Harness) -> None:
    seed(h, people=10, orders=0)
    # 2 calls find the database and collection, 2 read their field lists again (every
    # run revalidates them), page 1 costs 5 upserts; page 2's first upsert then fails
    # through every retry (2 attempts).
    h.fake.faults.schedule([None] * 9 + ["http503"] * 4, when="before")
    report = h.run(concurrency=1)  # one writer: the failing call is the next one
    assert report.exit_code is ExitCode.UNAVAILABLE
    bookmark = h.state.bookmark("people")
    assert bookmark is not None and bookmark < max(r["updated"] for r in
                                                  h.source.tables["people"].values())


def test_a_record_refused_by_a_type_check_is_dead_lettered_and_the_run_goes_on(h: Harness) -> None:
    seed(h)
    h.source.put("people", id=3, age="forty")
    report = h.run()
    assert report.exit_code is ExitCode.DEAD_LETTERED
    letters = h.state.dead_letters()
    assert [(d.stream, d.record_key) for d in letters] == [("people", "3")]
    assert "age" in letters[0].reason and "integer" in letters[0].reason
    assert len(h.profiles()) == 6  # everyone else synced (person 3 via their orders)


def test_dead_letters_are_replayed_after_the_source_is_fixed(h: Harness) -> None:
    seed(h)
    h.source.put("people", id=3, age="forty")
    h.run()
    h.source.tables["people"][3]["age"] = 33
    letter = h.state.dead_letters()[0]
    h.state.purge_dead_letters(ids=[letter.id])
    with h.state.checkpoint() as cp:
        cp.add_dead_letter(run_id=None, stream="people", record_key="3", reason="test",
                           payload=h.source.tables["people"][3])
    engine = SyncEngine(h.client, h.source, h.target, h.state, job="t")
    report = engine.replay_dead_letters()
    assert report.streams[0].written == 1
    assert h.state.dead_letters() == []
    assert h.profiles()["p2@example.com"]["age"] == "33"


def test_a_record_without_its_key_is_dead_lettered(h: Harness) -> None:
    seed(h)
    h.source.put("people", id=9, email="not an address", name="X", age=1)
    report = h.run()
    assert report.exit_code is ExitCode.DEAD_LETTERED
    assert "e-mail" in h.state.dead_letters()[0].reason


def test_characters_xml_forbids_are_removed_and_the_record_synced(h: Harness) -> None:
    seed(h)
    h.source.put("orders", id=104, status="on\x01hold\x1f")
    report = h.run()
    assert report.exit_code is ExitCode.OK and report.totals()["warnings"] == 1
    assert h.orders()["104"]["status"] == "onhold"


def test_an_email_change_updates_the_same_profile(h: Harness) -> None:
    seed(h)
    h.run()
    before = {p["fields"]["customer_key"]: p["id"] for p in h.fake.profiles("Customers")}
    h.source.put("people", id=1, email="new.address@example.com")
    h.run()
    after = {p["fields"]["customer_key"]: p["id"] for p in h.fake.profiles("Customers")}
    assert after["new.address@example.com"] == before["p0@example.com"]
    assert "p0@example.com" not in after and len(after) == 6


def test_orders_of_a_known_person_attach_to_their_profile_whatever_the_billing_address(
        h: Harness) -> None:
    seed(h)
    h.run()
    h.source.put("orders", id=500, person_id=2, email="billing.only@example.com", name="P",
                 status="processing", total="1.00")
    h.run()
    assert "billing.only@example.com" not in h.profiles()
    profile_of = {s["fields"]["order_id"]: s["profile"] for s in h.fake.subprofiles("Orders")}
    ids = {p["fields"]["customer_key"]: p["id"] for p in h.fake.profiles("Customers")}
    assert profile_of["500"] == ids["p1@example.com"]


def test_a_guest_order_with_a_customers_address_joins_that_profile(h: Harness) -> None:
    seed(h)
    h.source.put("orders", id=600, person_id=0, email="P4@example.com", name="Guest",
                 status="processing", total="2.00")
    h.run()
    assert len(h.profiles()) == 6
    assert h.fake.duplicates("Customers", "customer_key") == {}


def test_dry_run_writes_nothing_and_saves_nothing(h: Harness) -> None:
    seed(h)
    report = h.run(dry_run=True)
    assert h.fake.write_calls() == 0
    assert h.state.bookmarks() == {} and h.state.runs() == []
    assert report.totals()["written"] == 15


def test_limit_stops_each_stream_after_n_records(h: Harness) -> None:
    seed(h)
    report = h.run(limit=4)
    assert [s.read for s in report.streams] == [4, 4]


def test_unknown_streams_in_options_are_a_config_error(h: Harness) -> None:
    from copernica_sdk.sync.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown stream"):
        h.run(streams=["nope"])


def test_a_missing_database_is_a_config_error_naming_the_fix(copernica_fake: FakeCopernica,
                                                            tmp_path: Path) -> None:
    from copernica_sdk.sync.errors import ConfigError

    source = MemoryConnector()
    target = parse_target({}, source.default_mapping())
    client = CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url)
    with StateStore(tmp_path / "s.sqlite3") as state, \
            pytest.raises(ConfigError, match="schema apply"):
        SyncEngine(client, source, target, state).run()


def test_aggregates_count_and_sum_a_persons_qualifying_orders_across_runs(h: Harness) -> None:
    seed(h, people=2, orders=4)  # person 1: orders 100, 102; person 2: 101, 103
    h.run()
    first = h.profiles()["p0@example.com"]
    assert (first["orders_count"], first["total_spent"], first["last_order"]) == ("2", "3", "102")
    h.source.put("orders", id=102, status="cancelled")  # stops counting
    h.source.put("orders", id=104, person_id=1, email="p0@example.com", name="Person 0",
                 status="completed", total="10.25")
    h.run()
    after = h.profiles()["p0@example.com"]
    assert (after["orders_count"], after["total_spent"], after["last_order"]) == (
        "2", "10.75", "104")
    assert h.profiles()["p1@example.com"]["orders_count"] == "2"

