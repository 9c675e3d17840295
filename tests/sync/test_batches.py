"""write_in_order: commits in order, the next batch started early when it touches nothing in common."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copernica_sdk.sync._batches import Batch, write_in_order
from copernica_sdk.sync.errors import SourceUnavailableError


class Log:
    def __init__(self, touches: dict[int, frozenset[str]] | None = None,
                 failing: int | None = None) -> None:
        self.lines: list[str] = []
        self.touches = touches or {}
        self.failing = failing

    def batches(self, n: int, error_after: int | None = None) -> Iterator[Batch[int]]:
        for number in range(1, n + 1):
            self.lines.append(f"read {number}")
            yield Batch([], [number])
            if error_after == number:
                raise SourceUnavailableError("shop down")

    def start(self, batch: Batch[int]) -> int:
        number = batch.outcomes[0]
        assert number is not None
        self.lines.append(f"start {number}")
        return number

    def land(self, number: int) -> bool:
        self.lines.append(f"land {number}")
        return number != self.failing

    def stop(self, number: int) -> None:
        self.lines.append(f"stop {number}")

    def touched(self, batch: Batch[int]) -> frozenset[str]:
        number = batch.outcomes[0]
        assert number is not None
        return self.touches.get(number, frozenset({f"key {number}"}))

    def run(self, n: int, *, overlap: bool = True, error_after: int | None = None) -> bool:
        return write_in_order(self.batches(n, error_after), start=self.start, land=self.land,
                              stop=self.stop, touched=self.touched if overlap else None)


def test_the_next_batch_starts_before_the_last_one_lands_and_landings_keep_their_order() -> None:
    log = Log()
    assert log.run(3)
    assert log.lines == ["read 1", "start 1", "read 2", "start 2", "land 1",
                         "read 3", "start 3", "land 2", "land 3"]


def test_a_batch_touching_what_the_one_in_flight_touches_waits_for_its_landing() -> None:
    log = Log(touches={1: frozenset({"key a"}), 2: frozenset({"key a", "key b"})})
    assert log.run(2)
    assert log.lines == ["read 1", "start 1", "read 2", "land 1", "start 2", "land 2"]


def test_without_overlap_each_batch_lands_before_the_next_is_read() -> None:
    log = Log()
    assert log.run(2, overlap=False)
    assert log.lines == ["read 1", "start 1", "land 1", "read 2", "start 2", "land 2"]


def test_a_failed_landing_stops_the_batch_started_after_it_and_lands_nothing_more() -> None:
    log = Log(failing=1)
    assert not log.run(3)
    assert log.lines == ["read 1", "start 1", "read 2", "start 2", "land 1", "stop 2"]


def test_a_source_error_is_raised_once_the_batches_read_before_it_have_landed() -> None:
    log = Log()
    with pytest.raises(SourceUnavailableError, match="shop down"):
        log.run(3, error_after=2)
    assert log.lines == ["read 1", "start 1", "read 2", "start 2", "land 1", "land 2"]


def test_a_source_error_after_a_failed_landing_is_not_raised() -> None:
    log = Log(failing=2)
    assert not log.run(3, error_after=2)
    assert log.lines[-1] == "land 2"


def test_an_error_while_starting_stops_the_batch_in_flight_and_is_raised() -> None:
    log = Log()

    def start(batch: Batch[int]) -> int:
        if batch.outcomes[0] == 2:
            raise KeyboardInterrupt
        return log.start(batch)

    with pytest.raises(KeyboardInterrupt):
        write_in_order(log.batches(3), start=start, land=log.land, stop=log.stop,
                       touched=log.touched)
    assert log.lines == ["read 1", "start 1", "read 2", "stop 1"]
