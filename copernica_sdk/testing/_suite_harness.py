"""The standard connector suite's plumbing: build a connector, read it, sync it.

Every run gets a fresh connector (as every cron run does), a client whose
retries never sleep, and a tap that records what was read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import schema
from ..retry import RetryPolicy
from ..sync.connector import Connector, Record
from ..sync.engine import CheckpointHook, SyncEngine, SyncOptions
from ..sync.mapping import TargetMapping, parse_target
from ..sync.report import RunReport
from ..sync.runner import schema_for
from ..sync.state import StateStore
from ._suite_tap import Tap, tapped

if TYPE_CHECKING:
    from ..client import CopernicaClient
    from .fake_copernica import FakeCopernica

__all__ = ["FAST_RETRY", "Harness", "StreamRead", "describe", "now_iso"]

#: Two attempts, no waiting: a failing test fails in milliseconds, and a fault
#: burst of a few calls is enough to make a page fail for good.
FAST_RETRY = RetryPolicy(max_attempts=2, sleep=lambda seconds: None)

JOB = "connector-suite"


def _real_clock() -> datetime:
    return datetime.now(UTC)


def now_iso(clock: Callable[[], datetime] = _real_clock) -> str:
    """Now (by ``clock``), in the form the engine passes as ``until``."""
    return clock().replace(microsecond=0, tzinfo=None).isoformat()


def describe(report: RunReport) -> str:
    """A run report in a few lines, for assertion messages."""
    lines = [f"exit code {int(report.exit_code)} ({report.exit_code.name})"]
    lines += [f"  {stream.summary()}" for stream in report.streams]
    return "\n".join(lines)


@dataclass
class StreamRead:
    """One stream's records from a full read, with what the stream declares."""

    name: str
    primary_key: str
    replication_key: str | None
    is_sorted: bool
    pages: list[list[Record]] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [record for page in self.pages for record in page]


class Harness:
    """Runs of one connector configuration against fake Copernicas."""

    def __init__(self, make_connector: Callable[[Mapping[str, Any]], Connector],
                 config: Mapping[str, Any], target_overrides: Mapping[str, Any],
                 options: SyncOptions, workdir: Path) -> None:
        self.make_connector = make_connector
        self.config = config
        self.target_overrides = target_overrides
        self.options = options
        self.workdir = workdir

    def connector(self) -> Connector:
        """A fresh connector; the caller closes it."""
        return self.make_connector(dict(self.config))

    @cached_property
    def target(self) -> TargetMapping:
        """The default mapping with the suite's overrides (ConfigError if invalid)."""
        connector = self.connector()
        try:
            return parse_target(self.target_overrides, connector.default_mapping())
        finally:
            connector.close()

    def client(self, fake: FakeCopernica) -> CopernicaClient:
        """A client on ``fake`` whose retries give up after two attempts, without waiting."""
        from ..client import CopernicaClient  # imports zeep: only when a test needs it

        return CopernicaClient(fake.token, endpoint=fake.url, retry=FAST_RETRY)

    def prepare(self, fake: FakeCopernica) -> None:
        """Create the mapping's database, fields and collections, as `schema apply` does."""
        with self.client(fake) as client:
            schema.apply(client, schema.plan(client, schema_for(self.target)))

    def state_path(self, name: str) -> Path:
        """Where the state file called ``name`` lives (one per simulated job)."""
        return self.workdir / f"{name}.sqlite3"

    def run(self, fake: FakeCopernica, state_path: Path, *, tap: Tap | None = None,
            options: SyncOptions | None = None,
            hooks: Sequence[CheckpointHook] = (),
            clock: Callable[[], datetime] = _real_clock) -> tuple[RunReport, Tap]:
        """One sync run with a fresh connector, read through ``tap``; the engine
        reads the time from ``clock``."""
        tap = tap if tap is not None else Tap()
        connector = tapped(self.connector(), tap)
        try:
            with self.client(fake) as client, StateStore(state_path) as state:
                engine = SyncEngine(client, connector, self.target, state, job=JOB,
                                    options=options or self.options, hooks=hooks,
                                    clock=clock)
                return engine.run(), tap
        finally:
            connector.close()

    def bookmarks(self, state_path: Path) -> dict[str, str]:
        """The bookmarks a state file holds, by stream."""
        with StateStore(state_path) as state:
            return state.bookmarks()

    def read_all(self, clock: Callable[[], datetime] = _real_clock) -> list[StreamRead]:
        """Every stream read from the beginning up to now (by ``clock``), as the
        first run reads."""
        connector = self.connector()
        try:
            until = now_iso(clock)
            reads = []
            for stream in connector.streams():
                # The records to sync; skipped and rejected ones are the engine's to count.
                pages = [[item for item in page if isinstance(item, dict)]
                         for page in stream.read(None, until)]
                # is_sorted after reading: a connector may decide it while reading.
                reads.append(StreamRead(stream.name, stream.primary_key, stream.replication_key,
                                        bool(stream.is_sorted), pages))
            return reads
        finally:
            connector.close()
