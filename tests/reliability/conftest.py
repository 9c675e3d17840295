"""Shared set-up for the reliability tests: fakes, job config files, state snapshots.

Both fakes run inside the test process (threaded loopback servers), so a
``copernica-sync`` subprocess that is killed or fails talks to fakes that outlive
it, and the test can inspect their state directly.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.client import Timeout
from copernica_sdk.sync.engine import CheckpointHook, SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import TargetMapping, parse_target
from copernica_sdk.sync.report import RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import clean_env, toml_text

#: Distinctive secrets, so a leak is found by a plain substring search.
TOKEN = "cop-token-REL-S3CRET-4b8d0e2f91"
EXECUTABLE = Path(sys.executable).parent / "copernica-sync"
ROOT = Path(__file__).resolve().parents[2]

#: Snapshot of one Copernica account: what the sync is expected to leave behind.
Snapshot = dict[str, dict[str, Any]]


def make_shop(customers: int = 12, orders: int = 30, seed: int = 11) -> FakeShop:
    """A fake shop whose frozen clock is an hour behind: its records all lie safely
    before any run's start (a run never reads past the second it started)."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return FakeShop(customers=customers, orders=orders, seed=seed, now=now)


def make_copernica() -> FakeCopernica:
    return FakeCopernica(tokens={TOKEN: "demo"})


def fast_retry(max_attempts: int = 6) -> RetryPolicy:
    """The default policy's shape, with waits of milliseconds."""
    return RetryPolicy(max_attempts=max_attempts, max_elapsed=20.0, initial_backoff=0.005,
                       max_backoff=0.02, max_retry_after=0.02)


def woo_connector(shop: FakeShop) -> WooCommerceConnector:
    cfg = shop.source_config()
    cfg.pop("connector")
    return WooCommerceConnector(cfg)


def default_target(shop: FakeShop) -> TargetMapping:
    return parse_target({}, woo_connector(shop).default_mapping())


def apply_schema(fake: FakeCopernica, shop: FakeShop) -> None:
    """``schema apply`` for the connector's default mapping, fault-free."""
    with CopernicaClient(TOKEN, endpoint=fake.url) as client:
        schema.apply(client, schema.plan(client, schema_for(default_target(shop))))


@dataclass
class InProcessJob:
    """The engine driven in-process on one shop and one fake Copernica."""

    shop: FakeShop
    fake: FakeCopernica
    state_path: Path
    retry: RetryPolicy
    timeout: Timeout = field(default_factory=lambda: Timeout(connect=2.0, read=10.0))

    def run(self, hooks: tuple[CheckpointHook, ...] = ()) -> RunReport:
        connector = woo_connector(self.shop)
        target = parse_target({}, connector.default_mapping())
        client = CopernicaClient(TOKEN, endpoint=self.fake.url, retry=self.retry,
                                 timeout=self.timeout)
        try:
            with StateStore(self.state_path) as state:
                engine = SyncEngine(client, connector, target, state, job="rel",
                                    options=SyncOptions(concurrency=4), hooks=hooks)
                return engine.run()
        finally:
            client.close()
            connector.close()


def snapshot(fake: FakeCopernica) -> Snapshot:
    """Profiles by key with their fields; orders and order lines by key with their
    fields and the key of the profile they hang under (ids and timestamps left out:
    they differ between two fakes)."""
    profiles = fake.profiles("Customers")
    key_of = {p["id"]: p["fields"].get("customer_key") for p in profiles}
    out: Snapshot = {"profiles": {}, "Orders": {}, "OrderItems": {}}
    for p in profiles:
        out["profiles"][p["fields"]["customer_key"]] = dict(p["fields"])
    for collection, key in (("Orders", "order_id"), ("OrderItems", "item_key")):
        for s in fake.subprofiles(collection):
            out[collection][s["fields"][key]] = {"profile": key_of.get(s["profile"]),
                                                 **s["fields"]}
    return out


def counts(fake: FakeCopernica) -> tuple[int, int, int]:
    """Raw numbers of profiles, orders and order lines (a duplicate shows up here
    even when a snapshot keyed by key would hide it)."""
    return (len(fake.profiles("Customers")), len(fake.subprofiles("Orders")),
            len(fake.subprofiles("OrderItems")))


def duplicates(fake: FakeCopernica) -> dict[str, Any]:
    """Every kind of duplicate, empty when there is none."""
    found = {
        "profiles": fake.duplicates("Customers", "customer_key"),
        "Orders": fake.subprofile_duplicates("Orders", "order_id"),
        "OrderItems": fake.subprofile_duplicates("OrderItems", "item_key"),
    }
    # The same order under two profiles is a duplicate too (not per-profile).
    for collection, key in (("Orders", "order_id"), ("OrderItems", "item_key")):
        seen: dict[str, int] = {}
        for s in fake.subprofiles(collection):
            seen[s["fields"][key]] = seen.get(s["fields"][key], 0) + 1
        across = {k: n for k, n in seen.items() if n > 1}
        if across:
            found[f"{collection} across profiles"] = across
    return {k: v for k, v in found.items() if v}


def reference_snapshot(shop: FakeShop, tmp: Path) -> Snapshot:
    """The state a clean, fault-free sync of ``shop`` leaves in a fresh fake."""
    with make_copernica() as ref:
        apply_schema(ref, shop)
        report = InProcessJob(shop, ref, tmp / "reference.sqlite3", fast_retry()).run()
        assert int(report.exit_code) == 0, [s.summary() for s in report.streams]
        assert duplicates(ref) == {}
        return snapshot(ref)


# -- the real command --------------------------------------------------------------------

@dataclass
class CliJob:
    """A config file for one job on the fakes, and the real ``copernica-sync`` on it."""

    tmp: Path
    shop: FakeShop
    fake: FakeCopernica
    config: Path
    state_path: Path
    env: dict[str, str]

    @classmethod
    def create(cls, tmp: Path, shop: FakeShop, fake: FakeCopernica, *,
               source: Mapping[str, Any] | None = None,
               extra: Mapping[str, Mapping[str, Any]] | None = None,
               env: Mapping[str, str] | None = None) -> CliJob:
        job = cls(tmp, shop, fake, tmp / "copernica-sync.toml", tmp / "state" / "job.sqlite3",
                  dict(env or {}))
        tables: dict[str, dict[str, Any]] = {
            "copernica": {"access_token": TOKEN, "endpoint": fake.url, "timeout": 10},
            "source": dict(source or shop.source_config()),
            "sync": {"state_path": str(job.state_path), "concurrency": 4},
        }
        for name, values in (extra or {}).items():
            tables.setdefault(name, {}).update(values)
        if "state_url" in tables["sync"]:
            del tables["sync"]["state_path"]  # the shared state (PostgreSQL) instead
        job.config.write_text(toml_text(tables), encoding="utf-8")
        return job

    def argv(self, *args: str) -> list[str]:
        return [str(EXECUTABLE), "--config", str(self.config), *args]

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.tmp,
                                env=clean_env(**self.env))

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), capture_output=True, text=True,
                              timeout=timeout, cwd=self.tmp, env=clean_env(**self.env))


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with make_shop() as s:
        yield s


@pytest.fixture
def copernica(shop: FakeShop) -> Iterator[FakeCopernica]:
    """A fake Copernica with the connector's schema applied."""
    with make_copernica() as fake:
        apply_schema(fake, shop)
        fake.reset_calls()
        yield fake
