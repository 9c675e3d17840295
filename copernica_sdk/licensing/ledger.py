"""The usage ledger in the job's state (an SQLite file or a PostgreSQL schema):
event ids and reads.

The tables are part of the state's versioned migrations
(``copernica_sdk.sync.state.MIGRATIONS``, version 4): every state store has them
from the moment it is opened.  Keys make a double insert harmless: event ids are
primary keys, an install-month is unique per (install, month) by a partial
unique index.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from .. import _sql

__all__ = [
    "DELIVERY_STATES",
    "INSTALL_MONTH",
    "RECORDS_SYNCED",
    "UsageEvent",
    "event_id",
    "format_ts",
    "open_ledger",
    "read_events",
]

RECORDS_SYNCED = "records_synced"
INSTALL_MONTH = "install_month"
DELIVERY_STATES = ("pending", "delivered", "rejected", "ambiguous")

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


def _rows(cursor: Any) -> list[UsageEvent]:
    return [UsageEvent(*row) for row in cursor.fetchall()]


@contextmanager
def open_ledger(state_path: str | os.PathLike[str], *, write: bool = False
                ) -> Iterator[_sql.Connection]:
    """A connection of our own to a job's state (for export, flush, show): a file
    path, or a PostgreSQL location (see :mod:`copernica_sdk._sql`).

    Autocommit mode: callers open ``BEGIN IMMEDIATE`` when they write, so they
    serialise with a running sync's checkpoints (busy timeout 30 s).
    """
    conn = _sql.connect(state_path, readonly=not write and _sql.is_postgres(state_path))
    try:
        if not _sql.is_postgres(state_path):
            conn.execute("PRAGMA busy_timeout = 30000")
            if write:
                conn.execute("PRAGMA synchronous = FULL")
            else:
                conn.execute("PRAGMA query_only = ON")
        yield conn
    finally:
        conn.close()


def has_ledger(conn: _sql.Connection) -> bool:
    return _sql.table_exists(conn, "usage_events")


def read_events(conn: _sql.Connection, *, period: str | None = None,
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
