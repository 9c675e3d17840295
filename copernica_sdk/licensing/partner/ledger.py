"""The partner's ledger: usage from many installs, keyed by event id.

Exports (files) and collector POSTs (:mod:`.collector`) land here.  ``event_id`` is the primary key,
so importing the same export twice, or receiving a resent batch, changes
nothing.  An id that arrives again with a *different* payload is a conflict:
kept out and reported, never silently overwritten.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ledger import UsageEvent
from ..sinks import Outcome

__all__ = ["IngestReport", "PartnerLedger", "coerce_event"]

_COLUMNS = UsageEvent.fields()
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events ("
    + ", ".join(f"{c} {'INTEGER' if c in ('quantity', 'run_id', 'seq') else 'TEXT'}"
                + (" PRIMARY KEY" if c == "event_id" else "") for c in _COLUMNS)
    + ", payload_sha256 TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_customer ON events (customer_ref, period)",
)


@dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    conflicts: list[str] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)


def _fingerprint(event: UsageEvent) -> str:
    return hashlib.sha256(json.dumps(event.to_json(), sort_keys=True).encode()).hexdigest()


def coerce_event(row: Mapping[str, Any]) -> UsageEvent:
    values: dict[str, Any] = {}
    for name in _COLUMNS:
        if name not in row:
            raise ValueError(f"event without {name}")
        value = row[name]
        if name in ("quantity", "seq"):
            value = int(value)
        elif name == "run_id":
            value = None if value in (None, "") else int(value)
        else:
            value = "" if value is None else str(value)
        values[name] = value
    if values["quantity"] < 0 or not str(values["event_id"]).startswith("cpe1_"):
        raise ValueError(f"bad event {values['event_id']!r}")
    return UsageEvent(**values)


class PartnerLedger:
    """A SQLite file on the partner's side."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        for statement in _SCHEMA:
            self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PartnerLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def ingest_events(self, events: Iterable[UsageEvent]) -> IngestReport:
        """Insert events; known ids are duplicates (harmless), known ids with another
        payload are conflicts.  One transaction."""
        report = IngestReport()
        with self._tx():
            for event in events:
                fp = _fingerprint(event)
                row = self.conn.execute("SELECT payload_sha256 FROM events WHERE event_id = ?",
                                        (event.event_id,)).fetchone()
                if row is None:
                    self.conn.execute(
                        f"INSERT INTO events VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                        (*event.to_json().values(), fp))
                    report.new += 1
                    report.outcomes[event.event_id] = Outcome.ACCEPTED
                elif row[0] == fp:
                    report.duplicate += 1
                    report.outcomes[event.event_id] = Outcome.DUPLICATE
                else:
                    report.conflicts.append(event.event_id)
                    report.outcomes[event.event_id] = Outcome.REJECTED
        return report

    def ingest_file(self, data_path: str | os.PathLike[str]) -> IngestReport:
        """Import an export (JSONL or CSV); its manifest, when next to it, must match."""
        path = Path(data_path)
        data = path.read_bytes()
        manifest_path = path.with_name(path.name + ".manifest.json")
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("sha256") != hashlib.sha256(data).hexdigest():
                raise ValueError(f"{path}: SHA-256 does not match {manifest_path.name}; "
                                 "the file was changed or truncated")
        text = data.decode("utf-8")
        if path.suffix == ".csv":
            rows: list[Mapping[str, Any]] = list(csv.DictReader(io.StringIO(text)))
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return self.ingest_events(coerce_event(r) for r in rows)

    def events(self, *, customer_ref: str | None = None,
               period: str | None = None) -> list[UsageEvent]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM events WHERE 1 = 1"
        args: list[Any] = []
        if customer_ref is not None:
            sql += " AND customer_ref = ?"
            args.append(customer_ref)
        if period is not None:
            sql += " AND period = ?"
            args.append(period)
        sql += " ORDER BY occurred_at, event_id"
        return [UsageEvent(*r) for r in self.conn.execute(sql, args).fetchall()]

    def totals(self, period: str | None = None) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT metric, SUM(quantity) FROM events WHERE (? IS NULL OR period = ?) "
            "GROUP BY metric ORDER BY metric", (period, period)).fetchall()
        return {str(m): int(q) for m, q in rows}
