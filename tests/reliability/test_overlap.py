"""Two overlapping ``copernica-sync run`` processes of one job: one runs, one exits 75."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import CliJob, describe, duplicates


def test_a_second_run_of_a_running_job_exits_75_with_a_clear_message_and_the_first_finishes(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    job = CliJob.create(tmp_path, shop, copernica)
    overlap_tested = threading.Event()
    answered = 0

    def slow_until_the_overlap_is_tested(_rng: random.Random) -> float:
        # The first run holds the lock and is writing: after its first calls each
        # takes a second until the second run is done, however long that takes on
        # a loaded machine.  (The fake calls this under its lock: it must not block.)
        nonlocal answered
        answered += 1
        return 1.0 if answered > 3 and not overlap_tested.is_set() else 0.0

    copernica.latency = slow_until_the_overlap_is_tested
    first = job.popen("run")
    try:
        deadline = time.monotonic() + 30
        while sum(copernica.calls.values()) < 3:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached Copernica"
            time.sleep(0.02)
        started = time.monotonic()
        second = job.run("run", timeout=60)
        quick = time.monotonic() - started
        assert first.poll() is None, "the first run ended before the overlap was tested"
    finally:
        overlap_tested.set()
        out, err = first.communicate(timeout=120)
    assert second.returncode == 75, describe(second)
    assert "already running" in second.stderr and "'default'" in second.stderr, second.stderr
    assert "pid" in second.stderr
    assert quick < 10, f"the locked run took {quick:.1f}s to give up"
    assert first.returncode == 0, f"exit {first.returncode}\n{out}\n{err}"
    assert duplicates(copernica) == {}
