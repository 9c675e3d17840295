"""The engine's write plan: aggregates written once per run, pages read ahead."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from copernica_sdk.sync._aggregates import pending_scope
from copernica_sdk.sync.connector import Record, Stream
from copernica_sdk.sync.errors import SourceUnavailableError
from copernica_sdk.sync.report import ExitCode

from .engine_harness import Harness, people_and_orders, profile_writes
from .memory_source import MemoryConnector, MemoryStream


def test_a_profile_with_orders_on_many_pages_is_written_once_more_with_its_final_totals(
        h: Harness) -> None:
    people_and_orders(h, [1, 2, 1, 2, 1, 1, 2, 1, 2, 1])  # both people on both pages
    report = h.run()
    assert report.exit_code is ExitCode.OK  # type: ignore[attr-defined]
    # Each person: once by the people stream, once with the orders' final totals
    # (not once per page holding one of their orders).
    assert profile_writes(h) == 4
    profiles = h.profiles()
    assert (profiles["p0@example.com"]["orders_count"], profiles["p0@example.com"]["total_spent"],
            profiles["p0@example.com"]["last_order"]) == ("6", "9", "109")
    assert profiles["p1@example.com"]["orders_count"] == "4"
    assert profiles["p0@example.com"]["name"] == "Person 0"


def test_totals_changed_on_several_pages_cost_the_subprofiles_and_one_write_per_profile(
        h: Harness) -> None:
    people_and_orders(h, [1, 2, 1, 2, 1, 1, 2, 1])
    h.run()
    # Read back from the bookmark: [last order, 100, 101, 103, 106] then [107];
    # person 1's totals change on both pages, person 2's on the first.
    for order_id in (100, 101, 103, 106, 107):
        h.source.put("orders", id=order_id, total="4.00")
    h.run(lookback=timedelta(0))
    writes = {op: n for op, n in h.fake.calls.items()
              if op in ("Database_updateProfiles", "Profile_updateSubProfiles")}
    assert writes == {"Profile_updateSubProfiles": 5, "Database_updateProfiles": 2}
    assert h.profiles()["p0@example.com"]["total_spent"] == "12.5"  # 100, 107 at 4; three at 1.5
    assert h.profiles()["p1@example.com"]["total_spent"] == "12"


def test_totals_left_by_a_run_that_stopped_are_written_by_the_next(h: Harness) -> None:
    # Person 2's orders are all on the first page; the second page fails to load.
    people_and_orders(h, [2, 2, 1, 1, 1, 1, 1, 1])
    h.source.fail_after["orders"] = (1, SourceUnavailableError("shop down"))
    first = h.run()
    assert first.exit_code is ExitCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert h.profiles()["p1@example.com"].get("orders_count", "0") == "0"  # not yet
    assert h.state.hash_keys(pending_scope("orders")) == ["p0@example.com", "p1@example.com"]
    del h.source.fail_after["orders"]
    h.run(lookback=timedelta(0))  # resumes after page 1: person 2's orders are not read again
    assert h.profiles()["p1@example.com"]["orders_count"] == "2"
    assert h.profiles()["p0@example.com"]["orders_count"] == "6"
    assert h.state.hash_keys(pending_scope("orders")) == []


class _Logged(MemoryStream):
    """A memory stream that logs when it is asked for each page."""

    def __init__(self, connector: MemoryConnector, name: str, log: list[str],
                 ahead: bool) -> None:
        super().__init__(connector, name)
        self.log = log
        self.read_ahead = ahead

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        for number, page in enumerate(super().read(start, until)):
            self.log.append(f"read {self.name} {number + 1}")
            yield page


class _Source(MemoryConnector):
    def __init__(self, ahead: bool) -> None:
        super().__init__()
        self.log: list[str] = []
        self.ahead = ahead

    def streams(self) -> Sequence[Stream]:
        return [_Logged(self, "people", self.log, self.ahead)]


class _Hook:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.pages = 0

    def on_checkpoint(self, checkpoint: Any, *, job: str, stream: str,
                      records_synced: int) -> None:
        self.pages += 1
        self.log.append(f"commit {stream} {self.pages}")


def run_logged(h: Harness, ahead: bool, people: int = 10, latency: float = 0.05,
               keys: int | None = None, expect: ExitCode = ExitCode.OK) -> list[str]:
    """Sync ``people`` people (``keys``: that many distinct addresses, shared in
    turn) with one writer; the log of pages read, batches started and commits."""
    from copernica_sdk.sync.engine import SyncEngine, SyncOptions

    source = _Source(ahead)
    for n in range(people):
        source.put("people", id=n + 1, email=f"p{n % (keys or people)}@example.com",
                   name=f"P {n}", age=30)
    engine = SyncEngine(h.client, source, h.target, h.state, job="t",
                        options=SyncOptions(concurrency=1), hooks=[_Hook(source.log)])
    make_writer = engine._page_writer

    def logged_writer(pool: Any) -> Any:
        writer = make_writer(pool)
        start = writer.start

        def logged_start(groups: Any) -> None:
            source.log.append(f"start {sum(e.startswith('start') for e in source.log) + 1}")
            start(groups)
        writer.start = logged_start  # type: ignore[method-assign]
        return writer

    engine._page_writer = logged_writer  # type: ignore[method-assign]
    h.fake.latency = latency  # the writes of a page take a while: the reader is not waited for
    try:
        assert engine.run().exit_code is expect
    finally:
        h.fake.latency = 0.0
    return source.log


def test_a_stream_that_allows_it_reads_its_next_page_while_the_current_one_is_written(
        h: Harness) -> None:
    log = run_logged(h, ahead=True)
    assert log.index("read people 2") < log.index("commit people 1")


def test_the_next_batch_is_started_while_the_last_one_is_still_being_written(
        h: Harness) -> None:
    log = run_logged(h, ahead=True, people=60, latency=0.005)
    assert log.index("start 2") < log.index("commit people 1")
    assert len(h.profiles()) == 60


def test_a_batch_sharing_a_profile_with_the_one_in_flight_waits_for_its_commit(
        h: Harness) -> None:
    # 60 people on 5 addresses: every batch shares its profiles with the one before.
    log = run_logged(h, ahead=True, people=60, latency=0.005, keys=5)
    starts = sum(line.startswith("start") for line in log)
    assert starts >= 2
    for n in range(1, starts):
        assert log.index(f"commit people {n}") < log.index(f"start {n + 1}")


def test_a_failed_batch_leaves_the_batch_started_after_it_uncommitted(h: Harness) -> None:
    # Set-up takes 4 calls; the 11th upsert then fails through every retry, while
    # the batch after it is already started.
    h.fake.faults.schedule([None] * 14 + ["http503"] * 4, when="before")
    log = run_logged(h, ahead=True, people=60, latency=0.005, expect=ExitCode.UNAVAILABLE)
    assert "start 2" in log and not any(line.startswith("commit") for line in log)
    assert h.state.bookmark("people") is None
    assert h.state.hashes("people:profile", [f"p{n}@example.com" for n in range(60)]) == {}


def test_pages_read_already_are_written_and_committed_together_up_to_a_batch(
        h: Harness) -> None:
    # 12 pages of 5; one writer: a batch holds up to 25 records (5 pages).
    log = run_logged(h, ahead=True, people=60, latency=0.005)
    commits = [line for line in log if line.startswith("commit")]
    assert 3 <= len(commits) < 12
    assert h.state.bookmark("people") is not None and len(h.profiles()) == 60


def test_a_stream_that_does_not_allow_it_is_asked_for_a_page_only_after_the_last_commit(
        h: Harness) -> None:
    log = run_logged(h, ahead=False)
    assert log == ["read people 1", "start 1", "commit people 1",
                   "read people 2", "start 2", "commit people 2"]


def test_a_source_failure_read_ahead_still_lands_after_the_pages_before_it(
        h: Harness) -> None:
    people_and_orders(h, [1, 2] * 6)
    h.source.fail_after["orders"] = (2, SourceUnavailableError("shop down"))
    h.source.read_ahead = True
    report = h.run()
    assert report.exit_code is ExitCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert sorted(h.orders()) == [str(100 + n) for n in range(10)]  # pages 1 and 2 only
    assert h.state.bookmark("orders") is not None
