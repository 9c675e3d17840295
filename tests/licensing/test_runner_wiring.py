"""run_job wires licensing in: preflight before the engine, the usage meter in its checkpoints."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.jobs import Job, run_job
from copernica_sdk.licensing.clock import SystemClock
from copernica_sdk.licensing.errors import LicenseRefusedError
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .conftest import make_claims
from .harness import Harness, job_config, licensed_connector


@pytest.fixture
def setup(copernica_fake: FakeCopernica, tmp_path: Path,
          partner_key: Ed25519PrivateKey) -> Harness:
    harness = Harness(copernica_fake, tmp_path / "state.sqlite3",
                      licensed_connector(partner_key), SystemClock())  # type: ignore[arg-type]
    for i in range(5):
        harness.source.put(id=i + 1, email=f"p{i}@example.com", name=f"Person {i}")
    return harness


def content(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def job_for(h: Harness, license: dict[str, object], state: StateStore) -> Job:
    config = job_config(license, h.state_path)
    return Job(config, h.client, h.source, h.target, state)


def test_enforce_without_a_license_refuses_to_start_and_touches_no_state(
        setup: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPERNICA_PLUGIN_LICENSE", raising=False)
    with StateStore(setup.state_path) as state:
        before = content(setup.state_path)
        job = job_for(setup, {"mode": "enforce"}, state)
        setup.fake.reset_calls()
        with pytest.raises(LicenseRefusedError):
            run_job(job, job.options())
    assert content(setup.state_path) == before
    assert setup.fake.write_calls() == 0


def test_a_valid_license_runs_and_meters_every_synced_record(
        setup: Harness, monkeypatch: pytest.MonkeyPatch, partner_key: Ed25519PrivateKey) -> None:
    now = int(time.time())
    token = sign_token(make_claims(not_before=now - 86400, expires=now + 30 * 86400),
                       partner_key)
    monkeypatch.setenv("COPERNICA_PLUGIN_LICENSE", token)
    with StateStore(setup.state_path) as state:
        job = job_for(setup, {"mode": "enforce", "shop_url": "https://shop.example.nl"}, state)
        report = run_job(job, job.options())
    written = report.totals()["written"]
    assert written > 0
    with sqlite3.connect(setup.state_path) as conn:
        metered = conn.execute("SELECT COALESCE(SUM(quantity), 0) FROM usage_events "
                               "WHERE metric = 'records_synced'").fetchone()[0]
    assert metered == written
