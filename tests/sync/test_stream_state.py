"""Stream.state: a stream's own state, loaded before read() and committed in the
checkpoint of the page it was yielded with (one transaction with the bookmark)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from copernica_sdk import CopernicaClient, schema
from copernica_sdk.sync.connector import PageItem, Stream
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import Checkpoint, StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .memory_source import MAPPING, MemoryConnector


class _Counting(Stream):
    """Three pages of two people each; before yielding page ``n`` the stream notes
    ``{"pages": n}`` and what it held when it started."""

    name: ClassVar[str] = "people"
    primary_key: ClassVar[str] = "id"
    replication_key: ClassVar[str | None] = "updated"
    is_sorted: ClassVar[bool] = True

    def read(self, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        self.connector.seen.append(dict(self.state))  # type: ignore[attr-defined]
        for n in (1, 2, 3):
            self.state["pages"] = n
            yield [{"id": 2 * n + k, "email": f"p{2 * n + k}@example.com", "name": "P",
                    "updated": f"2024-01-0{n}T10:00:0{k}"} for k in (0, 1)]
        self.state["done"] = True  # after the last page: committed when the stream ends


class _Source(MemoryConnector):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def streams(self) -> Sequence[Stream]:
        return [_Counting(self)]


class _Boom(Exception):
    pass


class _FailAtCheckpoint:
    """A checkpoint hook that fails inside the ``n``-th checkpoint (it rolls back)."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def on_checkpoint(self, checkpoint: Checkpoint, *, job: str, stream: str,
                      records_synced: int) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise _Boom


def _run(fake: FakeCopernica, state: StateStore, source: _Source, *,
         hooks: Sequence[Any] = (), **options: Any) -> None:
    target = parse_target({}, {**source.default_mapping(),
                               "streams": {"people": MAPPING["streams"]["people"]}})
    with CopernicaClient(fake.token, endpoint=fake.url) as client:
        schema.apply(client, schema.plan(client, schema_for(target)))
        SyncEngine(client, source, target, state, job="t", hooks=hooks,
                   options=SyncOptions(**options)).run()


def test_stream_state_is_committed_per_page_and_loaded_before_the_next_read(
        copernica_fake: FakeCopernica, tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite3") as state:
        source = _Source()
        _run(copernica_fake, state, source)
        assert state.stream_state("people") == {"pages": 3, "done": True}
        again = _Source()
        _run(copernica_fake, state, again)
        assert again.seen == [{"pages": 3, "done": True}]


def test_a_rolled_back_checkpoint_rolls_the_stream_state_back_with_the_bookmark(
        copernica_fake: FakeCopernica, tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite3") as state:
        with pytest.raises(_Boom):
            _run(copernica_fake, state, _Source(), hooks=[_FailAtCheckpoint(2)])
        # Page 1 committed; page 2's checkpoint failed: its bookmark and state are gone.
        assert state.bookmark("people") == "2024-01-01T10:00:01"
        assert state.stream_state("people") == {"pages": 1}


def test_a_run_cut_short_by_limit_does_not_commit_state_meant_for_the_whole_page(
        copernica_fake: FakeCopernica, tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite3") as state:
        # The second page is cut to one record: its state (pages 2) is not committed.
        _run(copernica_fake, state, _Source(), limit=3)
        assert state.bookmark("people") == "2024-01-02T10:00:00"
        assert state.stream_state("people") == {"pages": 1}
        _run(copernica_fake, state, _Source(), dry_run=True)
        assert state.stream_state("people") == {"pages": 1}


def test_state_reset_clears_the_stream_state_with_the_bookmark(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.sqlite3") as state:
        with state.checkpoint() as cp:
            for name in ("people", "people:shop2", "orders"):
                cp.set_bookmark(name, "2024-01-01T00:00:00")
                cp.set_stream_state(name, {"files": {"x": 1}})
        state.reset("people")
        assert state.stream_state("people") == {} == state.stream_state("people:shop2")
        assert state.stream_state("orders") == {"files": {"x": 1}}
        state.reset()
        assert state.stream_state("orders") == {}
