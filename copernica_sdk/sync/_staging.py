"""Staging: a run's streams with aggregates, read in full before anything is written.

A profile's aggregates (orders count, total spent…) are final only once every
order is read, and a page can write them only as far as it has read.  So a
stream with aggregates whose pages may be read ahead is read to its end at the
start of the run, into this store: its records, mapped, and each record's
contribution to its profile's aggregates.  Every profile write of the run — the
customers stream's included — can then carry the totals the run will end with,
and a profile is written once per run instead of once with its own fields and
again with its final totals.

The staged records are written back **grouped by profile**
(:meth:`Staging.chunks`): all the records of one profile are in one chunk, so
consecutive chunks never share a profile and the engine can write one while it
plans the next.

The store is a temporary SQLite file next to the state file (a stream can be far
larger than memory), removed when the run ends.  It holds nothing the next run
needs: the stream's bookmark moves only once its staged records are written, so
a run that stops reads them again.  Predicting totals from it is an optimisation
only: what a write sent is remembered as a digest, and the engine's flush writes
any total that still differs once the stream's records are in
(:mod:`._aggregates`).
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

__all__ = ["StagedFact", "StagedRecord", "Staging"]

#: Keys per ``IN (…)`` query: well under SQLite's host-parameter limit.
_CHUNK = 500
#: The most of a stream's first records a preset dictionary holds (zlib's window).
_DICTIONARY_BYTES = 32 * 1024


@dataclass(frozen=True)
class StagedFact:
    """One staged record's contribution to its profile's aggregates, with the
    profile key it mapped to and the source's person id (``None``: a guest)."""

    record_key: str
    source_id: str | None
    mapped_key: str
    facts: Mapping[str, str]


@dataclass(frozen=True)
class StagedRecord:
    """One record to stage: what it is (``payload``, any picklable object, given
    back by :meth:`Staging.chunks`), whose profile it maps to, and its contribution
    to that profile's aggregates (``None``: it has none, e.g. it failed to map)."""

    record_key: str
    source_id: str | None
    mapped_key: str
    facts: Mapping[str, str] | None
    payload: object


class Staging:
    """Records and aggregate contributions of the streams read before writing.

    Safe to use from two threads (the engine and a reader of chunks): every
    access holds one lock.
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
        # Scratch data: nothing survives the run, so no journal and no fsync.  Pages
        # of 16 KiB: a record takes 1 to 2 KB, and a 4 KiB page left much of itself
        # empty (a ~2.3 KB record had one to itself).
        self._db.executescript("""
            PRAGMA page_size = 16384;
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE records (stream TEXT, seq INTEGER, source_id TEXT, mapped_key TEXT,
                                  body BLOB, PRIMARY KEY (stream, seq));
            CREATE TABLE facts (stream TEXT, record_key TEXT, source_id TEXT, mapped_key TEXT,
                                facts TEXT, PRIMARY KEY (stream, record_key));
            CREATE INDEX facts_by_key ON facts (stream, mapped_key);
            CREATE INDEX facts_by_source ON facts (stream, source_id);
            CREATE TABLE people (stream TEXT, source_id TEXT, profile_key TEXT,
                                 PRIMARY KEY (stream, source_id));
        """)
        self._count: dict[str, int] = {}
        self._dictionary: dict[str, bytes] = {}
        self._compressors: dict[str, Any] = {}  # zlib's Compress type has no public name

    # -- filling ------------------------------------------------------------------

    def add(self, stream: str, records: Iterable[StagedRecord]) -> None:
        """Stage records in the order read; a record staged twice keeps its later
        contribution (both are written, in that order)."""
        rows = []
        facts = []
        with self._lock:
            seq = self._count.get(stream, 0)
            records = list(records)
            if not records:
                return
            pickled = [pickle.dumps(record.payload, pickle.HIGHEST_PROTOCOL)
                       for record in records]
            # A stream's records share their keys and much of their shape, which a
            # record alone is too short to exploit: compressed against its stream's
            # first records, one takes ~1/3 of the space at about the same CPU.
            if stream not in self._dictionary:
                self._dictionary[stream] = b"".join(pickled)[-_DICTIONARY_BYTES:]
                # Loading a dictionary costs more than compressing a record: it is
                # loaded once, and each record starts from a copy of that state.
                self._compressors[stream] = zlib.compressobj(1, zdict=self._dictionary[stream])
            primed = self._compressors[stream]
            for record, data in zip(records, pickled, strict=True):
                squeeze = primed.copy()
                body = squeeze.compress(data) + squeeze.flush()
                rows.append((stream, seq, record.source_id, record.mapped_key, body))
                seq += 1
                if record.facts is not None:
                    facts.append((stream, record.record_key, record.source_id,
                                  record.mapped_key, json.dumps(dict(record.facts),
                                                                sort_keys=True)))
            self._count[stream] = seq
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", rows)
            self._db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)", facts)
            self._db.execute("COMMIT")

    def source_ids(self, stream: str) -> Iterator[list[str]]:
        """The person ids the stream's records carry, a chunk at a time."""
        after = ""
        while True:
            with self._lock:
                chunk = [sid for (sid,) in self._db.execute(
                    "SELECT DISTINCT source_id FROM records WHERE stream = ? AND source_id > ? "
                    "ORDER BY source_id LIMIT ?", (stream, after, _CHUNK))]
            if not chunk:
                return
            yield chunk
            after = chunk[-1]

    def set_profile_keys(self, stream: str, keys: Mapping[str, str]) -> None:
        """The profile each person id's records belong to (known identities); a
        record of anyone else belongs to the key it mapped to."""
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO people VALUES (?, ?, ?)",
                                 [(stream, sid, key) for sid, key in keys.items()])

    # -- reading ------------------------------------------------------------------

    def chunks(self, stream: str, size: int) -> Iterator[list[Any]]:
        """The staged payloads grouped by profile: each chunk holds every record of
        its profiles, in the order read, and at least ``size`` records unless it is
        the last (a profile is never split)."""
        with self._lock:
            self._db.executescript("DROP TABLE IF EXISTS ordered; CREATE TEMP TABLE ordered "
                                   "(pos INTEGER PRIMARY KEY, seq INTEGER, profile_key TEXT)")
            # The sort runs in SQLite (on disk when large), not in this process.
            self._db.execute(
                "INSERT INTO ordered (seq, profile_key) "
                "SELECT r.seq, COALESCE(p.profile_key, r.mapped_key) AS k FROM records r "
                "LEFT JOIN people p ON p.stream = r.stream AND p.source_id = r.source_id "
                "WHERE r.stream = ? ORDER BY k, r.seq", (stream,))
        dictionary = self._dictionary.get(stream, b"")
        chunk: list[Any] = []
        last_key: str | None = None
        pos = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT o.pos, o.profile_key, r.body FROM ordered o JOIN records r "
                    "ON r.stream = ? AND r.seq = o.seq WHERE o.pos > ? ORDER BY o.pos LIMIT ?",
                    (stream, pos, _CHUNK)).fetchall()
            if not rows:
                break
            pos = rows[-1][0]
            for _, key, body in rows:
                if len(chunk) >= size and key != last_key:
                    yield chunk
                    chunk = []
                chunk.append(pickle.loads(zlib.decompressobj(zdict=dictionary).decompress(body)))
                last_key = key
        if chunk:
            yield chunk

    def staged_among(self, stream: str, record_keys: Iterable[str]) -> set[str]:
        """Which of ``record_keys`` are staged with a contribution."""
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
