"""The sync engine: source pages in, Copernica upserts out, one checkpoint per page.

Per stream::

    read a page (bookmark - lookback … run start) → map each record → skip what is
    unchanged (content digests in state) → upsert through a pool of N writers, writes
    for one profile key in order → when Copernica accepted the page, ONE SQLite
    transaction: bookmark, digests, profile ids, identities, dead letters, hook rows

A stream read ahead has its next batch of pages planned and started while the last
one is written (commits stay in order); a stream with aggregates is first read to
its end into a staging file, then written grouped by profile, so that every
profile write of the run carries its final totals (:mod:`._staging`).

Delivery is at least once, made harmless: every write is an upsert keyed by a
stable source key, so a page replayed after a crash changes nothing.  A record
that cannot be synced (unmappable, refused by a field's type check) goes to the
dead-letter table with the reason, and the run goes on.  A page that keeps
failing for transient reasons stops the stream without moving its bookmark: the
next run picks it up.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import AuthenticationError, CopernicaError
from ._aggregates import (
    aggregates_digest,
    contributions,
    flush_aggregates,
    own_fields_digest,
    pending_scope,
    written_scope,
)
from ._batches import Batch, Page, PageBatches, write_in_order
from ._bookmarks import format_ts, min_ts, minus, replication_problem
from ._field_check import check_target_fields
from ._page_writer import Aborted, PageWriter, sub_id
from ._read_ahead import read_ahead, sequential
from ._staging import StagedRecord, Staging
from ._workers import Workers
from .connector import Connector, PageItem, Record, Rejected, Skipped, Stream
from .errors import (
    ConfigError,
    ListingInconsistentError,
    MappingError,
    SourceAuthError,
    SourceError,
)
from .identity import (
    ACCOUNT,
    ACTIVITY,
    Candidate,
    Claim,
    normalise_recency,
    resolve_precedence,
    staying_claimants,
)
from .mapping import MappedRecord, ProfileWrite, StreamMapping, SubprofileWrite, TargetMapping
from .report import ExitCode, RunReport, StreamReport, Terminated
from .state import Checkpoint, ProfileOwner, StateStore

if TYPE_CHECKING:
    from ..client import CopernicaClient
    from ..models import Collection, Database

__all__ = ["CheckpointHook", "ProgressListener", "SyncEngine", "SyncOptions"]

log = logging.getLogger("copernica_sdk.sync")

#: Pages a stream that allows it (:attr:`Stream.read_ahead`) is read ahead of the
#: page being written, and how many records per writer a batch of pages read
#: already may hold (one checkpoint for the batch).
_READ_AHEAD_PAGES = 4
_BATCH_RECORDS_PER_WRITER = 25


@dataclass(frozen=True)
class SyncOptions:
    """How a run behaves.  Defaults suit a cron job against a real service."""

    concurrency: int = 8
    lookback: timedelta = timedelta(minutes=5)
    full_refresh: bool = False
    dry_run: bool = False
    limit: int | None = None
    streams: Sequence[str] | None = None


class CheckpointHook(Protocol):
    """Adds rows to a checkpoint's transaction (the licensing usage meter does)."""

    def on_checkpoint(self, checkpoint: Checkpoint, *, job: str, stream: str,
                      records_synced: int) -> None: ...


class ProgressListener(Protocol):
    def on_page(self, report: StreamReport) -> None: ...


@dataclass
class _Outcome:
    """What happened to one record."""

    record_key: str
    record: Record
    mapped: MappedRecord | None = None
    profile_id: int | None = None
    profile_unchanged: bool = False
    #: Digests of what the profile write holds besides the aggregates, and of its
    #: aggregates (streams with aggregates); whether only the aggregates changed,
    #: which leaves them to the stream's flush (:mod:`._aggregates`).
    profile_digest: str = ""
    aggregates_digest: str | None = None
    aggregates_pending: bool = False
    #: Another stream's aggregates this record's profile write carries: the
    #: stream and the digest of its totals (see :meth:`SyncEngine._attach_totals`).
    attached: dict[str, str] = field(default_factory=dict)
    unchanged_subprofiles: frozenset[str] = frozenset()
    rekey_from: str | None = None
    #: Field precedence (see identity.py): who this record is, and the owner row
    #: its profile key has once the page is committed.
    claimant: str | None = None
    owner: ProfileOwner | None = None
    wrote_profile: bool = False
    subprofiles_written: int = 0
    dead_letter: str | None = None
    failure: CopernicaError | None = None
    skipped: bool = False


@dataclass
class _Targets:
    database: Database
    collections: dict[str, Collection] = field(default_factory=dict)


@dataclass
class _Staged:
    """What reading a stream ahead in full found besides its records
    (:meth:`SyncEngine._stage`)."""

    #: Records the source skipped, by reason.
    skipped: Counter[str] = field(default_factory=Counter)
    #: The highest replication value of the pages read.
    highest: str | None = None
    #: The stream's own state (text) after its last page read, and at the end.
    state: str = "{}"
    final_state: dict[str, Any] = field(default_factory=dict)
    #: The source error that ended the reading early, if any.
    error: SourceError | None = None


@dataclass
class _Written:
    """A batch whose writes are started (:meth:`SyncEngine._write_batches`)."""

    batch: Batch[_Outcome]
    outcomes: list[_Outcome]
    writer: PageWriter


