"""Staging: a run's streams with aggregates, read in full before anything is written.

A profile's aggregates (orders count, total spent…) are final only once every
order is read, and a page can write them only as far as it has read.  So a
stream with aggregates (:attr:`StreamMapping.aggregates`) whose pages may be
read ahead is read to its end at the start of the run, into this store: its
pages, to be written later in their order, and each record's contribution to
its profile's aggregates, so that every profile write of the run — the
customers stream's included — can carry the totals the run will end with.  A
profile is then written once per run instead of once with its own fields and
again with its final totals.

The store is a temporary SQLite file next to the state file (pages can be far
larger than memory), removed when the run ends.  It holds nothing the next run
needs: until a page is committed its bookmark has not moved, so a run that stops
reads the page again.  Predicting totals from it is an optimisation only: what a
write sent is remembered as a digest, and the engine's flush writes any total
that still differs once the stream's pages are in (:mod:`._aggregates`).
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import sqlite3
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

__all__ = ["StagedFact", "Staging"]

#: Keys per ``IN (…)`` query: well under SQLite's host-parameter limit.
_CHUNK = 500


@dataclass(frozen=True)
class StagedFact:
    """One staged record's contribution to its profile's aggregates, with the
    profile key it mapped to and the source's person id (``None``: a guest)."""

    record_key: str
    source_id: str | None
    mapped_key: str
    facts: Mapping[str, str]


class Staging:
    """Pages and aggregate contributions of the streams read before writing.

    Safe to use from two threads (the engine and a page reader): every access
    holds one lock.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        if directory is not None:
            pathlib.Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, name = tempfile.mkstemp(prefix=".copernica-sync-staging-", suffix=".sqlite",
                                        dir=directory)
        os.close(handle)
        self.path = pathlib.Path(name)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # Scratch data: nothing survives the run, so no journal and no fsync.
        self._db.executescript("""
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE pages (stream TEXT, seq INTEGER, body BLOB, PRIMARY KEY (stream, seq));
            CREATE TABLE facts (stream TEXT, record_key TEXT, source_id TEXT, mapped_key TEXT,
                                facts TEXT, PRIMARY KEY (stream, record_key));
            CREATE INDEX facts_by_key ON facts (stream, mapped_key);
            CREATE INDEX facts_by_source ON facts (stream, source_id);
        """)
        self._streams: dict[str, int] = {}
        self._errors: dict[str, BaseException] = {}
        self._final_state: dict[str, dict[str, Any]] = {}

    # -- filling ------------------------------------------------------------------

    def add_page(self, stream: str, page: object, facts: Iterable[StagedFact]) -> None:
        """Stage one page (any picklable object) and its records' contributions;
        a record staged twice keeps its later contribution."""
        body = zlib.compress(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL), 1)
        rows = [(stream, f.record_key, f.source_id, f.mapped_key,
                 json.dumps(dict(f.facts), sort_keys=True)) for f in facts]
        with self._lock:
            seq = self._streams.get(stream, 0)
            self._streams[stream] = seq + 1
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO pages VALUES (?, ?, ?)", (stream, seq, body))
            self._db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def finish(self, stream: str, state: Mapping[str, Any],
               error: BaseException | None = None) -> None:
        """The stream is read: its own state after the last page, and the error
        that ended the reading early, if any (raised after the staged pages)."""
        self._streams.setdefault(stream, 0)
        self._final_state[stream] = dict(state)
        if error is not None:
            self._errors[stream] = error

    # -- reading ------------------------------------------------------------------

    def has(self, stream: str) -> bool:
        """Whether ``stream`` was staged (read in full, or up to an error)."""
        return stream in self._final_state

    def final_state(self, stream: str) -> dict[str, Any]:
        return self._final_state[stream]

    def pages(self, stream: str) -> Iterator[Any]:
        """The staged pages in the order they were read, then the error that ended
        the reading, if any."""
        for seq in range(self._streams.get(stream, 0)):
            with self._lock:
                (body,) = self._db.execute("SELECT body FROM pages WHERE stream = ? AND seq = ?",
                                           (stream, seq)).fetchone()
            yield pickle.loads(zlib.decompress(body))
        error = self._errors.get(stream)
        if error is not None:
            raise error

    def staged_among(self, stream: str, record_keys: Iterable[str]) -> set[str]:
        """Which of ``record_keys`` are staged."""
        out: set[str] = set()
        for chunk in _chunks(record_keys):
            out.update(key for (key,) in self._select(
                "SELECT record_key FROM facts WHERE stream = ? AND record_key IN ({})",
                stream, chunk))
        return out

    def facts_for(self, stream: str, *, mapped_keys: Iterable[str],
                  source_ids: Iterable[str]) -> list[StagedFact]:
        """The staged contributions mapped to one of ``mapped_keys`` or carrying
        one of ``source_ids``."""
        seen: dict[str, StagedFact] = {}
        for column, values in (("mapped_key", mapped_keys), ("source_id", source_ids)):
            for chunk in _chunks(values):
                for record_key, source_id, mapped_key, facts in self._select(
                        "SELECT record_key, source_id, mapped_key, facts FROM facts "
                        f"WHERE stream = ? AND {column} IN ({{}})", stream, chunk):
                    seen[record_key] = StagedFact(record_key, source_id, mapped_key,
                                                  json.loads(facts))
        return list(seen.values())

    def _select(self, sql: str, stream: str, chunk: list[str]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql.format(", ".join("?" * len(chunk))),
                                    (stream, *chunk)).fetchall()

    # -- the end ------------------------------------------------------------------

    def close(self) -> None:
        """Remove the store."""
        with self._lock:
            self._db.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    it = iter(sorted(set(items)))
    while chunk := list(islice(it, _CHUNK)):
        yield chunk
