"""The SIGKILL crash-resume guarantees with the state in PostgreSQL (``state_url``).

The same real ``copernica-sync run`` subprocess, fakes and kill points as
tests/reliability/test_crash_resume.py (a sample of them): a run killed at any
moment leaves the whole checkpoint or none of it in PostgreSQL, the advisory job
lock dies with the process, and a re-run ends exact, without duplicates, counting
usage once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from copernica_sdk._sql import job_location
from copernica_sdk.licensing.ledger import open_ledger
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ..reliability.conftest import (
    ROOT,
    CliJob,
    apply_schema,
    counts,
    describe,
    duplicates,
    make_copernica,
    snapshot,
)
from ..reliability.licensed_connector import NAME
from ..reliability.test_crash_resume import PER_PAGE, Gate, World, _kill_while_held, world

__all__ = ["world"]  # the module-scoped fixture, shared with the SQLite tests' set-up


def _pg_job(tmp: Path, world: World, fake: FakeCopernica, url: str) -> CliJob:
    return CliJob.create(
        tmp, world.shop, fake,
        source=world.shop.source_config(connector=NAME, per_page=PER_PAGE),
        extra={"license": {"mode": "observe"}, "sync": {"state_url": url}},
        env={"PYTHONPATH": os.pathsep.join([str(world.plugin_dir), str(ROOT)])})


def _usage(location: str) -> dict[str, int]:
    with open_ledger(location) as conn:
        rows = conn.execute("SELECT metric, SUM(quantity) FROM usage_events GROUP BY metric")
        return {str(metric): int(total) for metric, total in rows.fetchall()}


def _assert_resumed(job: CliJob, world: World, fake: FakeCopernica, url: str) -> None:
    result = job.run("run")
    assert result.returncode == 0, describe(result)
    assert duplicates(fake) == {}
    assert snapshot(fake) == world.expected
    assert counts(fake) == (len(world.expected["profiles"]), len(world.expected["Orders"]),
                            len(world.expected["OrderItems"]))
    usage = _usage(job_location(url, "default"))
    assert usage == {"install_month": 1, "records_synced": world.records}, usage


def test_a_run_on_postgres_state_ends_exact_and_counts_usage_once(
        tmp_path: Path, world: World, postgres_url: str) -> None:
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        job = _pg_job(tmp_path, world, fake, postgres_url)
        _assert_resumed(job, world, fake, postgres_url)
        assert not (tmp_path / "state").exists()  # nothing went to an SQLite file
        again = job.run("run")  # nothing changed: nothing written, nothing counted
        assert again.returncode == 0, describe(again)
        _assert_resumed(job, world, fake, postgres_url)


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.3, 0.7], ids=["call@0.30", "call@0.70"])
def test_killed_during_a_soap_call_a_rerun_on_postgres_ends_exact_counting_once(
        tmp_path: Path, world: World, postgres_url: str, fraction: float) -> None:
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        fake.reset_calls()
        job = _pg_job(tmp_path, world, fake, postgres_url)
        gate = Gate(max(1, round(fraction * world.soap_calls)))
        fake.latency = gate
        _kill_while_held(job, gate)
        fake.latency = 0.0
        _assert_resumed(job, world, fake, postgres_url)


@pytest.mark.slow
def test_killed_right_after_a_commit_a_rerun_on_postgres_ends_exact_counting_once(
        tmp_path: Path, world: World, postgres_url: str) -> None:
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        job = _pg_job(tmp_path, world, fake, postgres_url)
        gate = Gate(4)
        world.shop.latency = gate
        try:
            _kill_while_held(job, gate)
        finally:
            world.shop.latency = 0.0
        _assert_resumed(job, world, fake, postgres_url)