class SyncEngine:
    """Runs one job: every stream of ``connector`` into ``target`` via ``client``."""

    def __init__(
        self,
        client: CopernicaClient,
        connector: Connector,
        target: TargetMapping,
        state: StateStore,
        *,
        job: str = "default",
        options: SyncOptions = SyncOptions(),
        hooks: Sequence[CheckpointHook] = (),
        progress: ProgressListener | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.connector = connector
        self.target = target
        self.state = state
        self.job = job
        self.options = options
        self.hooks = tuple(hooks)
        self.progress = progress
        self._clock = clock
        self._targets: _Targets | None = None
        self._pool: Workers | None = None
        self._staging: Staging | None = None
        self._staged: dict[str, _Staged] = {}

    # -- public -------------------------------------------------------------------

    def run(self) -> RunReport:
        """Sync every mapped stream, in the connector's order.

        Per-record trouble ends in dead letters and transient trouble in a stream
        that stops without moving its bookmark (exit code 5); neither raises.  A
        failed stream also ends the run: later streams may depend on it (orders
        need the customers they belong to).  Raises for what stops a run before
        it starts: configuration, credentials, an unreachable service.
        """
        started = time.monotonic()
        report = RunReport(job=self.job, dry_run=self.options.dry_run)
        run_start = self._clock().replace(microsecond=0)
        report.run_id = None if self.options.dry_run else self.state.start_run(self.job)
        exit_code: int | None = None
        try:
            # One pool for the whole run: writers are reused from page to page.
            self._pool = Workers(self.options.concurrency, name="copernica-writer")
            try:
                self._targets = self._resolve_targets()
                streams = self._selected_streams()
                self._stage(streams, run_start)
                for stream in streams:
                    report.streams.append(self._sync_stream(stream, report.run_id, run_start))
                    if report.streams[-1].exit_code in (ExitCode.AUTH, ExitCode.UNAVAILABLE):
                        break
            finally:
                self._pool.shutdown()
                self._pool = None
                if self._staging is not None:
                    self._staging.close()
                    self._staging = None
                    self._staged = {}
            exit_code = int(report.exit_code)
        except ConfigError:
            exit_code = int(ExitCode.CONFIG)
            raise
        except AuthenticationError:
            exit_code = int(ExitCode.AUTH)
            raise
        except KeyboardInterrupt as exc:
            # Ctrl-C / SIGTERM: the history says so, not "unavailable".
            exit_code = int(ExitCode.TERMINATED if isinstance(exc, Terminated)
                            else ExitCode.INTERRUPTED)
            raise
        finally:
            report.seconds = time.monotonic() - started
            if report.run_id is not None:
                # A crash inside the engine is recorded as "unavailable": resume next run.
                code = exit_code if exit_code is not None else int(ExitCode.UNAVAILABLE)
                self.state.finish_run(report.run_id, code, report.totals())
        return report

    def replay_dead_letters(self, stream_name: str | None = None, *,
                            skip: Iterable[int] = ()) -> RunReport:
        """Send the open dead letters again (after fixing the mapping or the data).

        Bookmarks do not move.  Records that now sync are resolved; the others
        stay open with the new reason.  Letters whose id is in ``skip`` (stale
        payloads, see :meth:`Connector.stale_payload`) are left open as they are.
        """
        report = RunReport(job=self.job)
        report.run_id = self.state.start_run(self.job)
        self._targets = self._resolve_targets()
        streams = {s.name: s for s in self.connector.streams()}
        skipped = set(skip)
        letters = [letter for letter in self.state.dead_letters(stream=stream_name, status="open")
                   if letter.id not in skipped]
        by_stream: dict[str, list[Any]] = {}
        for letter in letters:
            by_stream.setdefault(letter.stream, []).append(letter)
        for name, items in by_stream.items():
            stream_report = StreamReport(stream=name)
            report.streams.append(stream_report)
            mapping = self.target.streams.get(name)
            if mapping is None or name not in streams:
                stream_report.error = f"stream {name!r} is no longer mapped"
                continue
            records = [dict(item.payload) for item in items]
            outcomes = self._write_page(streams[name], mapping, records, stream_report,
                                        force=True)
            if stream_report.exit_code in (ExitCode.OK, ExitCode.DEAD_LETTERED):
                # Records that now sync resolve their letters in the commit; those that
                # fail again update their open letter with today's reason.
                self._commit(streams[name], outcomes, report.run_id, bookmark=None,
                             report=stream_report)
        self.state.finish_run(report.run_id, int(report.exit_code), report.totals())
        return report

    # -- setup --------------------------------------------------------------------

    def _resolve_targets(self) -> _Targets:
        """Find the database and collections; missing ones are a configuration problem.
        The lookups after the database's go at the same time (through the pool)."""
        database = self.client.databases.find(self.target.database)
        if database is None:
            raise ConfigError(f"target.database: Copernica has no database "
                              f"{self.target.database!r}; run `copernica-sync schema apply`")
        targets = _Targets(database)
        wanted = sorted({c.name for m in self.target.streams.values() for c in m.collections})
        lookup = self._pool.map if self._pool is not None else map
        found = lookup(lambda name: self.client.collections.find(database, name), wanted)
        missing = []
        for name, collection in zip(wanted, found, strict=True):
            if collection is None:
                missing.append(f"target: database {database.name!r} has no collection {name!r}; "
                               "run `copernica-sync schema apply`")
            else:
                targets.collections[name] = collection
        if missing:
            raise ConfigError(missing)
        # Never trust field lists cached before this run: a renamed key field would
        # make every upsert match every profile.
        check_target_fields(self.client, self.target, database, targets.collections,
                            pool=self._pool)
        return targets

    def _selected_streams(self) -> list[Stream]:
        streams = list(self.connector.streams())
        if self.options.streams:
            known = {s.name for s in streams}
            unknown = sorted(set(self.options.streams) - known)
            if unknown:
                raise ConfigError(f"--stream: unknown stream(s) {', '.join(unknown)} "
                                  f"(known: {', '.join(sorted(known))})")
            streams = [s for s in streams if s.name in self.options.streams]
        return [s for s in streams if s.name in self.target.streams]

    # -- staging ------------------------------------------------------------------

    def _stage(self, streams: Sequence[Stream], run_start: datetime) -> None:
        """Read each stream with aggregates to its end before anything is written
        (:mod:`._staging`), so every profile write carries its final totals.

        Only streams that may be read ahead (:attr:`Stream.read_ahead`) and do not
        own identities are staged, and not for a dry run or a ``--limit`` (both
        stop short of writing it all).
        """
        if self.options.dry_run or self.options.limit is not None:
            return
        for stream in streams:
            mapping = self.target.streams[stream.name]
            if mapping.aggregates is None or not stream.read_ahead or \
                    _owns_identities(stream, mapping):
                continue
            if self._staging is None:
                self._staging = Staging(None if self.state.postgres else self.state.path.parent)
            staging = self._staging
            start, until = self._window(stream, run_start)
            stream.state = self.state.stream_state(stream.name)
            staged = _Staged()
            progress = StreamReport(stream=stream.name)  # records read, nothing written yet
            # Page by page (no joins, no limit): the highest replication value and
            # the state after the last page read, as for a stream written as read.
            pages: PageBatches[_Outcome] = PageBatches(
                stream, until, _state_text(stream.state), size=0)
            try:
                with read_ahead(self._pages(stream, mapping, start, until),
                                depth=_READ_AHEAD_PAGES) as ahead:
                    for page in pages.of(ahead):
                        staging.add(stream.name, _staged_records(page))
                        staged.skipped.update(item.reason for item in page.items
                                              if isinstance(item, Skipped))
                        progress.read += len(page.items)
                        if self.progress is not None:
                            self.progress.on_page(progress)
            except SourceError as exc:
                staged.error = exc  # reported once what was read is written
            staged.highest, staged.state = pages.highest, pages.committed
            staged.final_state = dict(stream.state)
            self._staged[stream.name] = staged
            log.info("%s: %d records read ahead before writing (aggregates)", stream.name,
                     progress.read)

    def _sync_staged(self, stream: Stream, run_id: int | None,
                     run_start: datetime) -> StreamReport:
        """Write a staged stream (:meth:`_stage`), grouped by profile, and move its
        bookmark once every record read is written.

        Chunks share no profile, so while one is written the next is planned and
        started (:meth:`_write_batches`).  Each chunk commits (digests, ids, totals,
        dead letters) in order once written; a failed chunk stops the stream
        uncommitted, as a failed page does.
        """
        assert self._staging is not None
        staging = self._staging
        staged = self._staged[stream.name]
        report = StreamReport(stream=stream.name)
        mapping = self.target.streams[stream.name]
        saved = self.state.bookmark(stream.name)
        report.bookmark = None if self.options.full_refresh else saved
        until = format_ts(run_start)
        report.read += sum(staged.skipped.values())
        report.skipped += sum(staged.skipped.values())
        for reason, n in staged.skipped.items():
            report.skip_reasons[reason] = report.skip_reasons.get(reason, 0) + n
        for ids in staging.source_ids(stream.name):
            known = self.state.identities(self.connector.name, ids)
            staging.set_profile_keys(stream.name, {sid: identity.profile_key
                                                   for sid, identity in known.items()})
        size = _BATCH_RECORDS_PER_WRITER * max(1, self.options.concurrency)
        with read_ahead(staging.chunks(stream.name, size), depth=2) as chunks:
            batches = (Batch([item for item, _ in chunk], [outcome for _, outcome in chunk])
                       for chunk in chunks)
            if not self._write_batches(stream, mapping, batches, run_id, report, overlap=True):
                return report
        committed = _state_text(self.state.stream_state(stream.name))
        if staged.error is None:
            state = _state_text(staged.final_state)
            final = min_ts(staged.highest, until) if staged.highest is not None else None
        else:
            # Reading stopped early.  A sorted stream's bookmark may vouch for what
            # was read (all of it is written now); an unsorted one's only when the
            # stream completes, and no listing that proved inconsistent vouches.
            state = staged.state
            vouches = stream.is_sorted and not isinstance(staged.error,
                                                          ListingInconsistentError)
            final = min_ts(staged.highest, until) \
                if vouches and staged.highest is not None else None
            auth = isinstance(staged.error, SourceAuthError)
            report.error = str(staged.error)
            report.exit_code = ExitCode.AUTH if auth else ExitCode.UNAVAILABLE
        if final is not None or state != committed:
            self._commit(stream, [], run_id, bookmark=final, report=report,
                         stream_state=json.loads(state) if state != committed else None)
        if staged.error is None:
            self._flush_aggregates(stream, mapping, report)
        return report

    def _write_batches(self, stream: Stream, mapping: StreamMapping,
                       batches: Iterable[Batch[_Outcome]], run_id: int | None,
                       report: StreamReport, *, overlap: bool) -> bool:
        """Write and commit each batch, in order (:func:`._batches.write_in_order`);
        False once one failed (it is not committed, and no later one is).

        With ``overlap``, a batch is planned and started while the one before is
        still being written, unless the two share a profile or a person: a plan
        reads only the state of its own profiles and people.
        """
        assert self._pool is not None
        pool = self._pool

        def start(batch: Batch[_Outcome]) -> _Written:
            outcomes, groups = self._plan(stream, mapping, batch.items, report,
                                          premapped=batch.outcomes)
            writer = self._page_writer(pool)
            writer.start(groups)
            return _Written(batch, outcomes, writer)

        def land(written: _Written) -> bool:
            written.writer.wait()
            self._tally(written.outcomes, report)
            if report.exit_code in (ExitCode.UNAVAILABLE, ExitCode.AUTH):
                return False
            self._commit(stream, written.outcomes, run_id, bookmark=written.batch.bookmark,
                         report=report, stream_state=written.batch.state)
            if self.progress is not None:
                self.progress.on_page(report)
            return True

        return write_in_order(batches, start=start, land=land,
                              stop=lambda written: written.writer.stop(),
                              touched=self._touched if overlap else None)

    def _touched(self, batch: Batch[_Outcome]) -> frozenset[str]:
        """The profile keys and person ids a batch's plan reads the state of: its
        records' keys, their people's and those people's profiles."""
        keys: set[str] = set()
        people: set[str] = set()
        for outcome in batch.outcomes:
            if outcome is not None and outcome.mapped is not None:
                keys.add(outcome.mapped.profile.key)
                if outcome.mapped.profile.source_id is not None:
                    people.add(outcome.mapped.profile.source_id)
        known = self.state.identities(self.connector.name, people)
        keys.update(identity.profile_key for identity in known.values())
        return frozenset({f"key:{k}" for k in keys} | {f"person:{p}" for p in people})

    # -- one stream ---------------------------------------------------------------

    def _window(self, stream: Stream, run_start: datetime) -> tuple[str | None, str]:
        """Where the stream's reading starts (its bookmark less the lookback, or
        the beginning) and ends (the run's start)."""
        bookmark = None if self.options.full_refresh else self.state.bookmark(stream.name)
        return (minus(bookmark, self.options.lookback) if bookmark else None,
                format_ts(run_start))

    def _sync_stream(self, stream: Stream, run_id: int | None, run_start: datetime) -> StreamReport:
        if stream.name in self._staged:
            return self._sync_staged(stream, run_id, run_start)
        report = StreamReport(stream=stream.name)
        mapping = self.target.streams[stream.name]
        saved = self.state.bookmark(stream.name)
        start, until = self._window(stream, run_start)
        report.bookmark = None if self.options.full_refresh else saved
        # The stream's own state: what it holds when it yields a page commits with it.
        stream.state = self.state.stream_state(stream.name)
        pages = self._pages(stream, mapping, start, until)
        batches: PageBatches[_Outcome] = PageBatches(
            stream, until, _state_text(stream.state),
            size=_BATCH_RECORDS_PER_WRITER * max(1, self.options.concurrency),
            limit=self.options.limit, read=lambda: report.read)
        try:
            ahead_or_not = read_ahead(pages, depth=_READ_AHEAD_PAGES) if stream.read_ahead \
                else sequential(pages)
            with ahead_or_not as ahead:
                # A stream read ahead has its next batch planned and started while
                # the last one is written; any other is read on only once the last
                # batch is committed.
                if not self._write_batches(stream, mapping, batches.of(ahead), run_id, report,
                                           overlap=stream.read_ahead):
                    return report  # nothing of the failed batch is committed: the next run redoes it
        except SourceAuthError as exc:
            report.error, report.exit_code = str(exc), ExitCode.AUTH
            return report
        except SourceError as exc:
            report.error, report.exit_code = str(exc), ExitCode.UNAVAILABLE
            if isinstance(exc, ListingInconsistentError) and stream.is_sorted:
                self._restore_bookmark(stream, saved, report)
            return report
        highest, committed = batches.highest, batches.committed
        final = min_ts(highest, until) if not stream.is_sorted and highest is not None else None
        changed = _state_text(stream.state) != committed
        if batches.completed and (final is not None or changed):
            # Unsorted streams promote their bookmark only once every page is in; state
            # changed after the last page (e.g. its file done) commits here too.
            self._commit(stream, [], run_id, bookmark=final, report=report,
                         stream_state=stream.state if changed else None)
        self._flush_aggregates(stream, mapping, report)
        return report

    def _pages(self, stream: Stream, mapping: StreamMapping, start: str | None,
               until: str) -> Iterator[Page[_Outcome]]:
        """The stream's pages, each mapped, with the stream's state as it was yielded."""
        for items in stream.read(start, until):
            state = _state_text(stream.state)
            outcomes = [None if isinstance(item, Skipped) else self._map(stream, mapping, item)
                        for item in items]
            yield Page(list(items), outcomes, state)

    def _restore_bookmark(self, stream: Stream, saved: str | None, report: StreamReport) -> None:
        """Put a sorted stream's bookmark back where the run found it.

        Its pages were checkpointed one by one on the promise that the listing is
        sorted and complete; a listing that later in the run proves inconsistent
        (see :mod:`.integrity`) may have broken that promise for pages already
        committed too, so none of them may vouch for the bookmark.  What was
        written stays written: the next run reads it again and skips it unchanged.
        """
        if self.options.dry_run or report.bookmark == saved:
            return
        with self.state.checkpoint() as cp:
            if saved is None:
                cp.clear_bookmark(stream.name)
            else:
                cp.set_bookmark(stream.name, saved)
        report.bookmark = saved
        log.warning("%s: bookmark kept at %s: the listing proved inconsistent", stream.name,
                    saved or "(none)")

    def _write_page(self, stream: Stream, mapping: StreamMapping, records: Sequence[PageItem],
                    report: StreamReport, *, force: bool = False,
                    premapped: Sequence[_Outcome | None] | None = None) -> list[_Outcome]:
        """Write one page (``premapped``: its records mapped already, see :meth:`_pages`)."""
        outcomes, groups = self._plan(stream, mapping, records, report, force=force,
                                      premapped=premapped)
        if groups:
            if self._pool is None:  # replaying dead letters outside run()
                with Workers(self.options.concurrency, name="copernica-writer") as pool:
                    self._page_writer(pool).write(groups)
            else:
                self._page_writer(self._pool).write(groups)
        self._tally(outcomes, report)
        return outcomes

    def _plan(self, stream: Stream, mapping: StreamMapping, records: Sequence[PageItem],
              report: StreamReport, *, force: bool = False,
              premapped: Sequence[_Outcome | None] | None = None,
              ) -> tuple[list[_Outcome], list[list[_Outcome]]]:
        """What a page writes: its outcomes, and the groups (one per profile key, in
        page order) of those that must be written.  Counts what it read."""
        report.read += len(records)
        if premapped is None:
            premapped = [None if isinstance(item, Skipped) else self._map(stream, mapping, item)
                         for item in records]
        outcomes = []
        for item, outcome in zip(records, premapped, strict=True):
            if isinstance(item, Skipped):
                report.skipped += 1
                report.skip_reasons[item.reason] = report.skip_reasons.get(item.reason, 0) + 1
                continue
            assert outcome is not None
            outcomes.append(outcome)
            for warning in outcome.mapped.warnings if outcome.mapped is not None else ():
                report.warnings += 1
                log.warning("%s record %s: %s", stream.name, outcome.record_key, warning)
        mapped = [o for o in outcomes if o.mapped is not None]
        self._resolve_identities(stream, mapping, mapped, report)
        self._apply_aggregates(stream, mapping, mapped)
        self._apply_precedence(stream, mapping, mapped)
        self._attach_totals(stream, mapping, mapped)
        self._skip_unchanged(stream, mapping, mapped, force=force or self.options.full_refresh)
        todo = [o for o in mapped if not o.skipped]
        report.unchanged += len(mapped) - len(todo)
        if self.options.dry_run:
            report.written += len(todo)
            return outcomes, []
        groups: dict[str, list[_Outcome]] = {}
        for outcome in todo:
            assert outcome.mapped is not None
            groups.setdefault(outcome.mapped.profile.key, []).append(outcome)
        return outcomes, list(groups.values())

    def _tally(self, outcomes: Iterable[_Outcome], report: StreamReport) -> None:
        """Count what the writes of a page did; a failure sets the exit code."""
        for outcome in outcomes:
            if outcome.failure is not None:
                if isinstance(outcome.failure, Aborted) and report.error is not None:
                    continue  # report the failure that stopped the page, not its echoes
                auth = isinstance(outcome.failure, AuthenticationError)
                report.exit_code = ExitCode.AUTH if auth else ExitCode.UNAVAILABLE
                report.error = f"record {outcome.record_key}: {outcome.failure}"
            elif outcome.dead_letter is not None:
                report.dead_lettered += 1
                if report.exit_code is ExitCode.OK:
                    report.exit_code = ExitCode.DEAD_LETTERED
            elif not outcome.skipped and not self.options.dry_run:
                report.written += 1
                report.profiles_written += int(outcome.wrote_profile)
                report.subprofiles_written += outcome.subprofiles_written

    def _map(self, stream: Stream, mapping: StreamMapping, item: Record | Rejected) -> _Outcome:
        """Map one record (no state needed: a page may be mapped while another is
        written)."""
        record = item.record if isinstance(item, Rejected) else item
        raw_key = record.get(stream.primary_key) if isinstance(record, Mapping) else None
        key = "" if raw_key is None else str(raw_key)
        outcome = _Outcome(record_key=key, record=record)
        if isinstance(item, Rejected):
            outcome.dead_letter = item.reason
            return outcome
        if not key:
            outcome.dead_letter = (f"{stream.name} record has no {stream.primary_key!r}; "
                                   "the source must give every record its key")
            return outcome
        # A bad replication value is this record's problem, not the run's.
        problem = replication_problem(stream, record)
        if problem is not None:
            outcome.dead_letter = problem
            return outcome
        try:
            outcome.mapped = mapping.apply(record, record_id=key)
            # Taken (and cached) here, so a value nested too deep to hash fails
            # this record instead of the page.
            outcome.mapped.profile.digest()
            for sub in outcome.mapped.subprofiles:
                sub.digest()
        except MappingError as exc:
            outcome.dead_letter = str(exc)
            return outcome
        except RecursionError:
            outcome.mapped = None
            outcome.dead_letter = (f"{stream.name} record {key}: a value nests too deeply to "
                                   "be mapped; flatten it in the source")
            return outcome
        return outcome

    def _resolve_identities(self, stream: Stream, mapping: StreamMapping,
                            outcomes: list[_Outcome], report: StreamReport) -> None:
        """Attach records of a known person to that person's profile.

        The stream whose profile ``source_id`` is its own primary key (customers)
        owns identities.  A known id with a new key is an e-mail change: the
        existing profile is re-keyed, unless another identity still claims the
        old key — then the shared profile stays with it and the leaver gets its
        own.  Two identities claiming one key are warned about.  Other streams
        (orders) carrying a known id are written to the person's profile,
        whatever address they hold themselves.
        """
        ids = {o.mapped.profile.source_id for o in outcomes
               if o.mapped is not None and o.mapped.profile.source_id is not None}
        if not ids:
            return
        known = self.state.identities(self.connector.name, ids)
        if _owns_identities(stream, mapping):
            self._follow_identities(stream, outcomes, known, report)
            return
        for outcome in outcomes:
            assert outcome.mapped is not None
            profile = outcome.mapped.profile
            identity = known.get(profile.source_id) if profile.source_id is not None else None
            if identity is None or identity.profile_key == profile.key:
                continue
            # The person's own record (customers) owns their profile fields: an
            # order's billing address must not overwrite them, only attach to them.
            rekeyed = replace(profile, key=identity.profile_key,
                              fields={profile.key_field: identity.profile_key})
            outcome.mapped = replace(outcome.mapped, profile=rekeyed)

    def _follow_identities(self, stream: Stream, outcomes: list[_Outcome],
                           known: Mapping[str, Any], report: StreamReport) -> None:
        """E-mail changes and shared keys for a stream that owns identities."""
        moves: dict[str, tuple[str | None, str]] = {}
        for outcome in outcomes:
            assert outcome.mapped is not None
            sid = outcome.mapped.profile.source_id
            if sid is not None:
                identity = known.get(sid)
                moves[sid] = (identity.profile_key if identity else None,
                              outcome.mapped.profile.key)
        keys = {k for before, now in moves.values() for k in (before, now) if k is not None}
        claims = self.state.identity_claims(self.connector.name, keys)
        for sid, (before, now) in moves.items():
            if before is None or before == now:
                continue
            staying = staying_claimants(before, sid, claims.get(before, ()), moves)
            outcome = next(o for o in outcomes if o.mapped is not None
                           and o.mapped.profile.source_id == sid)
            if staying:
                log.info("%s record %s: key changed from %r to %r; %r stays with %s, "
                         "which still claim it, and this record gets a profile of its own",
                         stream.name, outcome.record_key, before, now, before,
                         ", ".join(sorted(staying)))
            else:
                outcome.rekey_from = before
        warned: set[str] = set()
        for before, now in moves.values():
            if before == now or now in warned:
                continue  # a claim already known was warned about when it was made
            sharing = staying_claimants(now, "", claims.get(now, ()), moves)
            if len(sharing) > 1:
                warned.add(now)
                report.warnings += 1
                log.warning("%s: records %s all have profile key %r and share one profile "
                            "(its fields come from the most recently changed one); "
                            "`copernica-sync state show` lists shared keys",
                            stream.name, ", ".join(sorted(sharing)), now)

    def _apply_precedence(self, stream: Stream, mapping: StreamMapping,
                          outcomes: list[_Outcome]) -> None:
        """One precedence per profile field, whatever order records arrive in
        (:mod:`copernica_sdk.sync.identity`)."""
        if not outcomes:
            return
        account = _owns_identities(stream, mapping)
        candidates = []
        for outcome in outcomes:
            assert outcome.mapped is not None
            profile = outcome.mapped.profile
            recency = profile.recency
            if recency is None and stream.replication_key and isinstance(outcome.record,
                                                                          Mapping):
                recency = outcome.record.get(stream.replication_key)
            rank = ACCOUNT if account and profile.source_id is not None else ACTIVITY
            outcome.claimant = f"{stream.name}:{outcome.record_key}"
            candidates.append(Candidate(profile, Claim(rank, normalise_recency(recency),
                                                       outcome.claimant)))
        keys = {c.profile.key for c in candidates}
        aggregates = _aggregate_names(mapping)
        resolved = resolve_precedence(
            candidates, stream=stream.name, aggregates=aggregates,
            owners=self.state.profile_owners(keys),
            account_keys=self.state.identity_claims(self.connector.name, keys))
        for outcome, resolution in zip(outcomes, resolved, strict=True):
            assert outcome.mapped is not None
            outcome.mapped = replace(outcome.mapped, profile=resolution.profile)
            outcome.owner = resolution.owner

    def _apply_aggregates(self, stream: Stream, mapping: StreamMapping,
                          outcomes: list[_Outcome]) -> None:
        """Fill aggregate fields (orders count, total spent…) of each profile in the
        page from its records' stored contributions plus this page's."""
        if mapping.aggregates is None or not outcomes:
            return
        keys = {o.mapped.profile.key for o in outcomes if o.mapped is not None}
        per_key = contributions(self.state, self._staging_of(stream.name), stream=stream.name,
                                facts_scope=_facts_scope(stream.name),
                                source=self.connector.name, keys=keys)
        for outcome in outcomes:
            assert outcome.mapped is not None
            rows = per_key.setdefault(outcome.mapped.profile.key, {})
            rows[outcome.record_key] = dict(outcome.mapped.facts or {})
        totals = {key: mapping.aggregates.combine(rows.values()) for key, rows in per_key.items()}
        for outcome in outcomes:
            assert outcome.mapped is not None
            profile = outcome.mapped.profile
            fields = {**profile.fields, **totals[profile.key]}
            outcome.mapped = replace(outcome.mapped, profile=replace(profile, fields=fields))

    def _attach_totals(self, stream: Stream, mapping: StreamMapping,
                       outcomes: list[_Outcome]) -> None:
        """Give the profile writes of a stream without aggregates (customers) the
        totals other streams (orders) hold for them, staged ones included: the
        profile need not be written again once those streams are in."""
        if mapping.aggregates is not None or not outcomes:
            return
        keys = {o.mapped.profile.key for o in outcomes if o.mapped is not None}
        page_sources = {o.mapped.profile.source_id: o.mapped.profile.key for o in outcomes
                        if o.mapped is not None and o.mapped.profile.source_id is not None} \
            if _owns_identities(stream, mapping) else {}
        for name, other in self.target.streams.items():
            if other.aggregates is None:
                continue
            per_key = contributions(self.state, self._staging_of(name), stream=name,
                                    facts_scope=_facts_scope(name), source=self.connector.name,
                                    keys=keys, page_sources=page_sources)
            totals = {key: other.aggregates.combine(rows.values())
                      for key, rows in per_key.items()}
            for outcome in outcomes:
                assert outcome.mapped is not None
                profile = outcome.mapped.profile
                if profile.key not in totals:
                    continue  # no order of theirs: no totals, as the orders stream writes
                fields = {**profile.fields, **totals[profile.key]}
                outcome.mapped = replace(outcome.mapped, profile=replace(profile, fields=fields))
                outcome.attached[name] = aggregates_digest(totals[profile.key])

    def _skip_unchanged(self, stream: Stream, mapping: StreamMapping, outcomes: list[_Outcome],
                        *, force: bool) -> None:
        """Mark records whose every write has the digest stored last time; a profile
        whose aggregates alone changed is left to the stream's flush."""
        if not outcomes:
            return
        database_id = self._database.id
        profile_scope = f"{stream.name}:profile"
        names = _aggregate_names(mapping)
        # Totals attached from other streams are not this stream's own fields either.
        not_own = names | {n for other in self.target.streams.values()
                           for n in _aggregate_names(other)}
        keys = {o.mapped.profile.key for o in outcomes if o.mapped}
        known_ids = self.state.profile_ids(database_id, keys)
        digests = self.state.hashes(profile_scope, keys)
        sent = self.state.hashes(written_scope(stream.name), keys) if names else {}
        sub_keys: dict[str, set[str]] = {}
        for outcome in outcomes:
            assert outcome.mapped is not None
            for sub in outcome.mapped.subprofiles:
                sub_keys.setdefault(sub.collection, set()).add(sub.key)
        stored_subs = {c: self.state.hashes(f"{stream.name}:subprofile:{c}", ks)
                       for c, ks in sub_keys.items()}
        for outcome in outcomes:
            assert outcome.mapped is not None
            profile = outcome.mapped.profile
            outcome.profile_digest = own_fields_digest(profile, not_own)
            if names:
                outcome.aggregates_digest = aggregates_digest(
                    {k: v for k, v in profile.fields.items() if k in names})
            outcome.profile_id = known_ids.get(profile.key)
            if force or outcome.profile_id is None:
                continue
            # A write that only attaches (key and aggregates: an order of a known
            # customer) has nothing of its own to send once the profile exists.
            attaches = names and not (profile.fields.keys() - names - {profile.key_field})
            outcome.profile_unchanged = bool(attaches) or \
                digests.get(profile.key) == outcome.profile_digest
            outcome.aggregates_pending = outcome.profile_unchanged and bool(names) and \
                sent.get(profile.key) != outcome.aggregates_digest
            outcome.unchanged_subprofiles = frozenset(
                sub_id(s) for s in outcome.mapped.subprofiles
                if stored_subs[s.collection].get(s.key) == s.digest())
            outcome.skipped = outcome.profile_unchanged and \
                len(outcome.unchanged_subprofiles) == len(outcome.mapped.subprofiles)

    def _flush_aggregates(self, stream: Stream, mapping: StreamMapping,
                          report: StreamReport) -> None:
        """Write the final aggregates of the profiles the stream left pending."""
        if mapping.aggregates is None or self.options.dry_run:
            return
        assert self._pool is not None
        key_field = self.target.profile_key

        def write(key: str, values: Mapping[str, str]) -> None:
            self.client.profiles.upsert(self._database, key={key_field: key},
                                        fields={key_field: key, **values})

        result = flush_aggregates(self.state, self._pool, stream=stream.name,
                                  facts_scope=_facts_scope(stream.name),
                                  aggregates=mapping.aggregates, write=write)
        report.profiles_written += result.written
        report.warnings += result.warnings
        if result.failure is not None:
            auth = isinstance(result.failure, AuthenticationError)
            report.exit_code = ExitCode.AUTH if auth else ExitCode.UNAVAILABLE
            report.error = (f"writing the aggregates of {stream.name}: {result.failure} "
                            "(they are written next run)")

    def _staging_of(self, stream: str) -> Staging | None:
        """The staging store if ``stream`` was staged this run."""
        return self._staging if stream in self._staged else None

    # -- writing ------------------------------------------------------------------

    def _page_writer(self, pool: Workers) -> PageWriter:
        return PageWriter(pool, self._upsert_profile, self._upsert_subprofile)

    @property
    def _database(self) -> Database:
        assert self._targets is not None, "targets are resolved at the start of a run"
        return self._targets.database

    def _upsert_subprofile(self, profile_id: int, sub: SubprofileWrite) -> None:
        assert self._targets is not None
        self.client.subprofiles.upsert(profile_id, self._targets.collections[sub.collection],
                                       key={sub.key_field: sub.key}, fields=sub.fields)

    def _upsert_profile(self, profile: ProfileWrite, rekey_from: str | None = None) -> int:
        """Upsert by key; re-key the profile of a person whose e-mail (key) changed."""
        database = self._database
        if rekey_from is not None:
            key_field = profile.key_field
            taken = self.client.profiles.find_one(database, {key_field: profile.key})
            if taken is None:
                moved = self.client.profiles.update_many(database, {key_field: rekey_from},
                                                         profile.fields, unique=True)
                if moved.items:
                    log.info("profile %s: key changed from %r to %r; updated in place",
                             moved.items[0].id, rekey_from, profile.key)
                    return moved.items[0].id
            else:
                log.warning("person %s changed key from %r to %r, which already has profile "
                            "%s; that profile is updated and the old one is left as it is",
                            profile.source_id, rekey_from, profile.key, taken.id)
        return self.client.profiles.upsert(
            database, key={profile.key_field: profile.key}, fields=profile.fields).id

    # -- checkpoint ---------------------------------------------------------------

    def _commit(self, stream: Stream, outcomes: Iterable[_Outcome], run_id: int | None, *,
                bookmark: str | None, report: StreamReport,
                stream_state: Mapping[str, Any] | None = None) -> None:
        if self.options.dry_run:
            return
        outcomes = list(outcomes)
        database_id = self._database.id
        profile_digests: dict[str, str] = {}
        sent: dict[str, dict[str, str]] = {stream.name: {}}
        pending: dict[str, str] = {}
        sub_digests: dict[str, dict[str, str]] = {}
        ids: dict[str, int] = {}
        facts: dict[str, tuple[str, Mapping[str, str]]] = {}
        owners: dict[str, ProfileOwner] = {}
        claims: dict[str, str] = {}
        synced = 0
        owner = _owns_identities(stream, self.target.streams[stream.name])
        with self.state.checkpoint() as cp:
            cp.run_id = run_id
            for o in outcomes:
                if o.dead_letter is not None:
                    cp.add_dead_letter(run_id=run_id, stream=stream.name, record_key=o.record_key,
                                       reason=o.dead_letter, payload=o.record)
                    continue
                if o.mapped is None or o.failure is not None:
                    continue
                profile = o.mapped.profile
                if not o.skipped:
                    synced += 1
                if o.mapped.facts is not None:
                    facts[o.record_key] = (profile.key, o.mapped.facts)
                if o.profile_id is not None:
                    ids[profile.key] = o.profile_id
                    profile_digests[profile.key] = o.profile_digest
                    if o.aggregates_pending:
                        pending[profile.key] = ""
                    elif o.aggregates_digest is not None:
                        sent[stream.name][profile.key] = o.aggregates_digest
                    if o.wrote_profile:
                        for other, digest in o.attached.items():
                            sent.setdefault(other, {})[profile.key] = digest
                    if owner and profile.source_id is not None:
                        cp.set_identity(self.connector.name, profile.source_id, profile.key,
                                        o.profile_id)
                    if o.claimant is not None and o.rekey_from is None:
                        # A re-keyed profile took its old key's records along: the
                        # old key stays the account's (its guest orders attach).
                        claims[o.claimant] = profile.key
                    if o.owner is not None:
                        owners[profile.key] = o.owner
                for sub in o.mapped.subprofiles:
                    sub_digests.setdefault(sub.collection, {})[sub.key] = sub.digest()
            cp.set_hashes(f"{stream.name}:profile", profile_digests)
            for name, digests in sent.items():
                cp.set_hashes(written_scope(name), digests)
            cp.set_hashes(pending_scope(stream.name), pending)
            for collection, digests in sub_digests.items():
                cp.set_hashes(f"{stream.name}:subprofile:{collection}", digests)
            cp.set_profile_ids(database_id, ids)
            cp.release_profile_owners(claims)
            cp.set_profile_owners(owners)
            if facts:
                cp.set_facts(_facts_scope(stream.name), facts)
            cp.resolve_dead_letters(stream.name, [o.record_key for o in outcomes
                                                  if o.mapped is not None and o.failure is None
                                                  and o.dead_letter is None])
            if bookmark is not None:
                cp.set_bookmark(stream.name, bookmark)
                report.bookmark = bookmark
            if stream_state is not None:
                cp.set_stream_state(stream.name, stream_state)
            for hook in self.hooks:
                hook.on_checkpoint(cp, job=self.job, stream=stream.name, records_synced=synced)


def _state_text(state: Mapping[str, Any]) -> str:
    """A stream's own state as compared between pages (and as stored)."""
    return json.dumps(state, sort_keys=True, default=str)


def _aggregate_names(mapping: StreamMapping) -> frozenset[str]:
    if mapping.aggregates is None:
        return frozenset()
    return frozenset(spec.name for spec in mapping.aggregates.fields)


def _facts_scope(stream: str) -> str:
    return f"{stream}:aggregates"


def _staged_records(page: Batch[_Outcome]) -> list[StagedRecord]:
    """A page's records as staged (:mod:`._staging`): each with its outcome, and
    its contribution to its profile's aggregates."""
    out = []
    for item, outcome in zip(page.items, page.outcomes, strict=True):
        if outcome is None:
            continue  # skipped by the source: counted when staged
        profile = outcome.mapped.profile if outcome.mapped is not None else None
        out.append(StagedRecord(
            outcome.record_key,
            profile.source_id if profile is not None else None,
            profile.key if profile is not None else "",
            dict(outcome.mapped.facts or {}) if outcome.mapped is not None else None,
            (item, outcome)))
    return out


def _owns_identities(stream: Stream, mapping: StreamMapping) -> bool:
    source_id = mapping.profile.source_id
    return source_id is not None and source_id.strip() == stream.primary_key
