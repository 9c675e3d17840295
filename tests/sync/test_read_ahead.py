"""read_ahead: pages produced in a thread, errors where they occurred, early exits clean."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from copernica_sdk.sync._read_ahead import read_ahead, sequential


def numbers(n: int, produced: list[int], fail_at: int | None = None,
            closed: threading.Event | None = None,
            done: threading.Event | None = None) -> Iterator[int]:
    try:
        for i in range(n):
            if i == fail_at:
                raise RuntimeError(f"failed at {i}")
            produced.append(i)
            yield i
        if done is not None:
            done.set()
    finally:
        if closed is not None:
            closed.set()


def test_items_come_in_order_and_the_producer_stays_at_most_depth_ahead() -> None:
    produced: list[int] = []
    got = []
    with read_ahead(numbers(20, produced), depth=3) as pages:
        for item in pages:
            got.append(item)
            # Produced so far: what was taken, what waits (≤ depth), one being put.
            assert len(produced) <= len(got) + 3 + 1
    assert got == list(range(20))


def test_an_error_is_raised_after_the_items_before_it() -> None:
    got: list[int] = []
    with pytest.raises(RuntimeError, match="failed at 3"), \
            read_ahead(numbers(10, [], fail_at=3)) as pages:
        for item in pages:
            got.append(item)
    assert got == [0, 1, 2]


def test_ready_hands_over_only_items_already_produced() -> None:
    done = threading.Event()
    with read_ahead(numbers(3, [], done=done), depth=5) as pages:
        items = iter(pages)
        assert next(items) == 0
        assert done.wait(5)  # the producer has put 1 and 2
        assert pages.ready() == 1
        assert pages.ready() == 2
        assert pages.ready() is None  # the end is not an item
        assert list(items) == []


def test_leaving_early_closes_the_iterator_in_its_own_thread() -> None:
    closed = threading.Event()
    with read_ahead(numbers(1000, [], closed=closed)) as pages:
        for item in pages:
            if item == 2:
                break
    assert closed.is_set()


def test_sequential_never_reads_ahead() -> None:
    produced: list[int] = []
    with sequential(numbers(5, produced)) as pages:
        for item in pages:
            assert produced[-1] == item
            assert pages.ready() is None
