"""Scale-out end to end: real ``copernica-sync worker`` processes on a real Redis,
state in a real PostgreSQL, fake shops and one fake Copernica (no mocks)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from .fleet import Fleet, fleet, job_name, wait_until

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

RESULT_TIMEOUT = 120


def assert_all_synced_exactly(f: Fleet) -> None:
    for i, job in enumerate(f.jobs):
        f.assert_exact(i)
        assert f.usage(job) == {"install_month": 1, "records_synced": f.records(i)}, job
        f.assert_never_overlapped(job)


def test_workers_sync_every_queued_job_exactly_once(tmp_path: Path, postgres_url: str,
                                                    redis_url: str) -> None:
    """Fast end-to-end: 3 shops, 2 workers, each job queued twice at once — one run
    per job does the work, the copy meets the job lock or finds nothing new."""
    with fleet(tmp_path, postgres_url, redis_url, shops=3) as f:
        f.worker("--name", "w1@%h")
        f.worker("--name", "w2@%h")
        results = f.enqueue(*f.jobs, *f.jobs)
        outcomes = [r.get(timeout=RESULT_TIMEOUT) for r in results]
        assert {o["exit_code"] for o in outcomes} <= {0, 75}, outcomes
        for job in f.jobs:
            mine = [o for o in outcomes if o["job"] == job]
            assert any(o["exit_code"] == 0 for o in mine), mine
        assert_all_synced_exactly(f)


@pytest.mark.slow
def test_three_workers_sync_twenty_shops_exactly_with_zero_duplicates(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    with fleet(tmp_path, postgres_url, redis_url, shops=20) as f:
        for n in range(3):
            f.worker("--name", f"w{n}@%h")
        outcomes = [r.get(timeout=RESULT_TIMEOUT * 3) for r in f.enqueue(*f.jobs)]
        assert [o["exit_code"] for o in outcomes] == [0] * 20, outcomes
        assert_all_synced_exactly(f)


class HoldOnce:
    """A shop latency hook that holds its ``target``-th request until released."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = 0
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, rng: object) -> float:
        self.seen += 1
        if self.seen == self.target:
            self.arrived.set()
            self.release.wait(60)
        return 0.0


@pytest.mark.slow
def test_a_sigkilled_worker_s_job_is_redelivered_resumes_and_ends_exact_counting_once(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    with fleet(tmp_path, postgres_url, redis_url, shops=3, customers=8, orders=20) as f:
        victim_shop = f.shops[0]
        hold = HoldOnce(4)  # past the first checkpoints: the run is half-way
        victim_shop.latency = hold
        victim = f.worker("--name", "victim@%h")
        (result,) = f.enqueue(job_name(0))
        assert hold.arrived.wait(RESULT_TIMEOUT), f.logs()
        f.kill(victim)  # the whole worker: main process and pool child, mid-job
        hold.release.set()
        victim_shop.latency = 0.0
        assert len(f.runs(job_name(0))) == 1 and f.runs(job_name(0))[0][2] is None
        for n in range(3):
            f.worker("--name", f"w{n}@%h")
        outcome = result.get(timeout=RESULT_TIMEOUT)  # the redelivered message's run
        assert outcome["exit_code"] == 0, outcome
        runs = f.runs(job_name(0))
        assert len(runs) == 2 and runs[1][3] == 0, runs  # the killed run, then the resumed one
        f.assert_exact(0)
        assert f.usage(job_name(0)) == {"install_month": 1, "records_synced": f.records(0)}
        f.assert_never_overlapped(job_name(0))


@pytest.mark.slow  # ~8 s of CPU (three Celery workers); tests/scale/test_fairness.py covers the
# semaphore itself against a real Redis in the default run
def test_the_per_account_cap_holds_across_workers(tmp_path: Path, postgres_url: str,
                                                  redis_url: str) -> None:
    """3 workers x 4 writer threads could put 12 calls in flight on the one account;
    with --calls-per-account 2 the fake never sees more than 2 at once."""
    with fleet(tmp_path, postgres_url, redis_url, shops=4, latency=0.02) as f:
        for n in range(3):
            f.worker("--name", f"w{n}@%h", "--calls-per-account", "2")
        f.fake.reset_calls()
        outcomes = [r.get(timeout=RESULT_TIMEOUT) for r in f.enqueue(*f.jobs)]
        assert [o["exit_code"] for o in outcomes] == [0] * 4, outcomes
        assert f.fake.max_in_flight["demo"] == 2, dict(f.fake.max_in_flight)
        for i in range(4):
            f.assert_exact(i)


@pytest.mark.slow
def test_two_schedulers_by_mistake_run_each_job_once_per_tick(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    with fleet(tmp_path, postgres_url, redis_url, shops=3, schedule="* * * * *") as f:
        f.worker("--name", "w1@%h", "--concurrency", "2")
        f.worker("--name", "w2@%h", "--concurrency", "2")
        f.start("scheduler", "--schedule-file", str(tmp_path / "beat-a"))
        f.start("scheduler", "--schedule-file", str(tmp_path / "beat-b"))
        results = f.app().backend

        def settled() -> bool:
            # Both schedulers' messages of the first tick handled: 2 per job.
            return len(list(results.client.scan_iter("celery-task-meta-*"))) >= 2 * len(f.jobs)

        wait_until(settled, 150, "both schedulers' first tick handled", f)
        for p in f.procs[2:]:  # stop the schedulers: no further ticks
            p.terminate()
        metas = [results.get_task_meta(k.decode().removeprefix("celery-task-meta-"))
                 for k in results.client.scan_iter("celery-task-meta-*")]
        outcomes = [m["result"] for m in metas]
        for i, job in enumerate(f.jobs):
            mine = sorted(o["exit_code"] for o in outcomes if o["job"] == job)
            runs = f.runs(job)
            # One run per tick; the other scheduler's copy skipped (exit 75), whether it
            # came while the run went on (the lock) or after (the run history).
            assert len(runs) == len(mine) - mine.count(75), (job, runs, outcomes)
            assert mine.count(0) == len(runs) and 75 in mine, (job, outcomes)
            f.assert_exact(i)
            f.assert_never_overlapped(job)


def pool_children(pid: int) -> list[int]:
    """The worker's pool processes (its children, from /proc)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_a_pool_process_killed_mid_job_is_rejected_and_redelivered_at_once(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    """reject_on_worker_lost: the worker itself survives and requeues the message
    (no visibility timeout to wait for); the re-run resumes and ends exact."""
    with fleet(tmp_path, postgres_url, redis_url, shops=1, customers=8, orders=20) as f:
        hold = HoldOnce(4)
        f.shops[0].latency = hold
        worker = f.start("worker", "--name", "w1@%h")  # default visibility timeout: 1 h
        (result,) = f.enqueue(job_name(0))
        assert hold.arrived.wait(RESULT_TIMEOUT), f.logs()
        children = pool_children(worker.pid)
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)
        hold.release.set()
        f.shops[0].latency = 0.0
        outcome = result.get(timeout=RESULT_TIMEOUT)
        assert outcome["exit_code"] == 0, outcome
        runs = f.runs(job_name(0))
        assert len(runs) == 2 and runs[0][2] is None and runs[1][3] == 0, runs
        f.assert_exact(0)
        assert f.usage(job_name(0)) == {"install_month": 1, "records_synced": f.records(0)}
