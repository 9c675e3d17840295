"""The per-job run lock (copernica_sdk.sync.lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from copernica_sdk.sync.errors import JobLockedError
from copernica_sdk.sync.lock import JobLock

# Locks, reports "<outcome> <pid>", then holds the lock until stdin closes.
_CHILD = textwrap.dedent("""
    import os, sys
    from copernica_sdk.sync.errors import JobLockedError
    from copernica_sdk.sync.lock import JobLock

    print("ready", flush=True)
    sys.stdin.readline()
    lock = JobLock(sys.argv[1], "shop")
    try:
        lock.acquire()
    except JobLockedError:
        print("locked", os.getpid(), flush=True)
    else:
        print("won", os.getpid(), flush=True)
        sys.stdin.read()
""")


def start_child(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def go(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def outcome(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    return child.stdout.readline().split()[0]


def finish(child: subprocess.Popen[str]) -> None:
    child.communicate(timeout=10)


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "shop.sqlite3.lock"


def test_second_lock_on_the_same_path_is_refused_naming_the_holder(lock_path: Path) -> None:
    with JobLock(lock_path, "shop"), pytest.raises(JobLockedError) as err:
        JobLock(lock_path, "shop").acquire()
    message = str(err.value)
    assert f"job 'shop' is already running (pid {os.getpid()} since " in message
    assert message.endswith("this run exits without doing anything")


def test_holder_writes_its_pid_and_start_time_into_the_lock_file(lock_path: Path) -> None:
    with JobLock(lock_path, "shop") as lock:
        assert lock.held
        pid, started = lock_path.read_text().split()
        assert int(pid) == os.getpid()
        assert started.endswith("Z")
    assert not lock.held
    assert lock_path.read_text() == ""


def test_released_lock_can_be_acquired_again(lock_path: Path) -> None:
    lock = JobLock(lock_path, "shop")
    lock.acquire()
    lock.release()
    lock.release()  # releasing twice is harmless
    with JobLock(lock_path, "shop"):
        pass
    lock.acquire()
    lock.release()


def test_acquiring_twice_through_one_object_is_a_programming_error(lock_path: Path) -> None:
    with JobLock(lock_path, "shop") as lock, pytest.raises(RuntimeError):
        lock.acquire()


def test_locks_of_different_jobs_do_not_conflict(tmp_path: Path) -> None:
    with JobLock(tmp_path / "a.lock", "a"), JobLock(tmp_path / "b.lock", "b"):
        pass


def test_lock_held_by_another_process_names_its_pid(lock_path: Path) -> None:
    child = start_child(lock_path)
    try:
        go(child)
        assert outcome(child) == "won"
        with pytest.raises(JobLockedError, match=rf"\(pid {child.pid} since "):
            JobLock(lock_path, "shop").acquire()
    finally:
        finish(child)


def test_lock_of_a_killed_process_is_free_at_once(lock_path: Path) -> None:
    child = start_child(lock_path)
    try:
        go(child)
        assert outcome(child) == "won"
    finally:
        child.send_signal(signal.SIGKILL)
        finish(child)
    with JobLock(lock_path, "shop"):
        pass


def test_two_racing_processes_exactly_one_wins(lock_path: Path) -> None:
    children = [start_child(lock_path), start_child(lock_path)]
    try:
        for child in children:
            go(child)
        assert sorted(outcome(child) for child in children) == ["locked", "won"]
    finally:
        for child in children:
            finish(child)


def test_lock_is_not_inherited_by_programs_the_run_starts(lock_path: Path) -> None:
    with JobLock(lock_path, "shop"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with JobLock(lock_path, "shop"):
            pass
    finally:
        child.kill()
        child.wait()
