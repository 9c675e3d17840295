"""The run's writer threads (copernica_sdk.sync._workers)."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from copernica_sdk.sync._workers import Workers


def test_tasks_run_on_at_most_size_threads_and_shutdown_waits_for_them() -> None:
    seen: set[str] = set()
    lock = threading.Lock()
    done: list[int] = []

    def task(n: int) -> None:
        with lock:
            seen.add(threading.current_thread().name)
            done.append(n)

    workers = Workers(3, name="w")
    for n in range(200):
        workers.spawn(partial(task, n))
    workers.shutdown()
    assert sorted(done) == list(range(200))
    assert 1 <= len(seen) <= 3


def test_submit_and_map_return_results_and_errors_as_an_executor_does() -> None:
    with Workers(2, name="w") as workers:
        assert list(workers.map(lambda x: x * 2, [1, 2, 3])) == [2, 4, 6]
        failing = workers.submit(int, "not a number")
        with pytest.raises(ValueError):
            failing.result(timeout=5)


def test_an_escaping_error_is_logged_and_the_thread_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    ran = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    with Workers(1, name="w") as workers:
        workers.spawn(fail)
        workers.spawn(ran.set)
    assert ran.is_set()
    assert "a writer task failed" in caplog.text


def test_nothing_is_accepted_after_shutdown() -> None:
    workers = Workers(1, name="w")
    workers.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        workers.spawn(lambda: None)


def test_no_thread_starts_before_there_is_work() -> None:
    before = threading.active_count()
    workers = Workers(8, name="w")
    assert threading.active_count() == before
    workers.shutdown()
