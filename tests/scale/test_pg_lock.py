"""One lock per job across machines: the PostgreSQL advisory lock (copernica_sdk.sync.pg_lock)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from copernica_sdk._sql import job_location
from copernica_sdk.sync.errors import JobLockedError
from copernica_sdk.sync.lock import JobLock, lock_for
from copernica_sdk.sync.pg_lock import PgJobLock

HOLDER = textwrap.dedent("""
    import sys
    from copernica_sdk.sync.pg_lock import PgJobLock
    lock = PgJobLock(sys.argv[1], "shop")
    lock.acquire()
    print("held", flush=True)
    sys.stdin.read()
""")


def hold_in_child(location: str) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, location], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def acquire_within(location: str, seconds: float) -> PgJobLock:
    """The lock, retried until the server has noticed its last holder is gone."""
    deadline = time.monotonic() + seconds
    while True:
        lock = PgJobLock(location, "shop")
        try:
            lock.acquire()
            return lock
        except JobLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling the server, not waiting a fixed time


def test_lock_for_a_postgres_state_is_an_advisory_lock_and_for_a_file_a_flock(
        postgres_url: str, tmp_path: Path) -> None:
    assert isinstance(lock_for(job_location(postgres_url, "shop"), "shop"), PgJobLock)
    assert isinstance(lock_for(tmp_path / "s.sqlite3", "shop"), JobLock)


def test_second_holder_of_a_jobs_advisory_lock_is_refused_naming_the_holder(
        postgres_url: str) -> None:
    location = job_location(postgres_url, "shop")
    with PgJobLock(location, "shop"), \
            pytest.raises(JobLockedError, match=r"already running \(copernica-sync shop pid \d+"):
        PgJobLock(location, "shop").acquire()
    with PgJobLock(location, "shop"):  # released: free again
        pass


def test_advisory_locks_of_different_jobs_do_not_conflict(postgres_url: str) -> None:
    with PgJobLock(job_location(postgres_url, "a"), "a"), \
            PgJobLock(job_location(postgres_url, "b"), "b"):
        pass


def test_advisory_lock_of_a_sigkilled_holder_is_released_without_an_operator(
        postgres_url: str) -> None:
    location = job_location(postgres_url, "shop")
    child = hold_in_child(location)
    try:
        with pytest.raises(JobLockedError):
            PgJobLock(location, "shop").acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    acquire_within(location, 20).release()
