"""The real SyncEngine + fake Copernica + a licensed tiny connector, with preflight."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.keys import key_id, public_key_text
from copernica_sdk.licensing.preflight import LicenseDecision, preflight
from copernica_sdk.sync.config import CopernicaSettings, JobConfig, SyncSettings
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .tiny_source import TinyConnector

QUICK = RetryPolicy(max_attempts=2, sleep=lambda _: None)


def licensed_connector(key: Ed25519PrivateKey) -> type[TinyConnector]:
    raw = key.public_key().public_bytes_raw()

    class Licensed(TinyConnector):
        license_public_keys: ClassVar[Mapping[str, str]] = {
            key_id(raw): public_key_text(key.public_key())}

    return Licensed


def job_config(license: Mapping[str, Any] | None = None, state_path: Path | None = None,
               url: str = "https://shop.example.nl") -> JobConfig:
    return JobConfig(name="t", copernica=CopernicaSettings(access_token="x"),
                     source={"connector": "tiny", "url": url}, target={},
                     sync=SyncSettings(state_path=str(state_path) if state_path else None),
                     license=dict(license or {}))


class Harness:
    def __init__(self, fake: FakeCopernica, state_path: Path, connector_cls: type[TinyConnector],
                 clock: FixedClock) -> None:
        self.fake = fake
        self.state_path = state_path
        self.connector_cls = connector_cls
        self.source = connector_cls({"page_size": 3})
        self.target = parse_target({}, self.source.default_mapping())
        self.client = CopernicaClient(fake.token, endpoint=fake.url, retry=QUICK)
        schema.apply(self.client, schema.plan(self.client, schema_for(self.target)))
        self.clock = clock

    def decide(self, token: str | None, license: Mapping[str, Any] | None = None
               ) -> LicenseDecision:
        env = {"COPERNICA_PLUGIN_LICENSE": token} if token else {}
        return preflight(job_config(license, self.state_path), self.connector_cls,
                         self.state_path, self.clock, env=env)

    def run(self, decision: LicenseDecision, **options: Any) -> RunReport:
        decision.raise_if_refused()
        with StateStore(self.state_path) as state:
            engine = SyncEngine(self.client, self.source, self.target, state, job="t",
                                options=SyncOptions(**options),
                                hooks=decision.hooks(self.clock))
            return engine.run()

    def usage(self, metric: str = "records_synced") -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.state_path)
        try:
            return conn.execute("SELECT event_id, stream, quantity, seq, license_state "
                                "FROM usage_events WHERE metric = ? ORDER BY run_id, seq",
                                (metric,)).fetchall()
        finally:
            conn.close()

    def total(self, metric: str = "records_synced") -> int:
        return sum(row[2] for row in self.usage(metric))

    def close(self) -> None:
        self.client.close()


def after_one_run(fake: FakeCopernica, state_path: Path, key: Ed25519PrivateKey, token: str,
                  *, people: int, clock: FixedClock) -> Harness:
    """A harness of a connector licensed by ``key`` whose first run, with ``token``,
    synced ``people`` records (their usage metered)."""
    harness = Harness(fake, state_path, licensed_connector(key), clock)
    for i in range(people):
        harness.source.put(id=i + 1, email=f"p{i}@example.com", name=f"P{i}")
    harness.run(harness.decide(token))
    return harness
