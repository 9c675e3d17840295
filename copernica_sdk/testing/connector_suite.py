"""The standard test suite for connectors: subclass it in your tests.

Like singer-sdk's generated tap tests, one base class holds every test a
connector must pass; a partner subclasses it, names the connector class and
gives a ``source`` fixture that yields a small, controllable source (a fake of
the API on loopback, a temporary export file…)::

    import pytest
    from copernica_sdk.testing.connector_suite import ConnectorSuite, Source

    from my_connector import MyConnector
    from my_connector.fake_api import FakeApi


    class TestMyConnector(ConnectorSuite):
        connector_class = MyConnector

        @pytest.fixture
        def source(self):
            with FakeApi(members=30) as api:
                yield Source(config={"base_url": api.url, "api_token": api.token,
                                     "page_size": 5},
                             mutate=lambda: api.touch(3))

The tests sync the source into the bundled fake Copernica (the
``copernica_fake`` fixture, defined on the class, and fresh ones of their own) with the real
:class:`~copernica_sdk.sync.engine.SyncEngine`, and check what a shop owner
relies on: secrets are marked, keys are unique, the default mapping maps every
record, replication values are UTC timestamps (in order where the stream says
so), a second run reads only from the bookmark on and writes nothing when
nothing changed, changes are synced and only they are written, and a run
crashed after any checkpoint — or failed by Copernica in the middle of a batch —
ends, once run again, in exactly the state a clean run gives, with no
duplicates.  If the fixture can make its listing lie (``Source(lie=…,
honest=…)``), a run over the lie must fail without moving bookmarks, and an
honest run afterwards must sync everything.

What ``source`` must give (see :class:`SourceFixture`): ``config``, the
connector's ``[source]`` settings, and ``mutate()``, which changes a few
records so that the default mapping writes something different for them, and
moves their replication value forward (to now at the latest: the engine reads
up to the moment a run starts).  Keep the source small — a few dozen records in
a handful of pages — because some tests sync it once per checkpoint.

Copernica states are compared by content: every profile's and subprofile's
field values (a subprofile with the key of its profile), never ids, codes or
timestamps.  A comparison with a "clean run" means a fresh full sync of the
same source into an empty fake Copernica.  If two of your streams write the
same profile field from different values, the last writer wins, so the result
can depend on which records a run happened to read; let ``mutate()`` change
fields that one stream owns.

See docs/writing-a-connector.md for a worked example.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import pytest

from ..sync.connector import Connector, Record
from ..sync.engine import SyncOptions
from ..sync.errors import ConfigError, MappingError
from ..sync.report import ExitCode
from ._suite_checks import looks_secret, parse_utc, wrong_value
from ._suite_harness import Harness, describe
from ._suite_snapshot import Snapshot, differences, duplicates, snapshot
from ._suite_tap import SimulatedCrash, Tap
from .fake_copernica import FakeCopernica
from .pytest_plugin import started_fake

__all__ = ["ConnectorSuite", "Harness", "Source", "SourceFixture"]

_SHOWN = 10


@runtime_checkable
class SourceFixture(Protocol):
    """What a suite's ``source`` fixture yields.

    ``config`` is the connector's ``[source]`` table (a ``connector`` key is
    allowed and ignored).  ``mutate()`` changes a few records of the source so the
    default mapping gives something new for them, and bumps their replication
    value to a time after every value the source held before (and not in the
    future; the current time is fine).  It is called at most once per test.
    """

    @property
    def config(self) -> Mapping[str, Any]: ...

    def mutate(self) -> None: ...


class Source:
    """A ready-made :class:`SourceFixture`: a config and a function that mutates::

        yield Source(config=api.source_config(), mutate=lambda: api.touch(3))

    ``lie`` and ``honest`` (optional, together) switch the source's listing to a
    lie a careful reader can notice — e.g. the answer for the second page repeats
    the first — and back; the suite then checks that a run over the lie fails
    without moving bookmarks and an honest run afterwards syncs everything::

        yield Source(config=..., mutate=...,
                     lie=lambda: api.set_stale_pages(True),
                     honest=lambda: api.set_stale_pages(False))
    """

    def __init__(self, config: Mapping[str, Any], mutate: Callable[[], object], *,
                 lie: Callable[[], object] | None = None,
                 honest: Callable[[], object] | None = None) -> None:
        if (lie is None) != (honest is None):
            raise ValueError("give both lie and honest, or neither")
        self.config = config
        self._mutate = mutate
        self._lie = lie
        self._honest = honest

    def mutate(self) -> None:
        self._mutate()

    @property
    def can_lie(self) -> bool:
        """Whether :meth:`lie` and :meth:`honest` do anything."""
        return self._lie is not None

    def lie(self) -> None:
        if self._lie is not None:
            self._lie()

    def honest(self) -> None:
        if self._honest is not None:
            self._honest()


def _show(items: list[str]) -> str:
    shown = "\n  ".join(items[:_SHOWN])
    more = f"\n  … and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return f"\n  {shown}{more}"


def _key(record: Record, primary_key: str) -> str:
    """A record's primary key as the engine sees it ("" when missing)."""
    value = record.get(primary_key) if isinstance(record, Mapping) else None
    return "" if value is None else str(value)


