"""The sync job's state: one SQLite file per job.

What it holds, all small and keyed so that lookups never load a whole table:

- **bookmarks** — per stream, the opaque replication-key value to resume from;
- **hashes** — per (scope, record key), the content hash of what Copernica last
  accepted, so unchanged records are skipped next run;
- **profile ids** — per (database id, profile key), the Copernica profile id,
  to save a search call per record;
- **identities** — per (source, source customer id), the profile key and id the
  customer was synced to, so an e-mail change updates the same profile; several
  ids may claim one key (a shared profile, see :meth:`StateStore.shared_profile_keys`);
- **profile owners** — per profile key, the record whose data the profile's fields
  hold and how strong its claim is (field precedence);
- **dead letters** — records that failed, with reason and payload, replayable;
- **runs** — when each run started and ended, its exit code and counts.

Every write of a sync batch goes through :meth:`StateStore.checkpoint`: one
``BEGIN IMMEDIATE … COMMIT`` that the engine opens only after Copernica accepted
the batch.  A run killed at any moment therefore leaves either the whole
checkpoint or none of it — never a bookmark without its hashes, or usage rows
without the bookmark they pay for.  Hooks (licensing) add their own rows through
:attr:`Checkpoint.connection` to share that transaction.

The file's schema is versioned with ``PRAGMA user_version``; :data:`MIGRATIONS`
lists the scripts, and opening an older file upgrades it in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from types import TracebackType
from typing import Any, Final

import platformdirs

from .. import _sql
from .errors import ConfigError
from .state_files import MOVE_ASIDE, StateError, state_error, unreachable_error

__all__ = [
    "DEAD_LETTER_STATUSES",
    "MIGRATIONS",
    "PG_MIGRATIONS",
    "Checkpoint",
    "DeadLetter",
    "Identity",
    "ProfileOwner",
    "RunInfo",
    "SharedKey",
    "StateStore",
    "StateVersionError",
]

#: The schema, one script per version: the file's ``user_version`` is the number
#: of scripts applied.  Append new scripts; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: initial schema.
    """
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job         TEXT    NOT NULL,
        started_at  TEXT    NOT NULL,
        ended_at    TEXT,
        exit_code   INTEGER,
        counts      TEXT    NOT NULL DEFAULT '{}'
    );
    CREATE TABLE bookmarks (
        stream      TEXT    PRIMARY KEY,
        value       TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE hashes (
        scope       TEXT    NOT NULL,
        key         TEXT    NOT NULL,
        hash        TEXT    NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    CREATE TABLE profile_ids (
        database_id INTEGER NOT NULL,
        key         TEXT    NOT NULL,
        profile_id  INTEGER NOT NULL,
        PRIMARY KEY (database_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE identities (
        source      TEXT    NOT NULL,
        source_id   TEXT    NOT NULL,
        profile_key TEXT    NOT NULL,
        profile_id  INTEGER,
        updated_at  TEXT    NOT NULL,
        PRIMARY KEY (source, source_id)
    ) WITHOUT ROWID;
    CREATE TABLE dead_letters (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id      INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        stream      TEXT    NOT NULL,
        record_key  TEXT    NOT NULL,
        reason      TEXT    NOT NULL,
        payload     TEXT    NOT NULL,
        created_at  TEXT    NOT NULL,
        status      TEXT    NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'retried', 'resolved')),
        attempts    INTEGER NOT NULL DEFAULT 0
    );
    -- resolve_dead_letters runs for every synced page: keep it an index probe.
    CREATE INDEX dead_letters_by_record ON dead_letters (stream, record_key);
    CREATE INDEX dead_letters_by_status ON dead_letters (status, id);
    """,
    # 2: per-record contributions to profile aggregates (orders count, total spent…).
    """
    CREATE TABLE facts (
        scope       TEXT    NOT NULL,
        record_key  TEXT    NOT NULL,
        profile_key TEXT    NOT NULL,
        facts       TEXT    NOT NULL,
        PRIMARY KEY (scope, record_key)
    ) WITHOUT ROWID;
    CREATE INDEX facts_by_profile ON facts (scope, profile_key);
    """,
    # 3: which identities claim a profile key (shared profiles), and which record's
    # data a profile's fields hold (field precedence, see copernica_sdk.sync.identity).
    """
    CREATE INDEX identities_by_profile ON identities (source, profile_key);
    CREATE TABLE profile_owners (
        profile_key TEXT    PRIMARY KEY,
        rank        INTEGER NOT NULL,
        recency     TEXT    NOT NULL,
        claimant    TEXT    NOT NULL,
        fields_hash TEXT    NOT NULL,
        contested   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX profile_owners_by_claimant ON profile_owners (claimant);
    """,
    # 4: the licensing ledger (copernica_sdk.licensing.ledger reads and writes it):
    # install identity, clock high-water mark, license state per run, usage events and
    # their deliveries.  Releases before this one created these tables on first use,
    # hence IF NOT EXISTS.
    """
    CREATE TABLE IF NOT EXISTS license_install (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        install_id  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        shop        TEXT NOT NULL,
        environment TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS license_clock (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        high_water  TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS license_runs (
        run_id        INTEGER PRIMARY KEY,
        lid           TEXT,
        license_state TEXT NOT NULL,
        mode          TEXT NOT NULL,
        flags         TEXT NOT NULL,
        checked_at    TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS usage_events (
        event_id      TEXT PRIMARY KEY,
        install_id    TEXT NOT NULL,
        pid           TEXT NOT NULL,
        lid           TEXT NOT NULL,
        customer_ref  TEXT NOT NULL,
        shop          TEXT NOT NULL,
        environment   TEXT NOT NULL,
        metric        TEXT NOT NULL,
        stream        TEXT NOT NULL,
        quantity      INTEGER NOT NULL CHECK (quantity >= 0),
        occurred_at   TEXT NOT NULL,
        period        TEXT NOT NULL,
        run_id        INTEGER,
        seq           INTEGER NOT NULL,
        license_state TEXT NOT NULL,
        flags         TEXT NOT NULL,
        UNIQUE (run_id, metric, stream, seq));
    CREATE UNIQUE INDEX IF NOT EXISTS usage_one_install_month
        ON usage_events (install_id, metric, period) WHERE metric = 'install_month';
    CREATE INDEX IF NOT EXISTS usage_by_period ON usage_events (period, occurred_at, event_id);
    CREATE TABLE IF NOT EXISTS usage_deliveries (
        event_id        TEXT NOT NULL REFERENCES usage_events (event_id),
        sink            TEXT NOT NULL,
        state           TEXT NOT NULL
                        CHECK (state IN ('pending', 'delivered', 'rejected', 'ambiguous')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TEXT,
        last_attempt_at TEXT,
        next_attempt_at TEXT,
        last_error      TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (event_id, sink)) WITHOUT ROWID;
    """,
    # 5: the install's usage-signing key when the state is in PostgreSQL, so every
    # worker that runs the job signs as the same install (with SQLite it is a 0600
    # file beside the state: copernica_sdk.licensing.usage_signing).
    """
    CREATE TABLE IF NOT EXISTS install_key (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        pem TEXT NOT NULL);
    """,
    # 6: a stream's own state (Stream.state, JSON), committed with its bookmark.
    """
    CREATE TABLE stream_state (
        stream      TEXT    PRIMARY KEY,
        value       TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL
    ) WITHOUT ROWID;
    """,
]


def _pg(script: str) -> str:
    """A migration in PostgreSQL's spelling: byte-order text (so ranges and ORDER BY
    agree with SQLite's), 64-bit integers, identity columns, no ``WITHOUT ROWID``."""
    script = script.replace("INTEGER PRIMARY KEY AUTOINCREMENT",
                            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    script = re.sub(r"\bINTEGER\b", "BIGINT", script)
    script = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', script)
    return script.replace(") WITHOUT ROWID", ")")


#: :data:`MIGRATIONS` for PostgreSQL, version for version (the same tables and
#: indexes); a schema's version is the row in its ``schema_version`` table.
PG_MIGRATIONS: list[str] = [_pg(script) for script in MIGRATIONS]

#: The states a dead letter can be in.
DEAD_LETTER_STATUSES: Final = frozenset({"open", "retried", "resolved"})

# Keys per ``IN (…)``: SQLite before 3.32 allows only 999 bound parameters, and
# each query binds one or two more besides the keys.
_CHUNK: Final = 500


class _ReadConnection(sqlite3.Connection):
    """A plain connection that, unlike ``sqlite3.Connection``, can be weakly
    referenced."""


class StateVersionError(ConfigError):
    """The state file was written by a newer copernica-sync than this one.

    A :class:`ConfigError` because the remedy is the user's (upgrade, or point the
    job at another state file), and the run must not touch the file meanwhile.
    """


@dataclass(frozen=True)
class RunInfo:
    """One run of a job.  Timestamps are ISO-8601 UTC strings."""

    id: int
    job: str
    started_at: str
    ended_at: str | None
    exit_code: int | None
    counts: dict[str, int]


@dataclass(frozen=True)
class Identity:
    """Where a source customer was synced to.  ``profile_id`` is ``None`` until
    Copernica has told us the id."""

    profile_key: str
    profile_id: int | None


@dataclass(frozen=True)
class ProfileOwner:
    """The record whose data a profile's own fields hold (see
    :mod:`copernica_sdk.sync.identity`): its ``rank`` (2 an account, 1 activity such
    as an order), ``recency`` (normalised timestamp), ``claimant`` (``stream:record
    key``), ``fields_hash`` (digest of the fields it wrote) and ``contested`` (other
    records of its stream have claimed the key too)."""

    rank: int
    recency: str
    claimant: str
    fields_hash: str
    contested: bool = False


@dataclass(frozen=True)
class SharedKey:
    """A profile key claimed by several source ids of one source."""

    source: str
    profile_key: str
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class DeadLetter:
    """A record that failed, kept so it can be inspected and replayed."""

    id: int
    run_id: int | None
    stream: str
    record_key: str
    reason: str
    payload: dict[str, Any]
    created_at: str
    status: str
    attempts: int


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str) -> str:
    """``value``, made storable.

    SQLite stores UTF-8, and a lone surrogate (a hostile record can carry one,
    e.g. from a JSON ``"\\ud800"``) cannot be encoded; raising here would fail the
    whole checkpoint and stall the job on one bad record forever.
    """
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _chunks(items: Iterable[str], size: int = _CHUNK) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := [_text(k) for k in islice(it, size)]:
        yield chunk


def _lookup_chunks(items: Iterable[str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Chunks of storable keys, each with a map back to the caller's spelling of
    any key :func:`_text` had to change, so results are keyed as asked."""
    it = iter(items)
    while raw := list(islice(it, _CHUNK)):
        chunk = [_text(k) for k in raw]
        back = {t: k for t, k in zip(chunk, raw, strict=True) if t is not k}
        yield chunk, back


def _marks(n: int) -> str:
    return ",".join("?" * n)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


#: How deep a dead letter's payload is kept; deeper values are replaced by a note.
_PAYLOAD_DEPTH = 64


def _shallow(value: Any, depth: int = 0) -> Any:
    """``value`` with containers below ``_PAYLOAD_DEPTH`` levels replaced by a note."""
    if isinstance(value, Mapping | list | tuple):
        if depth >= _PAYLOAD_DEPTH:
            return f"(nested deeper than {_PAYLOAD_DEPTH} levels; not kept)"
        if isinstance(value, Mapping):
            return {str(k): _shallow(v, depth + 1) for k, v in value.items()}
        return [_shallow(v, depth + 1) for v in value]
    return value


def _dump_payload(payload: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        # A record nested too deep to encode (or circular) must not fail the
        # checkpoint that dead-letters it: keep what can be kept.
        text = json.dumps(_shallow(payload), ensure_ascii=False, default=str)
    # Lone surrogates cannot be stored as UTF-8; they only occur inside JSON
    # strings, where their \uXXXX escape reads back as the same character.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _check_status(status: str) -> None:
    if status not in DEAD_LETTER_STATUSES:
        raise ValueError(f"dead-letter status must be one of {sorted(DEAD_LETTER_STATUSES)}, "
                         f"not {status!r}")


def _stream_range(column: str) -> str:
    # ``stream`` itself, or ``stream:<anything>`` as a range so the primary key
    # index serves it (';' is the character after ':').
    return f"({column} = ? OR ({column} >= ? || ':' AND {column} < ? || ';'))"


class Checkpoint:
    """The writes of one sync batch, committed together or not at all.

    Obtained from :meth:`StateStore.checkpoint`; valid only inside that ``with``
    block and only in the thread that opened it.
    """

    def __init__(self, connection: _sql.Connection, run_id: int | None) -> None:
        #: The store's connection, inside the checkpoint's transaction: hooks
        #: (usage metering) write their own rows through it so they commit, or
        #: roll back, with the bookmark.
        self.connection = connection
        #: The run this checkpoint belongs to (defaults to the store's current
        #: run); hooks read it to attribute their rows.
        self.run_id = run_id
        self._open = True

    def _db(self) -> _sql.Connection:
        if not self._open:
            raise RuntimeError("this checkpoint has already been committed or rolled back")
        return self.connection

    def _close(self) -> None:
        self._open = False

    def set_bookmark(self, stream: str, value: str) -> None:
        """Resume ``stream`` from ``value`` (opaque to the store) next time."""
        self._db().execute(
            "INSERT INTO bookmarks (stream, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (_text(stream), _text(value), _now()),
        )

    def set_stream_state(self, stream: str, value: Mapping[str, Any]) -> None:
        """Keep ``stream``'s own state (:attr:`Stream.state`, JSON-serialisable)
        with this checkpoint: it commits, or rolls back, with the bookmark."""
        self._db().execute(
            "INSERT INTO stream_state (stream, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (_text(stream), _dump_payload(value), _now()),
        )

    def clear_bookmark(self, stream: str) -> None:
        """Forget ``stream``'s bookmark (only that one): it starts from the beginning."""
        self._db().execute("DELETE FROM bookmarks WHERE stream = ?", (_text(stream),))

    def set_hashes(self, scope: str, hashes: Mapping[str, str]) -> None:
        """Remember the content hash Copernica accepted for each key in ``scope``."""
        scope = _text(scope)
        self._db().executemany(
            "INSERT INTO hashes (scope, key, hash) VALUES (?, ?, ?) "
            "ON CONFLICT (scope, key) DO UPDATE SET hash = excluded.hash",
            ((scope, _text(k), _text(h)) for k, h in hashes.items()),
        )

    def clear_hashes(self, scope: str, keys: Iterable[str]) -> None:
        """Forget the stored hash of each of ``keys`` in ``scope``."""
        scope = _text(scope)
        for chunk in _chunks(keys):
            self._db().execute(f"DELETE FROM hashes WHERE scope = ? AND key IN "
                               f"({_marks(len(chunk))})", (scope, *map(_text, chunk)))

    def set_facts(self, scope: str, facts: Mapping[str, tuple[str, Mapping[str, str]]]) -> None:
        """Remember each record's contribution to its profile's aggregates:
        ``record_key`` → ``(profile_key, {aggregate: value})``; a record that moved
        to another profile moves with it."""
        scope = _text(scope)
        self._db().executemany(
            "INSERT INTO facts (scope, record_key, profile_key, facts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (scope, record_key) DO UPDATE SET profile_key = excluded.profile_key, "
            "facts = excluded.facts",
            ((scope, _text(r), _text(p), json.dumps(dict(f), sort_keys=True))
             for r, (p, f) in facts.items()),
        )

    def set_profile_ids(self, database_id: int, ids: Mapping[str, int]) -> None:
        """Cache the Copernica profile id of each profile key in ``database_id``."""
        self._db().executemany(
            "INSERT INTO profile_ids (database_id, key, profile_id) VALUES (?, ?, ?) "
            "ON CONFLICT (database_id, key) DO UPDATE SET profile_id = excluded.profile_id",
            ((database_id, _text(k), pid) for k, pid in ids.items()),
        )

    def forget_profile_ids(self, database_id: int, keys: Iterable[str]) -> None:
        """Drop cached ids, e.g. after Copernica said the profile no longer exists."""
        db = self._db()
        for chunk in _chunks(keys):
            db.execute(
                f"DELETE FROM profile_ids WHERE database_id = ? AND key IN ({_marks(len(chunk))})",
                (database_id, *chunk),
            )

    def set_identity(self, source: str, source_id: str, profile_key: str,
                     profile_id: int | None) -> None:
        """Record that ``source_id`` of ``source`` is the profile ``profile_key``.

        A ``None`` ``profile_id`` does not erase an id already known for the
        same profile key: callers often learn the key before the id.
        """
        self._db().execute(
            "INSERT INTO identities (source, source_id, profile_key, profile_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (source, source_id) DO UPDATE SET "
            "  profile_id = CASE WHEN excluded.profile_id IS NULL "
            "                     AND excluded.profile_key = identities.profile_key "
            "                    THEN identities.profile_id ELSE excluded.profile_id END, "
            "  profile_key = excluded.profile_key, updated_at = excluded.updated_at",
            (_text(source), _text(source_id), _text(profile_key), profile_id, _now()),
        )

    def set_profile_owners(self, owners: Mapping[str, ProfileOwner]) -> None:
        """Record whose data each profile key's fields now hold."""
        self._db().executemany(
            "INSERT INTO profile_owners (profile_key, rank, recency, claimant, fields_hash, "
            "contested) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (profile_key) DO UPDATE SET "
            "rank = excluded.rank, recency = excluded.recency, claimant = excluded.claimant, "
            "fields_hash = excluded.fields_hash, contested = excluded.contested",
            ((_text(k), o.rank, _text(o.recency), _text(o.claimant), o.fields_hash,
              int(o.contested)) for k, o in owners.items()))

    def release_profile_owners(self, claims: Mapping[str, str]) -> None:
        """``claims``: claimant → the key it claims now.  Ownership a claimant
        holds of any *other* key ends (its e-mail changed), so the next record
        that claims that key takes its fields over."""
        self._db().executemany(
            "DELETE FROM profile_owners WHERE claimant = ? AND profile_key != ?",
            ((_text(c), _text(k)) for c, k in claims.items()))

    def add_dead_letter(self, *, run_id: int | None, stream: str, record_key: str,
                        reason: str, payload: Mapping[str, Any]) -> int:
        """Keep a failed record with why it failed; returns the dead letter's id.

        ``payload`` is stored as JSON; values JSON does not know are stored as
        their ``str()``.  The caller redacts secrets before handing it over.  A
        record that already has an open letter (read again within the lookback
        window) updates that letter instead of opening a second one.
        """
        db = self._db()
        args = (_text(stream), _text(record_key))
        found = db.execute("SELECT id FROM dead_letters WHERE stream = ? AND record_key = ? "
                           "AND status = 'open' ORDER BY id DESC LIMIT 1", args).fetchone()
        if found is not None:
            db.execute("UPDATE dead_letters SET run_id = ?, reason = ?, payload = ?, "
                       "attempts = attempts + 1 WHERE id = ?",
                       (run_id, _text(reason), _dump_payload(payload), found[0]))
            return int(found[0])
        return _insert(db,
                       "INSERT INTO dead_letters (run_id, stream, record_key, reason, payload, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, *args, _text(reason), _dump_payload(payload), _now()))

    def resolve_dead_letters(self, stream: str, record_keys: Iterable[str]) -> int:
        """Close the open (or retried) dead letters of records that have now synced
        fine; returns how many were closed."""
        db = self._db()
        stream = _text(stream)
        closed = 0
        for chunk in _chunks(record_keys):
            cur = db.execute(
                "UPDATE dead_letters SET status = 'resolved' "
                f"WHERE stream = ? AND record_key IN ({_marks(len(chunk))}) "
                "AND status != 'resolved'",
                (stream, *chunk),
            )
            closed += cur.rowcount
        return closed


def _insert(db: _sql.Connection, sql: str, params: tuple[Any, ...]) -> int:
    """Run an INSERT into a table with an ``id`` key; returns the new row's id."""
    if isinstance(db, _sql.PgConnection):
        return int(db.execute(sql + " RETURNING id", params).fetchone()[0])
    cur = db.execute(sql, params)
    assert cur.lastrowid is not None  # an INSERT into a rowid table always has one
    return int(cur.lastrowid)


class StateStore:
    """A job's state: an SQLite file, or a schema in PostgreSQL.  Every public
    method is thread-safe.

    ``path`` is a file path (SQLite), or a PostgreSQL URL whose ``search_path``
    names the job's schema (:func:`copernica_sdk._sql.job_location` makes one
    from a ``state_url``): the same tables, the same SQL, the same one
    transaction per checkpoint.  :attr:`location` is what was given;
    :attr:`where` names it in messages (a PostgreSQL URL without its password).

    Writes go through one connection under an internal lock.  Reads from other
    threads use a connection of their own (opened on first use), so in WAL mode
    they neither wait for a checkpoint — not even for its fsync — nor see its
    uncommitted rows; inside a checkpoint, its own thread reads its own writes.

    Example::

        with StateStore(StateStore.default_path("shop")) as state:
            run = state.start_run("shop")
            since = state.bookmark("orders")
            ...  # write the page to Copernica, then:
            with state.checkpoint() as cp:
                cp.set_bookmark("orders", last_modified)
                cp.set_hashes("orders", new_hashes)
            state.finish_run(run, 0, {"written": 42})
    """

    _conn: _sql.Connection
    _current_run: int | None
    # The thread inside checkpoint(), if any; only the writer sets it.
    _writer: int | None
    # Weak: a reader connection lives as long as its thread; close() closes the ones
    # still alive.
    _readers: weakref.WeakSet[Any]

    def __init__(self, path: str | os.PathLike[str]) -> None:
        #: Whether the state lives in PostgreSQL (else in an SQLite file).
        self.postgres = _sql.is_postgres(path)
        if self.postgres:
            assert isinstance(path, str)
            self.location: str | pathlib.Path = path
            self.where = _sql.redact(path)
            #: The state file (SQLite); for PostgreSQL the schema, as a name only.
            self.path: pathlib.Path = pathlib.Path(_sql.schema_of(path))
            try:
                self._open_pg(path)
            except Exception as exc:
                problem = unreachable_error(path, exc)
                if problem is None:
                    raise
                raise problem from exc
            return
        self.path = pathlib.Path(path).expanduser()
        self.location = self.path
        self.where = str(self.path)
        try:
            self._open()
        except (OSError, sqlite3.DatabaseError) as exc:
            problem = None if isinstance(exc, sqlite3.ProgrammingError) else \
                state_error(self.path, exc)
            if problem is None:
                raise  # not the file's fault: a bug
            raise problem from exc

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            # The file holds e-mail addresses and record payloads: readable by
            # the owner only.  SQLite gives -wal/-shm the same mode.
            with suppress(FileExistsError):
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        # One write connection, shared under a lock: SQLite serialises writers
        # anyway.  isolation_level=None: transactions are ours to begin and end.
        self._conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                                     check_same_thread=False)
        self._init_shared()
        try:
            self._conn.execute("PRAGMA busy_timeout = 5000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit survives power loss, not only a killed process.
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _init_shared(self) -> None:
        """What both engines' stores hold besides the write connection."""
        self._lock = threading.RLock()
        self._current_run = None
        # The thread inside checkpoint(), if any; only the writer sets it.
        self._writer = None
        self._local = threading.local()
        # Weak: a reader connection lives as long as its thread; close() closes
        # the ones still alive.
        self._readers = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False

    def _open_pg(self, location: str) -> None:
        self._conn = _sql.PgConnection.open(location)
        self._init_shared()
        try:
            self._migrate_pg(_sql.schema_of(location))
        except BaseException:
            self._conn.close()
            raise

    def _migrate_pg(self, schema: str) -> None:
        """Bring the job's schema to the newest version: every pending migration and
        the version bump in one transaction, under a transaction-scoped advisory lock
        so two workers opening one new job do not both create its tables."""
        target = len(PG_MIGRATIONS)
        db = self._conn
        db.execute("BEGIN")
        try:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_sql.lock_key("migrate", schema),))
            db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            version = 0 if row is None else int(row[0])
            if version > target:
                raise StateVersionError(
                    f"state schema {schema} at {self.where} has version {version}, but this "
                    f"copernica-sync knows versions up to {target}: it was written by a newer "
                    "release; upgrade copernica-sync, or configure another state_url")
            for script in PG_MIGRATIONS[version:]:
                db.execute(script)
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
            elif version != target:
                db.execute("UPDATE schema_version SET version = ?", (target,))
            db.execute("COMMIT")
        except BaseException:
            with suppress(Exception):
                db.execute("ROLLBACK")
            raise

    # -- lifecycle -------------------------------------------------------------

    @staticmethod
    def default_path(job: str) -> pathlib.Path:
        """Where a job's state lives unless configured otherwise: the user's state
        directory (e.g. ``~/.local/state/copernica-sync/<job>.sqlite3``)."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", job).strip("._-")
        if safe != job:
            # Distinct job names must not share a file once sanitised.
            digest = hashlib.sha256(job.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            safe = f"{safe or 'job'}-{digest}"
        return platformdirs.user_state_path("copernica-sync") / f"{safe}.sqlite3"

    def close(self) -> None:
        """Close the file.  Idempotent.  Call it once the threads using the store
        are done."""
        with self._lock, self._readers_lock:
            self._closed = True
            for reader in list(self._readers):
                reader.close()
            self._conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
        # SQLite's own errors inside the block (a damaged page met mid-run, a full
        # disk at commit) become one clear StateError naming this file.
        if self.postgres and exc is not None:
            problem = unreachable_error(str(self.location), exc)
            if problem is not None:
                raise problem from exc
            return
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.ProgrammingError | sqlite3.IntegrityError | sqlite3.InterfaceError):
            problem = state_error(self.path, exc)
            if problem is not None:
                raise problem from exc

    def _read(self) -> _sql.Connection:
        """The connection the calling thread reads through."""
        if self._writer == threading.get_ident():
            return self._conn
        conn: _sql.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._readers_lock:
                if self._closed:
                    raise sqlite3.ProgrammingError("Cannot operate on a closed state store.")
                if self.postgres:
                    conn = _sql.PgConnection.open(str(self.location), readonly=True)
                    self._readers.add(conn)
                    self._local.conn = conn
                    return conn
                conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                                       check_same_thread=False, factory=_ReadConnection)
                conn.execute("PRAGMA query_only = ON")
                self._readers.add(conn)
            self._local.conn = conn
        return conn

    def _migrate(self) -> None:
        target = len(MIGRATIONS)
        version = self._version()
        if version > target:
            raise StateVersionError(
                f"state file {self.path} has schema version {version}, but this "
                f"copernica-sync knows versions up to {target}: it was written by a newer "
                "release; upgrade copernica-sync, or configure another state path")
        if version == target:
            return
        # executescript cannot run inside a transaction we opened (it commits
        # first), so the transaction is part of the script: the pending
        # migrations and the version bump commit together or not at all.
        script = ";\n".join(MIGRATIONS[version:])
        assert isinstance(self._conn, sqlite3.Connection)
        try:
            self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{script};\nPRAGMA user_version = {target};\nCOMMIT;")
        except sqlite3.Error:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            # Another process may have migrated the file between our read of the
            # version and our BEGIN; then there is nothing left to do.
            if self._version() != target:
                raise

    def verify(self) -> None:
        """Check the whole file for damage before a run builds on it.

        A damaged page is otherwise met only when a run happens to read or write
        it, possibly after other commits.  Raises :class:`StateError` (via the
        file's SQLite error) naming the file and what to do.  Reads every page:
        about a second per few hundred MB.
        """
        if self.postgres:
            return  # PostgreSQL checks its own pages (and reports damage as an error)
        with self._lock:
            rows = self._conn.execute("PRAGMA quick_check(1)").fetchall()
        if rows != [("ok",)]:
            detail = rows[0][0] if rows else "no answer"
            raise StateError(self.path, f"is damaged ({detail})", MOVE_ASIDE.format(path=self.path))

    def _version(self) -> int:
        if self.postgres:
            row = self._conn.execute("SELECT version FROM schema_version").fetchone()
            return 0 if row is None else int(row[0])
        row = self._conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    # -- runs ------------------------------------------------------------------

    def start_run(self, job: str) -> int:
        """Record that a run of ``job`` starts now; returns its id, which later
        checkpoints default to as their :attr:`Checkpoint.run_id`."""
        with self._lock:
            run = _insert(self._conn, "INSERT INTO runs (job, started_at) VALUES (?, ?)",
                          (_text(job), _now()))
            self._current_run = run
            return run

    def finish_run(self, run_id: int, exit_code: int, counts: Mapping[str, int]) -> None:
        """Record the end of a run with its exit code and counts (written, skipped…)."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE runs SET ended_at = ?, exit_code = ?, counts = ? WHERE id = ?",
                (_now(), exit_code, json.dumps(dict(counts)), run_id))
            if cur.rowcount == 0:
                raise KeyError(f"no run with id {run_id}")
            if self._current_run == run_id:
                self._current_run = None

    def runs(self, limit: int = 20) -> list[RunInfo]:
        """The last ``limit`` runs, newest first."""
        rows = self._read().execute(
            "SELECT id, job, started_at, ended_at, exit_code, counts FROM runs "
            "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [RunInfo(id=r[0], job=r[1], started_at=r[2], ended_at=r[3], exit_code=r[4],
                        counts={str(k): int(v) for k, v in json.loads(r[5]).items()})
                for r in rows]

    # -- reads -----------------------------------------------------------------

    def bookmark(self, stream: str) -> str | None:
        """The value ``stream`` resumes from, or ``None`` to start from the beginning."""
        row = self._read().execute("SELECT value FROM bookmarks WHERE stream = ?",
                                   (_text(stream),)).fetchone()
        return None if row is None else str(row[0])

    def bookmarks(self) -> dict[str, str]:
        """Every stream's bookmark (a handful of rows: one per stream)."""
        rows = self._read().execute(
            "SELECT stream, value FROM bookmarks ORDER BY stream").fetchall()
        return {str(s): str(v) for s, v in rows}

    def stream_state(self, stream: str) -> dict[str, Any]:
        """``stream``'s own state as last committed (``{}`` when it has none)."""
        row = self._read().execute("SELECT value FROM stream_state WHERE stream = ?",
                                   (_text(stream),)).fetchone()
        value = {} if row is None else json.loads(row[0])
        return value if isinstance(value, dict) else {}

    def hashes(self, scope: str, keys: Iterable[str]) -> dict[str, str]:
        """The stored content hash of each of ``keys`` that has one."""
        scope = _text(scope)
        out: dict[str, str] = {}
        for chunk, back in _lookup_chunks(keys):
            rows = self._read().execute(
                f"SELECT key, hash FROM hashes WHERE scope = ? "
                f"AND key IN ({_marks(len(chunk))})", (scope, *chunk)).fetchall()
            out.update((back.get(k, k), h) for k, h in rows)
        return out

    def hash_keys(self, scope: str, *, after: str | None = None, limit: int = _CHUNK) -> list[str]:
        """Up to ``limit`` keys that have a hash in ``scope``, in key order, after
        ``after`` (``None``: from the first)."""
        rows = self._read().execute(
            "SELECT key FROM hashes WHERE scope = ? AND key > ? ORDER BY key LIMIT ?",
            (_text(scope), "" if after is None else _text(after), limit)).fetchall()
        return [str(k) for (k,) in rows]

    def facts(self, scope: str, profile_keys: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]:
        """Stored aggregate contributions per profile key: ``{profile_key: {record_key:
        facts}}`` for each of ``profile_keys`` that has any."""
        scope = _text(scope)
        out: dict[str, dict[str, dict[str, str]]] = {}
        for chunk, back in _lookup_chunks(profile_keys):
            rows = self._read().execute(
                f"SELECT profile_key, record_key, facts FROM facts WHERE scope = ? "
                f"AND profile_key IN ({_marks(len(chunk))})", (scope, *chunk)).fetchall()
            for profile_key, record_key, facts in rows:
                out.setdefault(back.get(profile_key, profile_key), {})[record_key] = \
                    json.loads(facts)
        return out

    def profile_ids(self, database_id: int, keys: Iterable[str]) -> dict[str, int]:
        """The cached Copernica profile id of each of ``keys`` that has one."""
        out: dict[str, int] = {}
        for chunk, back in _lookup_chunks(keys):
            rows = self._read().execute(
                f"SELECT key, profile_id FROM profile_ids WHERE database_id = ? "
                f"AND key IN ({_marks(len(chunk))})", (database_id, *chunk)).fetchall()
            out.update((back.get(k, k), pid) for k, pid in rows)
        return out

    def identity(self, source: str, source_id: str) -> Identity | None:
        """Which profile ``source_id`` of ``source`` was synced to, if any."""
        row = self._read().execute(
            "SELECT profile_key, profile_id FROM identities "
            "WHERE source = ? AND source_id = ?", (_text(source), _text(source_id))).fetchone()
        return None if row is None else Identity(profile_key=row[0], profile_id=row[1])

    def identities(self, source: str, source_ids: Iterable[str]) -> dict[str, Identity]:
        """:meth:`identity` for a whole page at once."""
        source = _text(source)
        out: dict[str, Identity] = {}
        for chunk, back in _lookup_chunks(source_ids):
            rows = self._read().execute(
                "SELECT source_id, profile_key, profile_id FROM identities "
                f"WHERE source = ? AND source_id IN ({_marks(len(chunk))})",
                (source, *chunk)).fetchall()
            out.update((back.get(sid, sid), Identity(profile_key=key, profile_id=pid))
                       for sid, key, pid in rows)
        return out

    def identity_claims(self, source: str, profile_keys: Iterable[str]) -> dict[str, set[str]]:
        """The source ids of ``source`` claiming each of ``profile_keys`` (keys
        nobody claims are left out)."""
        source = _text(source)
        out: dict[str, set[str]] = {}
        for chunk, back in _lookup_chunks(profile_keys):
            rows = self._read().execute(
                "SELECT profile_key, source_id FROM identities "
                f"WHERE source = ? AND profile_key IN ({_marks(len(chunk))})",
                (source, *chunk)).fetchall()
            for key, source_id in rows:
                out.setdefault(back.get(key, key), set()).add(source_id)
        return out

    def profile_owners(self, profile_keys: Iterable[str]) -> dict[str, ProfileOwner]:
        """The stored owner of each of ``profile_keys`` that has one."""
        out: dict[str, ProfileOwner] = {}
        for chunk, back in _lookup_chunks(profile_keys):
            rows = self._read().execute(
                "SELECT profile_key, rank, recency, claimant, fields_hash, contested "
                f"FROM profile_owners WHERE profile_key IN ({_marks(len(chunk))})",
                chunk).fetchall()
            out.update((back.get(r[0], r[0]),
                        ProfileOwner(int(r[1]), r[2], r[3], r[4], bool(r[5]))) for r in rows)
        return out

    def shared_profile_keys(self, limit: int | None = None) -> list[SharedKey]:
        """Profile keys several source ids claim (two accounts whose e-mails differ
        only in case, say), by source and key; ``limit`` caps the list."""
        concat = "string_agg(source_id, chr(31))" if self.postgres else \
            "group_concat(source_id, char(31))"
        sql = (f"SELECT source, profile_key, {concat} FROM identities "
               "GROUP BY source, profile_key HAVING count(*) > 1 ORDER BY source, profile_key")
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._read().execute(sql, params).fetchall()
        return [SharedKey(r[0], r[1], tuple(sorted(str(r[2]).split("\x1f")))) for r in rows]

    # -- the write path of a sync batch -----------------------------------------

    @contextmanager
    def checkpoint(self) -> Iterator[Checkpoint]:
        """One transaction for everything a batch changes.

        Open it only after Copernica accepted the batch.  Leaving the block
        commits; any exception (including ``KeyboardInterrupt``) rolls back every
        write made through the checkpoint and its connection, and propagates.
        Other threads keep reading the last committed state meanwhile; their
        writes (runs, dead-letter maintenance) wait until the block ends.
        """
        with self._lock:
            if self._conn.in_transaction:
                raise RuntimeError("checkpoints do not nest; commit the open one first")
            # IMMEDIATE: SQLite takes the write lock now, not at the first write.
            self._conn.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
            cp = Checkpoint(self._conn, self._current_run)
            self._writer = threading.get_ident()
            try:
                yield cp
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    # A failed ROLLBACK must not hide why we are rolling back.
                    with suppress(Exception):
                        self._conn.execute("ROLLBACK")
                raise
            finally:
                self._writer = None
                cp._close()

    # -- dead letters ----------------------------------------------------------

    def dead_letters(self, *, stream: str | None = None, status: str | None = "open",
                     limit: int | None = None) -> list[DeadLetter]:
        """Dead letters, oldest first; ``status=None`` lists every status."""
        where, params = _letter_filter(stream, status)
        sql = ("SELECT id, run_id, stream, record_key, reason, payload, created_at, status, "
               "attempts FROM dead_letters")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._read().execute(sql, params).fetchall()
        return [DeadLetter(id=r[0], run_id=r[1], stream=r[2], record_key=r[3], reason=r[4],
                           payload=json.loads(r[5]), created_at=r[6], status=r[7],
                           attempts=r[8])
                for r in rows]

    def mark_dead_letters(self, ids: Iterable[int], status: str) -> None:
        """Set the status of dead letters; ``"retried"`` also counts an attempt."""
        _check_status(status)
        bump = 1 if status == "retried" else 0
        with self._transaction():
            for chunk in _int_chunks(ids):
                self._conn.execute(
                    "UPDATE dead_letters SET status = ?, attempts = attempts + ? "
                    f"WHERE id IN ({_marks(len(chunk))})", (status, bump, *chunk))

    def purge_dead_letters(self, *, stream: str | None = None, ids: Iterable[int] | None = None,
                           status: str | None = None) -> int:
        """Delete dead letters matching every given filter (none: all of them);
        returns how many were deleted.  An empty ``ids`` deletes nothing."""
        where, params = _letter_filter(stream, status)
        base = "DELETE FROM dead_letters"
        deleted = 0
        with self._transaction():
            if ids is None:
                sql = base + (" WHERE " + " AND ".join(where) if where else "")
                deleted = self._conn.execute(sql, params).rowcount
            else:
                for chunk in _int_chunks(ids):
                    sql = (base + " WHERE " + " AND ".join([*where,
                                                          f"id IN ({_marks(len(chunk))})"]))
                    deleted += self._conn.execute(sql, [*params, *chunk]).rowcount
        return deleted

    # -- maintenance -------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Row counts for ``state show``: ``bookmarks``, ``hashes``, ``profile_ids``,
        ``identities``, ``open_dead_letters`` and ``runs``."""
        queries = {
            "bookmarks": "SELECT count(*) FROM bookmarks",
            "hashes": "SELECT count(*) FROM hashes",
            "profile_ids": "SELECT count(*) FROM profile_ids",
            "identities": "SELECT count(*) FROM identities",
            "open_dead_letters": "SELECT count(*) FROM dead_letters WHERE status = 'open'",
            "runs": "SELECT count(*) FROM runs",
        }
        db = self._read()
        return {name: int(db.execute(sql).fetchone()[0]) for name, sql in queries.items()}

    def reset(self, stream: str | None = None, *, hashes: bool = True) -> None:
        """Forget bookmarks and streams' own state (:attr:`Stream.state`) — of
        ``stream`` or of every stream — and, unless ``hashes=False``, the matching
        content hashes, so a full refresh resends everything.  Profile ids,
        identities, dead letters and runs are kept.

        For one stream, bookmarks and hash scopes named ``stream`` or
        ``stream:<anything>`` (e.g. a per-shop partition ``orders:shop2``) go.
        """
        with self._transaction():
            if stream is None:
                self._conn.execute("DELETE FROM bookmarks")
                self._conn.execute("DELETE FROM stream_state")
                if hashes:
                    self._conn.execute("DELETE FROM hashes")
                return
            s = _text(stream)
            self._conn.execute(f"DELETE FROM bookmarks WHERE {_stream_range('stream')}",
                               (s, s, s))
            self._conn.execute(f"DELETE FROM stream_state WHERE {_stream_range('stream')}",
                               (s, s, s))
            if hashes:
                self._conn.execute(f"DELETE FROM hashes WHERE {_stream_range('scope')}",
                                   (s, s, s))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.checkpoint():
            yield


def _letter_filter(stream: str | None, status: str | None) -> tuple[list[str], list[Any]]:
    """WHERE clauses and parameters selecting dead letters by stream and status."""
    where: list[str] = []
    params: list[Any] = []
    if stream is not None:
        where.append("stream = ?")
        params.append(_text(stream))
    if status is not None:
        _check_status(status)
        where.append("status = ?")
        params.append(status)
    return where, params


def _int_chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    it = iter(ids)
    while chunk := [int(i) for i in islice(it, _CHUNK)]:
        yield chunk
