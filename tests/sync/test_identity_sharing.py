"""Profiles shared by several source records: identities, field precedence, no flip-flop.

Engine level, with the in-memory source (people own identities, orders attach) and
the fake Copernica over loopback.  The memory source's records all change within a
few seconds, so with the default lookback every re-run reads every page again: an
unchanged re-run that writes anything would show up here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import ExitCode, RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .memory_source import MemoryConnector

QUICK = RetryPolicy(max_attempts=2, sleep=lambda _: None)
# Orders say when they were placed: the newest order's data wins, not the last changed.
BY_PLACED = {"streams": {"orders": {"profile": {"recency": "placed"}}}}


class Harness:
    def __init__(self, fake: FakeCopernica, path: Path, *, page_size: int = 5,
                 overrides: dict[str, Any] | None = None) -> None:
        self.fake = fake
        self.source = MemoryConnector({"page_size": page_size})
        self.target = parse_target(overrides or {}, self.source.default_mapping())
        self.client = CopernicaClient(fake.token, endpoint=fake.url, retry=QUICK)
        schema.apply(self.client, schema.plan(self.client, schema_for(self.target)))
        self.state = StateStore(path)

    def run(self, **options: Any) -> RunReport:
        self.fake.reset_calls()
        return SyncEngine(self.client, self.source, self.target, self.state, job="t",
                          options=SyncOptions(**options)).run()

    def profiles(self) -> dict[str, dict[str, str]]:
        return {p["fields"]["customer_key"]: p["fields"] for p in self.fake.profiles("Customers")}

    def person(self, pid: int, email: str, name: str) -> None:
        self.source.put("people", id=pid, email=email, name=name, age=30)

    def order(self, oid: int, email: str, name: str, *, person: int = 0,
              placed: str = "2024-01-01T00:00:00", total: str = "10.00",
              status: str = "completed") -> None:
        self.source.put("orders", id=oid, person_id=person, email=email, name=name,
                        status=status, total=total, placed=placed)


@pytest.fixture
def make(copernica_fake: FakeCopernica, tmp_path: Path) -> Iterator[Any]:
    made: list[Harness] = []

    def build(**kwargs: Any) -> Harness:
        harness = Harness(copernica_fake, tmp_path / f"state{len(made)}.sqlite3", **kwargs)
        made.append(harness)
        return harness

    yield build
    for harness in made:
        harness.state.close()
        harness.client.close()


def test_two_people_whose_emails_differ_only_in_case_share_one_profile_and_the_run_warns(
        make: Any, caplog: pytest.LogCaptureFixture) -> None:
    h = make()
    h.person(1, "Author.One@Example.com", "Importer copy")
    h.person(2, "author.one@example.com", "Author One")
    with caplog.at_level(logging.WARNING, logger="copernica_sdk.sync"):
        report = h.run()
    assert report.exit_code is ExitCode.OK
    assert list(h.profiles()) == ["author.one@example.com"]
    warned = [r.getMessage() for r in caplog.records if "share one profile" in r.getMessage()]
    assert len(warned) == 1 and "author.one@example.com" in warned[0]
    assert report.totals()["warnings"] == 1


def test_a_shared_profile_key_is_findable_in_the_state(make: Any) -> None:
    h = make()
    h.person(1, "Author.One@Example.com", "A")
    h.person(2, "author.one@example.com", "B")
    h.person(3, "someone@example.com", "C")
    h.run()
    shared = h.state.shared_profile_keys()
    assert [(s.source, s.profile_key, s.source_ids) for s in shared] == [
        ("memory", "author.one@example.com", ("1", "2"))]


def test_an_identity_leaving_a_shared_profile_gets_its_own_and_the_other_keeps_it(
        make: Any) -> None:
    h = make()
    h.person(1, "Author.One@Example.com", "Importer copy")
    h.person(2, "author.one@example.com", "Author One")
    h.run()
    shared_id = {k: p for k, p in h.profiles().items()}["author.one@example.com"]
    h.person(1, "imported@example.com", "Importer copy")  # the importer's user moves away
    h.run()
    profiles = h.profiles()
    assert set(profiles) == {"author.one@example.com", "imported@example.com"}
    assert profiles["imported@example.com"]["name"] == "Importer copy"
    assert profiles["author.one@example.com"] == shared_id  # left as it was
    assert h.state.shared_profile_keys() == []
    # The one that stayed is still synced: its next change reaches its profile.
    h.person(2, "author.one@example.com", "Author One (renamed)")
    h.run()
    assert h.profiles()["author.one@example.com"]["name"] == "Author One (renamed)"
    assert h.fake.duplicates("Customers", "customer_key") == {}


def test_a_sole_identity_changing_its_email_still_moves_its_profile(make: Any) -> None:
    h = make()
    h.person(1, "one@example.com", "One")
    h.order(100, "one@example.com", "Guest", placed="2024-02-01T00:00:00")  # guests don't hold it
    h.run()
    before = {p["fields"]["customer_key"]: p["id"] for p in h.fake.profiles("Customers")}
    h.person(1, "two@example.com", "One")
    h.run()
    after = {p["fields"]["customer_key"]: p["id"] for p in h.fake.profiles("Customers")}
    assert after == {"two@example.com": before["one@example.com"]}


@pytest.mark.parametrize("first", ["people", "orders"])
def test_a_guest_order_never_overwrites_a_registered_persons_fields(make: Any,
                                                                   first: str) -> None:
    h = make()
    h.person(1, "p@example.com", "Account name")
    h.order(100, " P@Example.com ", "Guest billing name", placed="2030-01-01T00:00:00")
    second = "orders" if first == "people" else "people"
    h.run(streams=[first])
    h.run(streams=[second])
    h.run()
    profile = h.profiles()["p@example.com"]
    assert profile["name"] == "Account name"
    assert profile["orders_count"] == "1"  # the guest order attaches to the account
    # A later guest order (newer than anything) attaches too.
    h.order(101, "p@example.com", "Another guest", placed="2031-01-01T00:00:00")
    h.run()
    assert h.profiles()["p@example.com"]["name"] == "Account name"
    assert h.profiles()["p@example.com"]["orders_count"] == "2"


def test_the_newest_guest_order_wins_whatever_order_its_pages_arrive_in(make: Any) -> None:
    h = make(page_size=1, overrides=BY_PLACED)
    h.order(100, "guest@example.com", "Old name", placed="2024-03-01T10:00:00")
    h.order(101, "guest@example.com", "New name", placed="2024-05-01T10:00:00")
    h.run()
    assert h.profiles()["guest@example.com"]["name"] == "New name"
    # The old order changes (status) after the new one: it is read last, in its own
    # page and run, yet its billing data is older.
    h.order(100, "guest@example.com", "Old name", placed="2024-03-01T10:00:00",
            status="processing")
    h.run()
    assert h.profiles()["guest@example.com"]["name"] == "New name"
    h.order(102, "guest@example.com", "Newest name", placed="2024-06-01T10:00:00")
    h.run()
    assert h.profiles()["guest@example.com"]["name"] == "Newest name"
    assert h.profiles()["guest@example.com"]["orders_count"] == "3"


def test_unchanged_reruns_write_nothing_for_profiles_shared_across_pages_and_streams(
        make: Any) -> None:
    h = make(page_size=2)
    h.person(1, "Shared@Example.com", "Account A")
    h.person(2, "other@example.com", "Other")
    h.person(3, "shared@example.com", "Account B")  # same key as person 1
    # Orders of one key in different pages: registered, guest, guest (other name).
    h.order(100, "shared@example.com", "Billing A", person=1, placed="2024-01-02T00:00:00")
    h.order(101, "x@example.com", "Someone", placed="2024-01-03T00:00:00")
    h.order(102, "SHARED@example.com", "Guest one", placed="2024-01-04T00:00:00")
    h.order(103, "y@example.com", "Someone else", placed="2024-01-05T00:00:00")
    h.order(104, "shared@example.com", "Guest two", placed="2024-01-01T00:00:00")
    # A guest-only key with two orders in different pages and different names.
    h.order(105, "g@example.com", "G first", placed="2024-02-02T00:00:00")
    h.order(106, "z@example.com", "Filler", placed="2024-01-06T00:00:00")
    h.order(107, "g@example.com", "G second", placed="2024-02-01T00:00:00")
    first = h.run()
    assert first.exit_code is ExitCode.OK
    # No recency mapped: the most recently changed order (the replication key) wins.
    assert h.profiles()["g@example.com"]["name"] == "G second"
    assert h.profiles()["shared@example.com"]["orders_count"] == "3"
    for _ in range(3):
        report = h.run()
        assert report.exit_code is ExitCode.OK
        assert h.fake.write_calls() == 0, [s.summary() for s in report.streams]
        assert report.totals()["unchanged"] == report.totals()["read"]
    assert h.fake.duplicates("Customers", "customer_key") == {}
