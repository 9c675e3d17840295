"""The usage ledger in the job's state file: tables, event ids and reads.

The tables are created on first use with ``CREATE TABLE IF NOT EXISTS`` inside
whatever transaction is open (SQLite DDL is transactional), so the state
file's own migrations need not know about licensing.  Keys make a double insert
harmless: event ids are primary keys, an install-month is unique per (install,
month) by a partial unique index.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DELIVERY_STATES",
    "INSTALL_MONTH",
    "RECORDS_SYNCED",
    "SCHEMA",
    "UsageEvent",
    "ensure_schema",
    "event_id",
    "format_ts",
    "open_ledger",
    "read_events",
]

RECORDS_SYNCED = "records_synced"
INSTALL_MONTH = "install_month"
DELIVERY_STATES = ("pending", "delivered", "rejected", "ambiguous")

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS license_install (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        install_id  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        shop        TEXT NOT NULL,
        environment TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS license_clock (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        high_water  TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS license_runs (
        run_id        INTEGER PRIMARY KEY,
        lid           TEXT,
        license_state TEXT NOT NULL,
        mode          TEXT NOT NULL,
        flags         TEXT NOT NULL,
        checked_at    TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS usage_events (
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
        UNIQUE (run_id, metric, stream, seq))""",
    """CREATE UNIQUE INDEX IF NOT EXISTS usage_one_install_month
        ON usage_events (install_id, metric, period) WHERE metric = 'install_month'""",
    """CREATE INDEX IF NOT EXISTS usage_by_period ON usage_events (period, occurred_at, event_id)""",
    """CREATE TABLE IF NOT EXISTS usage_deliveries (
        event_id        TEXT NOT NULL REFERENCES usage_events (event_id),
        sink            TEXT NOT NULL,
        state           TEXT NOT NULL
                        CHECK (state IN ('pending', 'delivered', 'rejected', 'ambiguous')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        first_attempt_at TEXT,
        last_attempt_at TEXT,
        next_attempt_at TEXT,
        last_error      TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (event_id, sink)) WITHOUT ROWID""",
)


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the licensing tables if missing, inside the caller's transaction."""
    for statement in SCHEMA:
        conn.execute(statement)


def format_ts(moment: datetime) -> str:
    """ISO-8601 UTC to the second, ``Z``-suffixed: sorts as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(*parts: object) -> str:
    """``cpe1_`` + 40 base32 characters of SHA-256 over the parts: deterministic,
    fixed at insert, under Stripe's 100-character identifier limit."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return "cpe1_" + base64.b32encode(digest).decode("ascii").lower()[:40]


@dataclass(frozen=True)
class UsageEvent:
    """One billable fact.  Field order is the export's column order."""

    event_id: str
    occurred_at: str
    period: str
    metric: str
    quantity: int
    stream: str
    install_id: str
    shop: str
    environment: str
    pid: str
    lid: str
    customer_ref: str
    run_id: int | None
    seq: int
    license_state: str
    flags: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


_COLUMNS = ", ".join(UsageEvent.fields())


def _rows(cursor: sqlite3.Cursor) -> list[UsageEvent]:
    return [UsageEvent(*row) for row in cursor.fetchall()]


@contextmanager
def open_ledger(state_path: str | os.PathLike[str], *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection of our own to a job's state file (for export, flush, show).

    Autocommit mode: callers open ``BEGIN IMMEDIATE`` when they write, so they
    serialise with a running sync's checkpoints (busy timeout 30 s).
    """
    conn = sqlite3.connect(state_path, timeout=30.0, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        if write:
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            ensure_schema(conn)
            conn.execute("COMMIT")
        else:
            conn.execute("PRAGMA query_only = ON")
        yield conn
    finally:
        conn.close()


def has_ledger(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'usage_events'").fetchone() is not None


def read_events(conn: sqlite3.Connection, *, period: str | None = None,
                event_ids: Sequence[str] | None = None) -> list[UsageEvent]:
    """Events in export order ``(occurred_at, event_id)``; all periods when None."""
    if not has_ledger(conn):
        return []
    sql = f"SELECT {_COLUMNS} FROM usage_events"
    args: list[Any] = []
    if period is not None:
        sql += " WHERE period = ?"
        args.append(period)
    sql += " ORDER BY occurred_at, event_id"
    events = _rows(conn.execute(sql, args))
    if event_ids is not None:
        wanted = set(event_ids)
        events = [e for e in events if e.event_id in wanted]
    return events
