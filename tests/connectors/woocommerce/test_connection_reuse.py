"""A job keeps one HTTP connection per writer: its pool is sized to ``sync.concurrency``."""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk import schema
from copernica_sdk.jobs import open_job, run_job
from copernica_sdk.sync.config import CopernicaSettings, JobConfig, SyncSettings
from copernica_sdk.sync.report import ExitCode
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW

#: Connections a run may open besides one per writer (the main thread's reads,
#: the WSDL fetch).
SLACK = 4


def _job(fake: FakeCopernica, shop: FakeShop, state: Path, concurrency: int) -> JobConfig:
    return JobConfig(
        name="pool", copernica=CopernicaSettings(access_token=fake.token, endpoint=fake.url),
        source=shop.source_config(), target={},
        sync=SyncSettings(state_path=str(state), concurrency=concurrency), license={})


@pytest.mark.parametrize("concurrency", [16, 32])
def test_a_run_opens_at_most_one_connection_per_writer(
        copernica_fake: FakeCopernica, tmp_path: Path, concurrency: int) -> None:
    with FakeShop(customers=40, orders=120, seed=11, now=NOW) as shop:
        config = _job(copernica_fake, shop, tmp_path / "pool.sqlite3", concurrency)
        with open_job(config) as job:
            schema.apply(job.client, schema.plan(job.client, schema_for(job.target)))
        # Latency keeps many writers in flight at once, as against the real service.
        copernica_fake.latency = 0.02
        copernica_fake.reset_calls()
        copernica_fake.reset_connections()
        with open_job(config) as job:
            report = run_job(job, job.options())
    assert report.exit_code is ExitCode.OK, [s.summary() for s in report.streams]
    calls = sum(copernica_fake.calls.values())
    assert calls >= 200
    assert copernica_fake.connections_opened <= concurrency + SLACK, (
        f"{copernica_fake.connections_opened} connections for {calls} calls")
