"""The engine harness of the sync tests: a memory source, the fake Copernica over
loopback, a state file; ``seed`` fills the source with people and their orders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .memory_source import MemoryConnector

QUICK = RetryPolicy(max_attempts=2, sleep=lambda _: None)


class Harness:
    def __init__(self, fake: FakeCopernica, state_path: Path) -> None:
        self.fake = fake
        self.source = MemoryConnector()
        self.target = parse_target({}, self.source.default_mapping())
        self.client = CopernicaClient(fake.token, endpoint=fake.url, retry=QUICK)
        schema.apply(self.client, schema.plan(self.client, schema_for(self.target)))
        self.state = StateStore(state_path)

    def run(self, **options: object) -> object:
        engine = SyncEngine(self.client, self.source, self.target, self.state, job="t",
                            options=SyncOptions(**options))  # type: ignore[arg-type]
        self.fake.reset_calls()
        # The memory source's clock is in 2024: run "now" just after its last change.
        return engine.run()

    def profiles(self) -> dict[str, dict[str, str]]:
        return {p["fields"]["customer_key"]: p["fields"] for p in self.fake.profiles("Customers")}

    def orders(self) -> dict[str, dict[str, str]]:
        return {s["fields"]["order_id"]: s["fields"] for s in self.fake.subprofiles("Orders")}


def seed(h: Harness, people: int = 6, orders: int = 9) -> None:
    for n in range(people):
        h.source.put("people", id=n + 1, email=f"P{n}@Example.com ", name=f"Person {n}", age=20 + n)
    for n in range(orders):
        person = n % people + 1
        h.source.put("orders", id=100 + n, person_id=person, email=f"p{person - 1}@example.com",
                     name=f"Person {person - 1}", status="processing", total=f"{n}.50")


def people_and_orders(h: Harness, owners: Sequence[int]) -> None:
    """Two people; order ``100 + n`` belongs to person ``owners[n]`` (pages of 5)."""
    for n in range(2):
        h.source.put("people", id=n + 1, email=f"p{n}@example.com", name=f"Person {n}", age=30)
    for n, person in enumerate(owners):
        h.source.put("orders", id=100 + n, person_id=person, email=f"p{person - 1}@example.com",
                     name=f"Person {person - 1}", status="processing", total="1.50")


def profile_writes(h: Harness) -> int:
    """Profile upserts the fake served since the last run started."""
    return h.fake.calls.get("Database_updateProfiles", 0)


@pytest.fixture
def h(copernica_fake: FakeCopernica, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(copernica_fake, tmp_path / "state.sqlite3")
    yield harness
    harness.state.close()
    harness.client.close()
