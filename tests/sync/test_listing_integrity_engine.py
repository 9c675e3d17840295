"""The engine and a listing that proves inconsistent: the stream stops with exit code 5
and its bookmark does not move past anything the listing may have hidden."""

from __future__ import annotations

from copernica_sdk.sync.errors import ListingInconsistentError, SourceUnavailableError
from copernica_sdk.sync.report import ExitCode

from .engine_harness import Harness, seed


def _lie() -> ListingInconsistentError:
    return ListingInconsistentError("the people listing is inconsistent at /people?page=2: "
                                    "the order went backwards")


def test_a_sorted_stream_whose_listing_lies_keeps_the_bookmark_it_started_with(
        h: Harness) -> None:
    seed(h, people=10, orders=0)
    assert h.run().exit_code is ExitCode.OK
    before = h.state.bookmark("people")
    for n in range(10, 22):
        h.source.put("people", id=n + 1, email=f"p{n}@example.com", name=f"Person {n}", age=30)
    # Two pages of the new people are committed, then the listing proves inconsistent.
    h.source.fail_after["people"] = (2, _lie())
    failed = h.run(streams=["people"])
    assert failed.exit_code is ExitCode.UNAVAILABLE
    people = next(s for s in failed.streams if s.stream == "people")
    assert people.error is not None and "/people?page=2" in people.error
    assert h.state.bookmark("people") == before, "the bookmark moved over a listing that lied"
    assert people.bookmark == before
    h.source.fail_after.clear()
    assert h.run().exit_code is ExitCode.OK
    assert len(h.profiles()) == 22


def test_a_sorted_stream_that_lies_on_its_first_run_saves_no_bookmark(h: Harness) -> None:
    seed(h, people=12, orders=0)
    h.source.fail_after["people"] = (1, _lie())
    assert h.run(streams=["people"]).exit_code is ExitCode.UNAVAILABLE
    assert h.state.bookmark("people") is None


def test_an_unsorted_stream_that_lies_saves_no_bookmark(h: Harness) -> None:
    seed(h, people=12, orders=0)
    streams = list(type(h.source).streams(h.source))
    for stream in streams:
        stream.is_sorted = False  # type: ignore[misc]
    h.source.streams = lambda: streams  # type: ignore[method-assign]
    h.source.fail_after["people"] = (2, _lie())
    assert h.run(streams=["people"]).exit_code is ExitCode.UNAVAILABLE
    assert h.state.bookmark("people") is None


def test_a_source_outage_mid_listing_keeps_the_pages_already_committed(h: Harness) -> None:
    # Not a lie: the pages read were consistent, so a sorted stream keeps their progress.
    seed(h, people=12, orders=0)
    h.source.fail_after["people"] = (1, SourceUnavailableError("the API is down"))
    assert h.run(streams=["people"]).exit_code is ExitCode.UNAVAILABLE
    assert h.state.bookmark("people") is not None