class ConnectorSuite:
    """Base class of a connector's standard tests.  Subclass it as ``Test…``,
    set :attr:`connector_class` and define a ``source`` fixture.

    Optional knobs: :attr:`target_overrides`, :attr:`sync_options`,
    :attr:`not_secret`, :attr:`allow_empty_streams`, :attr:`max_resume_points`,
    and :meth:`make_connector` to build the connector some other way.
    """

    #: The connector under test.
    connector_class: ClassVar[type[Connector]]
    #: ``[target]`` overrides merged over the connector's default mapping.
    target_overrides: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: Options of every run (tests change ``lookback`` where they need to).
    sync_options: ClassVar[SyncOptions] = SyncOptions()
    #: Settings whose names look like credentials but are not (e.g. a field
    #: name such as ``"token_field"``).
    not_secret: ClassVar[frozenset[str]] = frozenset()
    #: Streams allowed to yield nothing from the fixture source.
    allow_empty_streams: ClassVar[frozenset[str]] = frozenset()
    #: Resume from at most this many checkpoints, evenly spread (None: from every one).
    max_resume_points: ClassVar[int | None] = None

    # -- fixtures -----------------------------------------------------------------

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        """Override in the subclass: yield a small source and stop it after."""
        raise NotImplementedError(
            f"{type(self).__name__} must define a `source` fixture yielding an object with "
            "`.config` and `.mutate()` (e.g. copernica_sdk.testing.connector_suite.Source)")

    @pytest.fixture
    def copernica_fake(self, request: pytest.FixtureRequest) -> Iterator[FakeCopernica]:
        """The test's fake Copernica, as the opt-in plugin's fixture gives it (so a
        connector's suite works without enabling the plugin)."""
        with started_fake(request) as fake:
            yield fake

    @pytest.fixture
    def suite_harness(self, source: SourceFixture, tmp_path: Path) -> Harness:
        """Runs of the connector on ``source``, state files under ``tmp_path``."""
        return Harness(self.make_connector, source.config, self.target_overrides,
                       self.sync_options, tmp_path)

    def make_connector(self, config: Mapping[str, Any]) -> Connector:
        """Build the connector from its config; override to inject test doubles."""
        return self.connector_class(config)

    # -- configuration ------------------------------------------------------------

    def test_config_spec_marks_secrets(self) -> None:
        """Credentials are ``secret=True``; a config missing what is required fails
        with one ConfigError naming every problem; errors never show a secret."""
        cls = self.connector_class
        spec = cls.config_spec
        unmarked = [f.name for f in spec
                    if looks_secret(f.name) and not f.secret and f.name not in self.not_secret]
        assert not unmarked, (
            f"settings that look like credentials are not secret: {', '.join(unmarked)}; "
            "declare them ConfigField(..., secret=True) so they are masked in logs, state and "
            "errors (or list them in `not_secret` if they are not credentials)")

        required = [f.name for f in spec if f.required and f.default is None]
        if required:
            with pytest.raises(ConfigError) as missing:
                self.make_connector({})
            unnamed = [n for n in required
                       if not any(f"source.{n}" in p for p in missing.value.problems)]
            assert not unnamed, (
                f"an empty config must fail naming every required setting; the ConfigError "
                f"did not name {', '.join(unnamed)}: {missing.value.problems}")

        wrong = {f.name: wrong_value(f, i) for i, f in enumerate(spec)}
        if wrong:
            with pytest.raises(ConfigError) as bad:
                self.make_connector(wrong)
            unnamed = [n for n in wrong if not any(f"source.{n}" in p for p in bad.value.problems)]
            assert not unnamed, (
                "a config with a wrong type in every setting must fail naming all of them at "
                f"once; not named: {', '.join(unnamed)}: {bad.value.problems}")
            message = str(bad.value)
            leaked = [f.name for f in spec if f.secret and str(wrong[f.name]) in message]
            assert not leaked, f"the ConfigError shows the value of secret setting(s) {leaked}"

    def test_check_passes(self, suite_harness: Harness) -> None:
        """``check()`` succeeds against the fixture source."""
        connector = suite_harness.connector()
        try:
            connector.check()
        finally:
            connector.close()

    # -- what a full read gives -----------------------------------------------------

    def test_every_stream_returns_records(self, suite_harness: Harness) -> None:
        """Every stream yields records from the fixture source (or the other tests
        would prove nothing about it)."""
        empty = [s.name for s in suite_harness.read_all()
                 if not s.records and s.name not in self.allow_empty_streams]
        assert not empty, (f"stream(s) {', '.join(empty)} yielded no records; give the fixture "
                           "source some, or list them in `allow_empty_streams`")

    def test_records_have_unique_non_empty_primary_keys(self, suite_harness: Harness) -> None:
        """Within a stream every record has a primary key, and no two share one."""
        problems: list[str] = []
        for stream in suite_harness.read_all():
            seen: dict[str, int] = {}
            for index, record in enumerate(stream.records):
                key = _key(record, stream.primary_key)
                if not key:
                    problems.append(f"{stream.name} record #{index} has no "
                                    f"{stream.primary_key!r}")
                    continue
                seen[key] = seen.get(key, 0) + 1
            problems += [f"{stream.name}: {stream.primary_key}={key!r} occurs {count} times"
                         for key, count in seen.items() if count > 1]
        assert not problems, f"primary keys must be unique and non-empty:{_show(problems)}"

    def test_records_map_without_errors(self, suite_harness: Harness) -> None:
        """The default mapping (with :attr:`target_overrides`) is valid and maps
        every record of every mapped stream."""
        try:
            target = suite_harness.target
        except ConfigError as exc:
            pytest.fail(f"the default mapping is invalid:{_show(exc.problems)}")
        failures: list[str] = []
        mapped = 0
        for stream in suite_harness.read_all():
            mapping = target.streams.get(stream.name)
            if mapping is None:
                continue
            for record in stream.records:
                key = _key(record, stream.primary_key)
                try:
                    mapping.apply(record, record_id=key)
                    mapped += 1
                except MappingError as exc:
                    failures.append(f"{stream.name} {key}: {exc}")
        assert not failures, f"records the default mapping cannot map:{_show(failures)}"
        assert mapped, "the default mapping maps none of the streams' records"

    def test_replication_values_are_iso_timestamps_and_sorted_streams_are_sorted(
            self, suite_harness: Harness) -> None:
        """Every record of a stream with a replication key carries an ISO-8601 UTC
        timestamp there; a stream that says it is sorted yields them ascending."""
        problems: list[str] = []
        for stream in suite_harness.read_all():
            if stream.replication_key is None:
                if stream.is_sorted:
                    problems.append(f"{stream.name} says is_sorted but has no replication_key")
                continue
            previous = None
            for record in stream.records:
                raw = record.get(stream.replication_key) if isinstance(record, Mapping) else None
                try:
                    value = parse_utc(raw)
                except ValueError as exc:
                    problems.append(f"{stream.name} {_key(record, stream.primary_key)}: "
                                    f"{stream.replication_key}: {exc}")
                    continue
                if stream.is_sorted and previous is not None and value < previous[0]:
                    problems.append(
                        f"{stream.name} is sorted but {_key(record, stream.primary_key)} "
                        f"({stream.replication_key}={raw!r}) comes after "
                        f"{previous[1]} ({previous[2]!r})")
                previous = (value, _key(record, stream.primary_key), raw)
        assert not problems, f"replication values:{_show(problems)}"

    # -- incremental runs -----------------------------------------------------------

    def test_second_run_reads_only_at_or_after_the_bookmark(
            self, suite_harness: Harness, copernica_fake: FakeCopernica) -> None:
        """A second run asks each stream for records from its bookmark on (no
        lookback here), and the stream yields none from before it."""
        h = suite_harness
        h.prepare(copernica_fake)
        state = h.state_path("incremental")
        options = replace(h.options, lookback=timedelta(0))
        first, first_tap = h.run(copernica_fake, state, options=options)
        assert first.exit_code is ExitCode.OK, describe(first)
        bookmarks = h.bookmarks(state)
        second, tap = h.run(copernica_fake, state, options=options)
        assert second.exit_code is ExitCode.OK, describe(second)

        problems: list[str] = []
        for name, trace in tap.streams.items():
            key = trace.replication_key
            if key is None:
                continue
            bookmark = bookmarks.get(name)
            if bookmark is None:
                problems.append(f"{name}: the first run saved no bookmark")
                continue
            if parse_utc(bookmark) > parse_utc(first_tap.streams[name].until):
                problems.append(f"{name}: bookmark {bookmark} is after the first run started "
                                f"({first_tap.streams[name].until})")
            if trace.start is None or parse_utc(trace.start) != parse_utc(bookmark):
                problems.append(f"{name}: the second run read from {trace.start!r}, "
                                f"not from the bookmark {bookmark!r}")
                continue
            start = parse_utc(trace.start)
            problems += [f"{name} {_key(r, trace.primary_key)}: {key}={r.get(key)!r} is before the "
                         f"start {trace.start}" for r in trace.records
                         if _before(r.get(key), start)]
        assert not problems, f"the second run read before the bookmark:{_show(problems)}"

    def test_second_run_without_changes_makes_no_write_calls(
            self, suite_harness: Harness, copernica_fake: FakeCopernica) -> None:
        """Nothing changed in the source: the second run writes nothing."""
        h = suite_harness
        h.prepare(copernica_fake)
        state = h.state_path("unchanged")
        first, _ = h.run(copernica_fake, state)
        assert first.exit_code is ExitCode.OK, describe(first)
        copernica_fake.reset_calls()
        second, _ = h.run(copernica_fake, state)
        assert second.exit_code is ExitCode.OK, describe(second)
        writes = {op: n for op, n in copernica_fake.calls.items() if n
                  and op in _write_operations(copernica_fake)}
        assert copernica_fake.write_calls() == 0, (
            f"the second run made write calls {writes}:\n{describe(second)}")
        assert sum(s.written for s in second.streams) == 0, describe(second)

    def test_changes_are_synced_and_only_they_are_written(
            self, suite_harness: Harness, source: SourceFixture,
            copernica_fake: FakeCopernica) -> None:
        """After ``source.mutate()`` a run writes the changed records and nothing
        else, and Copernica ends as a clean run of the changed source leaves it."""
        h = suite_harness
        h.prepare(copernica_fake)
        state = h.state_path("changes")
        first, _ = h.run(copernica_fake, state)
        assert first.exit_code is ExitCode.OK, describe(first)
        before = {s.name: {_key(r, s.primary_key): r for r in s.records} for s in h.read_all()}
        source.mutate()
        clock = _next_second()
        after = h.read_all(clock)

        changed: dict[str, list[Record]] = {}
        problems: list[str] = []
        for stream in after:
            old = before.get(stream.name, {})
            for record in stream.records:
                key = _key(record, stream.primary_key)
                if old.get(key) == record:
                    continue
                changed.setdefault(stream.name, []).append(record)
                rk = stream.replication_key
                if rk is not None and key in old and not _later(record.get(rk), old[key].get(rk)):
                    problems.append(f"{stream.name} {key} changed but its {rk} did not move "
                                    f"forward ({old[key].get(rk)!r} -> {record.get(rk)!r})")
        assert changed, "source.mutate() changed no record the connector reads"
        assert not problems, f"mutate() must bump the replication value:{_show(problems)}"

        copernica_fake.reset_calls()
        second, _ = h.run(copernica_fake, state, clock=clock)
        assert second.exit_code is ExitCode.OK, describe(second)
        too_many = [f"{s.stream}: wrote {s.written} records, only {len(changed.get(s.stream, []))} "
                    "changed" for s in second.streams if s.written > len(changed.get(s.stream, []))]
        assert not too_many, f"the run wrote unchanged records:{_show(too_many)}\n{describe(second)}"
        assert sum(s.written for s in second.streams) > 0, (
            f"mutate() changed records but the run wrote none of them:\n{describe(second)}")
        bound = self._write_bound(h, changed)
        assert copernica_fake.write_calls() <= bound, (
            f"{copernica_fake.write_calls()} write calls for changed records that need at most "
            f"{bound}:\n{describe(second)}")

        with FakeCopernica() as clean_fake:
            h.prepare(clean_fake)
            clean, _ = h.run(clean_fake, h.state_path("changes-clean"), clock=clock)
            assert clean.exit_code is ExitCode.OK, describe(clean)
            expected = snapshot(clean_fake, h.target)
        diff = differences(expected, snapshot(copernica_fake, h.target))
        assert not diff, ("after the changes Copernica differs from a clean run of the changed "
                          f"source:{_show(diff)}")
        dups = duplicates(copernica_fake, h.target)
        assert not dups, f"duplicates:{_show(dups)}"

    def _write_bound(self, h: Harness, changed: Mapping[str, list[Record]]) -> int:
        """Most write calls the changed records can need: a profile upsert and one
        upsert per subprofile each."""
        bound = 0
        for name, records in changed.items():
            mapping = h.target.streams.get(name)
            if mapping is None:
                continue
            for record in records:
                with suppress(MappingError):  # dead-lettered: no write at all
                    bound += 1 + len(mapping.apply(record).subprofiles)
        return bound

    # -- crashes and failures ---------------------------------------------------------

    def test_resuming_from_every_bookmark_ends_in_the_same_state(
            self, suite_harness: Harness, copernica_fake: FakeCopernica) -> None:
        """Crash a run after each checkpoint (before each page request), run again:
        Copernica ends exactly as after a clean run, without duplicates."""
        h = suite_harness
        h.prepare(copernica_fake)
        clean, clean_tap = h.run(copernica_fake, h.state_path("resume-clean"))
        assert clean.exit_code is ExitCode.OK, describe(clean)
        expected = snapshot(copernica_fake, h.target)
        dups = duplicates(copernica_fake, h.target)
        assert not dups, f"duplicates after a clean run:{_show(dups)}"

        # Request 0 would crash before anything is read: nothing to resume from.
        points = _spread(list(range(1, len(clean_tap.requests))), self.max_resume_points)
        failures: list[str] = []
        for point in points:
            where = clean_tap.requests[point].describe()
            with FakeCopernica() as fake:
                h.prepare(fake)
                state = h.state_path(f"resume-{point}")
                tap = Tap(crash_at=point)
                with suppress(SimulatedCrash):
                    h.run(fake, state, tap=tap)
                if not tap.crashed:
                    failures.append(f"crash {where}: never got there; the source yielded fewer "
                                    "pages than in the clean run (is it deterministic?)")
                    continue
                resumed, _ = h.run(fake, state)
                if resumed.exit_code is not ExitCode.OK:
                    failures.append(f"crash {where}, then resumed: {describe(resumed)}")
                    continue
                diff = differences(expected, snapshot(fake, h.target))
                diff += duplicates(fake, h.target)
                if diff:
                    failures.append(f"crash {where}, then resumed:" + _show(diff))
        assert not failures, (f"{len(failures)} of {len(points)} resumed runs did not end like "
                              "the clean run:\n" + "\n".join(failures))

    def test_a_listing_that_lies_moves_no_bookmark_and_an_honest_rerun_syncs_everything(
            self, suite_harness: Harness, source: SourceFixture,
            copernica_fake: FakeCopernica) -> None:
        """The source's listing lies (``source.lie()``: a repeated page, a wrong
        total…): the first run must fail (exit code 5, the stream's error saying
        what was inconsistent) and save no bookmark for the failed stream; once the
        source is honest again a run ends exactly like a clean run — nothing the
        lie hid was skipped for good.  Skipped when the fixture cannot lie."""
        lie, honest = getattr(source, "lie", None), getattr(source, "honest", None)
        if not callable(lie) or not callable(honest) or not getattr(source, "can_lie", True):
            pytest.skip("the source fixture cannot lie: give Source(..., lie=..., honest=...) "
                        "to check that the connector notices a listing that lies")
        h = suite_harness
        options = replace(h.options, lookback=timedelta(0))  # strict: no lookback to hide in
        with FakeCopernica() as clean_fake:
            h.prepare(clean_fake)
            clean, _ = h.run(clean_fake, h.state_path("lie-clean"), options=options)
            assert clean.exit_code is ExitCode.OK, describe(clean)
            expected = snapshot(clean_fake, h.target)

        h.prepare(copernica_fake)
        state = h.state_path("lie")
        lie()
        try:
            failed, _ = h.run(copernica_fake, state, options=options)
        finally:
            honest()
        assert failed.exit_code is ExitCode.UNAVAILABLE, (
            "a run over a listing that lies must fail with exit code 5 (raise "
            "copernica_sdk.sync.errors.ListingInconsistentError; "
            f"copernica_sdk.sync.integrity.ListingChecker finds the lies):\n{describe(failed)}")
        bookmarks = h.bookmarks(state)
        moved = [f"{r.stream}: {bookmarks[r.stream]}" for r in failed.streams
                 if r.exit_code is ExitCode.UNAVAILABLE and r.stream in bookmarks]
        assert not moved, (f"the failed stream(s) saved a bookmark over a listing that lied:"
                           f"{_show(moved)}")

        rerun, _ = h.run(copernica_fake, state, options=options)
        assert rerun.exit_code is ExitCode.OK, describe(rerun)
        diff = differences(expected, snapshot(copernica_fake, h.target))
        diff += duplicates(copernica_fake, h.target)
        assert not diff, ("after a run over a listing that lied and an honest rerun, Copernica "
                          f"differs from a clean run:{_show(diff)}\n  failed run: "
                          f"{describe(failed)}")

    def test_a_service_failure_mid_batch_then_a_rerun_ends_exact_with_zero_duplicates(
            self, suite_harness: Harness, copernica_fake: FakeCopernica) -> None:
        """For each stream in turn, Copernica fails in the middle of its writes (HTTP
        503 past every retry, some after the write took effect) and recovers before
        the next stream: the run exits 5 without moving that stream's bookmark past
        the failed page, and the next run ends exactly like a clean run."""
        h = suite_harness
        with FakeCopernica() as clean_fake:
            h.prepare(clean_fake)
            clean_fake.reset_calls()
            marks: dict[str, list[int]] = {}

            def count(stream: str, served: int) -> None:
                marks.setdefault(stream, []).append(sum(clean_fake.calls.values()))

            clean, _ = h.run(clean_fake, h.state_path("failure-clean"), tap=Tap(observer=count))
            assert clean.exit_code is ExitCode.OK, describe(clean)
            expected = snapshot(clean_fake, h.target)

        # Calls of each stream: from its first page request to its last (the one
        # that finds it exhausted), i.e. every write its pages made.
        windows = {name: (calls[0], calls[-1]) for name, calls in marks.items()
                   if calls[-1] - calls[0] >= 2}
        assert windows, "no stream made Copernica calls: the fixture source is empty"
        failures: list[str] = []
        for index, (name, (first, last)) in enumerate(windows.items()):
            # The first case uses the test's fake, the others fresh ones.
            fake_cm = nullcontext(copernica_fake) if index == 0 else FakeCopernica()
            with fake_cm as fake:
                failures += self._fail_and_rerun(h, fake, name, first + (last - first) // 2,
                                                 expected)
        assert not failures, "\n".join(failures)

    def _fail_and_rerun(self, h: Harness, fake: FakeCopernica, stream: str, ok_calls: int,
                        expected: Snapshot) -> list[str]:
        h.prepare(fake)
        fake.reset_calls()
        # Enough consecutive failures that some call fails on every attempt even
        # when every writer of the pool takes some of them (2 attempts each).
        burst = 2 * max(1, h.options.concurrency) + 1
        fake.faults.schedule([None] * ok_calls + ["http503"] * burst, seed=7)
        started = False

        def recover(name: str, served: int) -> None:
            # Copernica is back once the engine moves on to another stream.
            nonlocal started
            if name == stream:
                started = True
            elif started:
                fake.faults.clear()

        state = h.state_path(f"failure-{stream}")
        failed, tap = h.run(fake, state, tap=Tap(observer=recover))
        fake.faults.clear()
        where = f"Copernica failing in the middle of {stream!r}"
        report = next((r for r in failed.streams if r.stream == stream), None)
        if report is None or report.exit_code is not ExitCode.UNAVAILABLE:
            return [f"{where} (after {ok_calls} calls, {burst} HTTP 503s in a row) should have "
                    f"stopped that stream with exit code 5:\n{describe(failed)}"]

        problems: list[str] = []
        trace = tap.streams[stream]
        bookmark, key = h.bookmarks(state).get(stream), trace.replication_key
        if key is not None and bookmark is not None and trace.pages:
            # The engine stops a stream at its failed page: the tap's last one.
            values = [parse_utc(r.get(key)) for r in trace.pages[-1] if r.get(key)]
            if values and parse_utc(bookmark) > min(values):
                problems.append(f"{where}: bookmark {bookmark} is past records of the page "
                                f"that failed (earliest {min(values).isoformat()})")

        rerun, _ = h.run(fake, state)
        if rerun.exit_code is not ExitCode.OK:
            return [*problems, f"{where}, then a rerun: {describe(rerun)}"]
        diff = differences(expected, snapshot(fake, h.target)) + duplicates(fake, h.target)
        if diff:
            problems.append(f"{where}, then a rerun: Copernica differs from a clean run:"
                            f"{_show(diff)}\n  failed run: {describe(failed)}")
        return problems

    # -- licensing ------------------------------------------------------------------

    def test_license_gated_streams_are_skipped_visibly_and_nothing_else(
            self, suite_harness: Harness, copernica_fake: FakeCopernica,
            monkeypatch: pytest.MonkeyPatch) -> None:
        """For a licensed plugin (``license_plugin_id``): the pinned keys are well
        formed and every ``license_gates`` entry names a stream.  A license lacking the
        gates' entitlements skips exactly the gated streams — reported in the run
        report (``orders: skipped (license lacks entitlement 'orders')``), not failed,
        their bookmarks untouched — while every other stream syncs; with every
        entitlement, or in observe mode, nothing is skipped (docs/licensing.md).  The
        license is a throwaway one (:func:`copernica_sdk.testing.licenses.throwaway_license`)
        whose key the test pins in place of the real ones."""
        from ..jobs import run_job
        from ..licensing.keys import KeyRing
        from ..licensing.preflight import ENV_TOKEN, preflight
        from ..sync.config import CopernicaSettings, JobConfig, SyncSettings
        from ..sync.runner import Job
        from ..sync.state import StateStore
        from .licenses import throwaway_license

        cls = self.connector_class
        plugin = getattr(cls, "license_plugin_id", None)
        if plugin is None:
            pytest.skip("not a licensed plugin (no license_plugin_id)")
        KeyRing(getattr(cls, "license_public_keys", {}) or {})  # a kid/key mismatch fails here
        gates: dict[str, str] = dict(getattr(cls, "license_gates", {}) or {})
        connector = suite_harness.connector()
        try:
            names = [stream.name for stream in connector.streams()]
        finally:
            connector.close()
        unknown = sorted(set(gates) - set(names))
        assert not unknown, (f"license_gates names stream(s) {', '.join(unknown)} that the "
                             f"connector does not have (streams: {', '.join(names)})")
        if not gates:
            pytest.skip("the plugin gates no stream (no license_gates)")
        issuers = getattr(cls, "license_issuers", None)
        lacking = throwaway_license(plugin, issuer=issuers[0] if issuers else "partner")
        monkeypatch.setattr(cls, "license_public_keys", lacking.public_keys)
        monkeypatch.delenv(ENV_TOKEN, raising=False)
        token_file = lacking.write(suite_harness.workdir / "throwaway.jwt")
        state_path = suite_harness.state_path("licensed")

        def config(mode: str, path: Path = token_file) -> JobConfig:
            return JobConfig(name="suite", copernica=CopernicaSettings(
                access_token=copernica_fake.token, endpoint=copernica_fake.url),
                source=dict(suite_harness.config), target=dict(self.target_overrides),
                sync=SyncSettings(state_path=str(state_path)),
                license={"file": str(path), "mode": mode})

        suite_harness.prepare(copernica_fake)
        connector = suite_harness.connector()
        try:
            with suite_harness.client(copernica_fake) as client, StateStore(state_path) as state:
                job = Job(config("warn"), client, connector, suite_harness.target, state)
                report = run_job(job, self.sync_options)
        finally:
            connector.close()
        expected = {name: f"license lacks entitlement {gates[name]!r}" for name in gates}
        assert report.skipped_streams == expected, (
            f"a license without the entitlements {sorted(set(gates.values()))} must skip "
            f"exactly {sorted(gates)}; the run report says {report.skipped_streams}")
        ran = {stream.stream for stream in report.streams}
        assert ran == set(names) - set(gates), (
            f"the streams that ran: {sorted(ran)}; expected every ungated one: "
            f"{sorted(set(names) - set(gates))}")
        assert report.exit_code is ExitCode.OK, describe(report)
        moved = sorted(set(suite_harness.bookmarks(state_path)) & set(gates))
        assert not moved, f"skipped stream(s) {moved} got a bookmark"
        lines = report.skipped_stream_lines()
        assert all(line.endswith(f"(license lacks entitlement {gates[line.split(':')[0]]!r})")
                   for line in lines) and len(lines) == len(gates)

        granted = lacking.reissue(entitlements=frozenset(gates.values()))
        full = preflight(config("warn", granted.write(suite_harness.workdir / "full.jwt")),
                         type(connector), state_path)
        assert full.skipped(names) == {}, f"a license with every entitlement skipped {full.skipped(names)}"
        observe = preflight(config("observe"), type(connector), state_path)
        assert observe.skipped(names) == {}, "observe mode must gate nothing"


def _before(value: Any, start: datetime) -> bool:
    try:
        return parse_utc(value) < start
    except ValueError:
        return False  # reported by the replication-values test


def _next_second() -> Callable[[], datetime]:
    """The real clock moved on to the start of the next second, for the engine.
    Runs read up to their start truncated to the second, so a change a real-clock
    source stamped just now is read only by a run that starts in a later second;
    this clock is already there, so the test need not wait for it."""
    now = time.time()
    ahead = timedelta(seconds=math.ceil(now) - now + 0.01)
    return lambda: datetime.now(UTC) + ahead


def _later(new: Any, old: Any) -> bool:
    try:
        return parse_utc(new) > parse_utc(old)
    except ValueError:
        return False


def _spread(points: list[int], limit: int | None) -> list[int]:
    """At most ``limit`` of ``points``, evenly spread, first and last included."""
    if limit is None or len(points) <= limit:
        return points
    if limit <= 1:
        return points[-1:] if limit == 1 else []
    step = (len(points) - 1) / (limit - 1)
    return sorted({points[round(i * step)] for i in range(limit)})


def _write_operations(fake: FakeCopernica) -> set[str]:
    from .fake_copernica.operations import is_write

    return {op for op in fake.calls if is_write(op)}
