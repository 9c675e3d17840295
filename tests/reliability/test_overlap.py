"""Two overlapping ``copernica-sync run`` processes of one job: one runs, one exits 75."""

from __future__ import annotations

import time
from pathlib import Path

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import CliJob, describe, duplicates


def test_a_second_run_of_a_running_job_exits_75_with_a_clear_message_and_the_first_finishes(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    job = CliJob.create(tmp_path, shop, copernica)
    copernica.latency = 0.03          # the first run takes a few seconds
    first = job.popen("run")
    try:
        deadline = time.monotonic() + 30
        while sum(copernica.calls.values()) < 3:   # it holds the lock and is writing
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached Copernica"
            time.sleep(0.02)
        started = time.monotonic()
        second = job.run("run", timeout=60)
        quick = time.monotonic() - started
        assert first.poll() is None, "the first run ended before the overlap was tested"
    finally:
        out, err = first.communicate(timeout=120)
    assert second.returncode == 75, describe(second)
    assert "already running" in second.stderr and "'default'" in second.stderr, second.stderr
    assert "pid" in second.stderr
    assert quick < 10, f"the locked run took {quick:.1f}s to give up"
    assert first.returncode == 0, f"exit {first.returncode}\n{out}\n{err}"
    assert duplicates(copernica) == {}
