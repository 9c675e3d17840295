"""With 10% of Copernica calls failing, a sync still ends in the exact expected state.

The engine runs in-process so the client's retry policy can be injected with
waits of milliseconds; the fake's read-timeout fault holds a request longer than
the client's read timeout.  Faults land before or after the operation ran (the
response of a successful write is lost), with a seeded mix of kinds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk.client import Timeout
from copernica_sdk.sync.report import RunReport
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .conftest import (
    InProcessJob,
    apply_schema,
    counts,
    duplicates,
    fast_retry,
    make_copernica,
    make_shop,
    reference_snapshot,
    snapshot,
)

KINDS = ["http500", "http502", "http503", "http429", "reset", "timeout", "truncated"]
MAX_RUNS = 5


def _run_until_ok(job: InProcessJob) -> list[RunReport]:
    reports: list[RunReport] = []
    for _ in range(MAX_RUNS):
        reports.append(job.run())
        if int(reports[-1].exit_code) == 0:
            break
    return reports


def _faulty(fake: FakeCopernica, seed: int, rate: float = 0.10) -> None:
    fake.faults.timeout_seconds = 0.6
    fake.faults.set_rate(rate, kinds=KINDS, seed=seed, when="mixed")


@pytest.mark.parametrize("seed", [3, 17, 101])
def test_a_sync_with_ten_percent_failing_calls_ends_in_the_exact_state_without_duplicates(
        tmp_path: Path, seed: int) -> None:
    with make_shop(customers=12, orders=30, seed=seed) as shop:
        expected = reference_snapshot(shop, tmp_path)
        with make_copernica() as fake:
            apply_schema(fake, shop)
            _faulty(fake, seed)
            job = InProcessJob(shop, fake, tmp_path / "faulty.sqlite3", fast_retry(),
                               timeout=Timeout(connect=2.0, read=0.2))
            reports = _run_until_ok(job)
            fake.faults.clear()
            summaries = [[s.summary() for s in r.streams] for r in reports]
            assert int(reports[-1].exit_code) == 0, summaries
            assert sum(fake.faults.injected.values()) >= 3, fake.faults.injected
            assert duplicates(fake) == {}
            assert snapshot(fake) == expected
            assert counts(fake) == (len(expected["profiles"]), len(expected["Orders"]),
                                    len(expected["OrderItems"]))


def test_every_fault_kind_and_both_timings_are_survived(tmp_path: Path) -> None:
    """A higher rate over the same shop, so each kind of fault, before and after the
    operation, is injected at least once: the result is still exact."""
    with make_shop(customers=12, orders=30, seed=5) as shop:
        expected = reference_snapshot(shop, tmp_path)
        with make_copernica() as fake:
            apply_schema(fake, shop)
            _faulty(fake, seed=5, rate=0.25)
            job = InProcessJob(shop, fake, tmp_path / "faulty.sqlite3",
                               fast_retry(max_attempts=8),
                               timeout=Timeout(connect=2.0, read=0.2))
            reports = _run_until_ok(job)
            history = list(fake.faults.history)
            fake.faults.clear()
            assert int(reports[-1].exit_code) == 0, [
                [s.summary() for s in r.streams] for r in reports]
            assert set(fake.faults.injected) == set(KINDS), fake.faults.injected
            assert {h.when for h in history} == {"before", "after"}
            assert duplicates(fake) == {}
            assert snapshot(fake) == expected


def test_a_run_that_gives_up_on_faults_commits_nothing_and_the_next_run_completes(
        tmp_path: Path) -> None:
    """Retries exhausted (one attempt only, 40% faults): the run exits 5 without a
    partial state being mistaken for done; fault-free re-runs converge exactly."""
    with make_shop(customers=12, orders=30, seed=7) as shop:
        expected = reference_snapshot(shop, tmp_path)
        with make_copernica() as fake:
            apply_schema(fake, shop)
            # The run's first 6 calls find the database and collections and read their
            # field lists again (a failure there stops the run before it starts, by
            # design); then 40% fail.
            fake.faults.schedule([None] * 6)
            _faulty(fake, seed=7, rate=0.4)
            job = InProcessJob(shop, fake, tmp_path / "faulty.sqlite3",
                               fast_retry(max_attempts=1),
                               timeout=Timeout(connect=2.0, read=0.2))
            first = job.run()
            assert int(first.exit_code) == 5, [s.summary() for s in first.streams]
            assert "FAILED" in first.streams[-1].summary()
            fake.faults.clear()
            job.retry = fast_retry()
            reports = _run_until_ok(job)
            assert int(reports[-1].exit_code) == 0
            assert duplicates(fake) == {}
            assert snapshot(fake) == expected
