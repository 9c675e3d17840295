"""A ``copernica-sync run`` SIGKILLed at any moment resumes to the exact state.

The real command runs as a subprocess against fakes that live in the test process
(so they survive the kill).  A kill point is chosen by holding one request in a
fake's latency hook and killing the process while that request is in flight:

- the k-th SOAP call (k spread over the whole run, seeded): inside a batch, with
  some writes of the page done and the page not committed;
- the n-th request to the shop: the engine asks for the next page only after it
  committed the previous one, so this is right after a commit.

The held request still runs on the server after the client died (like a write
whose response was lost).  After each kill a clean re-run must exit 0 with the
state of an uninterrupted sync, no duplicates, and the usage ledger counting every
record once (the job runs a licensed subclass of the WooCommerce connector so the
usage meter is active; the built-in connector is not metered).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import (
    ROOT,
    CliJob,
    Snapshot,
    apply_schema,
    counts,
    describe,
    duplicates,
    make_copernica,
    make_shop,
    reference_snapshot,
    snapshot,
)
from .licensed_connector import NAME, install_plugin

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

HOLD = 0.4          # seconds the chosen request is held while the process is killed
PER_PAGE = 5        # small shop pages: several checkpoints per stream
_RNG = random.Random(20240601)
#: Seeded kill points: fractions of the run's SOAP calls (stratified, so the spread
#: covers start, middle and end), and shop requests (each right after a commit).
CALL_POINTS = [round(_RNG.uniform(i / 8, (i + 1) / 8), 3) for i in range(8)]
SHOP_POINTS = [2, 3, 4, 6, 8]


def _every_other_slow(points: list[Any], ids: list[str]) -> list[Any]:
    """Half the kill points run in the default suite (spread over the whole run), the
    other half with ``pytest -m slow``: CI runs both, so every point is proved."""
    return [pytest.param(p, id=i, marks=() if n % 2 == 0 else pytest.mark.slow)
            for n, (p, i) in enumerate(zip(points, ids, strict=True))]


class Gate:
    """A latency hook that holds the ``target``-th request and signals its arrival."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = 0
        self.arrived = threading.Event()

    def __call__(self, rng: random.Random) -> float:
        self.seen += 1  # the fakes call the hook under their lock
        if self.seen == self.target:
            self.arrived.set()
            return HOLD
        return 0.0


@dataclass
class World:
    shop: FakeShop
    expected: Snapshot
    records: int
    plugin_dir: Path
    soap_calls: int = 0
    shop_requests: int = 0
    baseline_usage: dict[str, int] = field(default_factory=dict)


def _job(tmp: Path, world: World, fake: FakeCopernica) -> CliJob:
    return CliJob.create(
        tmp, world.shop, fake,
        source=world.shop.source_config(connector=NAME, per_page=PER_PAGE),
        extra={"license": {"mode": "observe"}},
        env={"PYTHONPATH": os.pathsep.join([str(world.plugin_dir), str(ROOT)])})


def _usage(state_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{state_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT metric, SUM(quantity) FROM usage_events GROUP BY metric")
        return {str(metric): int(total) for metric, total in rows}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One shop, the state a clean sync leaves, and an uninterrupted CLI run's numbers."""
    tmp = tmp_path_factory.mktemp("crash")
    with make_shop(customers=12, orders=30, seed=11) as shop:
        w = World(shop, reference_snapshot(shop, tmp), len(shop.customers) + len(shop.orders),
                  install_plugin(tmp / "plugins"))
        with make_copernica() as fake:
            apply_schema(fake, shop)
            fake.reset_calls()
            shop.reset_calls()
            base = tmp / "baseline"
            base.mkdir()
            job = _job(base, w, fake)
            result = job.run("run")
            assert result.returncode == 0, describe(result)
            w.soap_calls = sum(fake.calls.values())
            w.shop_requests = sum(shop.calls.values())
            w.baseline_usage = _usage(job.state_path)
            assert snapshot(fake) == w.expected
        yield w


def _kill_while_held(job: CliJob, gate: Gate, *, required: bool = True) -> bool:
    """Kill the run while the gate holds its request; False if the run ended first
    (allowed only when not ``required``)."""
    proc = job.popen("run")
    try:
        deadline = time.monotonic() + 60
        while not gate.arrived.wait(0.02):
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate()
                if not required and proc.returncode == 0:
                    return False
                pytest.fail(f"the run ended before request {gate.target} "
                            f"(exit {proc.returncode}): {out}{err}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(HOLD + 0.1)  # let the held request finish on the server before the re-run
    return True


def _assert_resumed(job: CliJob, world: World, fake: FakeCopernica) -> None:
    result: subprocess.CompletedProcess[str] = job.run("run")
    assert result.returncode == 0, describe(result)
    assert duplicates(fake) == {}
    assert snapshot(fake) == world.expected
    assert counts(fake) == (len(world.expected["profiles"]), len(world.expected["Orders"]),
                            len(world.expected["OrderItems"]))
    usage = _usage(job.state_path)
    assert usage == {"install_month": 1, "records_synced": world.records}, usage


def test_an_uninterrupted_licensed_run_counts_every_record_once(world: World) -> None:
    assert world.baseline_usage == {"install_month": 1, "records_synced": world.records}
    assert world.shop_requests >= max(SHOP_POINTS)
    assert world.soap_calls > 50


@pytest.mark.parametrize("fraction", _every_other_slow(
    CALL_POINTS, [f"call@{f:.2f}" for f in CALL_POINTS]))
def test_killed_during_a_soap_call_a_rerun_ends_exact_without_duplicates_counting_once(
        tmp_path: Path, world: World, fraction: float) -> None:
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        fake.reset_calls()
        job = _job(tmp_path, world, fake)
        # Capped below the end: a run's call count varies a little with scheduling.
        gate = Gate(max(1, min(round(fraction * world.soap_calls),
                               int(world.soap_calls * 0.95))))
        fake.latency = gate
        _kill_while_held(job, gate)
        fake.latency = 0.0
        _assert_resumed(job, world, fake)


@pytest.mark.parametrize("request_no", _every_other_slow(
    SHOP_POINTS, [f"shop@{n}" for n in SHOP_POINTS]))
def test_killed_right_after_a_commit_a_rerun_ends_exact_without_duplicates_counting_once(
        tmp_path: Path, world: World, request_no: int) -> None:
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        job = _job(tmp_path, world, fake)
        gate = Gate(request_no)
        world.shop.latency = gate
        try:
            _kill_while_held(job, gate)
        finally:
            world.shop.latency = 0.0
        _assert_resumed(job, world, fake)


def test_killed_again_and_again_while_resuming_the_run_still_converges(
        tmp_path: Path, world: World) -> None:
    """Three kills in a row on the same state (each re-run killed part-way), then a
    clean run: resuming from a resumed, half-done state is as safe."""
    rng = random.Random(77)
    with make_copernica() as fake:
        apply_schema(fake, world.shop)
        job = _job(tmp_path, world, fake)
        kills = 0
        for _ in range(3):
            gate = Gate(rng.randint(5, max(6, world.soap_calls // 3)))
            fake.latency = gate
            # A resumed run has less left to do: it may finish before the chosen call.
            kills += _kill_while_held(job, gate, required=kills == 0)
            fake.latency = 0.0
        assert kills >= 1
        _assert_resumed(job, world, fake)
