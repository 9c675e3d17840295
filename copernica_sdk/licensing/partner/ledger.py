"""The partner's ledger: usage from many installs, keyed by event id.

Exports (files) and collector POSTs (:mod:`.collector`) land here.  ``event_id`` is the primary key,
so importing the same export twice, or receiving a resent batch, changes
nothing.  An id that arrives again with a *different* payload is a conflict:
kept out and reported, never silently overwritten.

Usage must be signed by its install (:mod:`..usage_signing`): the first signed
usage of an install pins its public key (``install_keys``); unsigned usage,
usage whose content does not match its signature, and usage of a pinned install
signed by another key are refused (:class:`UsageTrustError`) unless the caller
says otherwise explicitly (``allow_unsigned``, ``accept_new_key``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..ledger import UsageEvent, format_ts
from ..sinks import Outcome
from ..usage_signing import EXPORT_DOMAIN, FLUSH_DOMAIN, UsageTrustError, verify_document

__all__ = ["FieldError", "IngestReport", "PartnerLedger", "coerce_event", "parse_usage_file"]

_COLUMNS = UsageEvent.fields()
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events ("
    + ", ".join(f"{c} {'INTEGER' if c in ('quantity', 'run_id', 'seq') else 'TEXT'}"
                + (" PRIMARY KEY" if c == "event_id" else "") for c in _COLUMNS)
    + ", payload_sha256 TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_customer ON events (customer_ref, period)",
    # The install's public key, pinned on first sight (base64url of the raw key).
    "CREATE TABLE IF NOT EXISTS install_keys (install_id TEXT PRIMARY KEY, "
    "public_key TEXT NOT NULL, pinned_at TEXT NOT NULL, previous_keys TEXT NOT NULL DEFAULT '')",
    # Who vouched for each event: the signing key, or 'unsigned' (allowed explicitly).
    "CREATE TABLE IF NOT EXISTS event_trust (event_id TEXT PRIMARY KEY, signed_by TEXT NOT NULL)",
)


@dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    #: "signed", "unsigned (allowed)" or "new key (accepted)"
    trust: str = "signed"
    conflicts: list[str] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)


def _fingerprint(event: UsageEvent) -> str:
    return hashlib.sha256(json.dumps(event.to_json(), sort_keys=True).encode()).hexdigest()


class FieldError(ValueError):
    """A usage event's field is missing or has the wrong type."""

    def __init__(self, field_name: str, problem: str) -> None:
        self.field_name = field_name
        super().__init__(f"{field_name}: {problem}")


def coerce_event(row: Mapping[str, Any]) -> UsageEvent:
    """A usage event from a JSON object or a CSV row; raises :class:`FieldError`."""
    if not isinstance(row, Mapping):
        raise FieldError("event", "each line must be a JSON object")
    values: dict[str, Any] = {}
    for name in _COLUMNS:
        if name not in row:
            raise FieldError(name, "missing (a usage export has every column of "
                             "UsageEvent; was this file made by `usage export`?)")
        value = row[name]
        try:
            if name in ("quantity", "seq"):
                if isinstance(value, bool):
                    raise ValueError
                value = int(value)
            elif name == "run_id":
                value = None if value in (None, "") else int(value)
            else:
                value = "" if value is None else str(value)
        except (TypeError, ValueError):
            raise FieldError(name, f"{str(value)[:40]!r} is not a whole number") from None
        values[name] = value
    if values["quantity"] < 0:
        raise FieldError("quantity", "must not be negative")
    if not str(values["event_id"]).startswith("cpe1_"):
        raise FieldError("event_id", f"{str(values['event_id'])[:40]!r} is not a usage event id "
                         "(cpe1_…)")
    return UsageEvent(**values)


def parse_usage_file(path: str | os.PathLike[str], data: bytes) -> list[UsageEvent]:
    """The events of a usage export (JSONL or CSV by suffix); a bad line raises
    :class:`InputFileError` with its line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputFileError(path, line, column, "not UTF-8 text") from None
    if Path(path).suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        out = []
        try:
            for row in reader:
                try:
                    out.append(coerce_event(row))
                except FieldError as exc:
                    column = header.index(exc.field_name) + 1 if exc.field_name in header \
                        else len(header) + 1
                    raise InputFileError(path, reader.line_num, column, str(exc)) from None
        except csv.Error as exc:
            raise InputFileError(path, reader.line_num, 1, f"not CSV: {exc}") from None
        return out
    events = []
    for number, text_line in enumerate(text.splitlines(), start=1):
        if not text_line.strip():
            continue
        try:
            obj = json.loads(text_line)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, number, exc.colno, f"not JSON: {exc.msg}") from None
        try:
            events.append(coerce_event(obj))
        except FieldError as exc:
            where = text_line.find(f'"{exc.field_name}"')
            raise InputFileError(path, number, where + 1 if where >= 0 else 1,
                                 str(exc)) from None
    return events


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

    def pinned_key(self, install_id: str) -> str | None:
        """The public key pinned for ``install_id`` (None: not seen yet)."""
        row = self.conn.execute("SELECT public_key FROM install_keys WHERE install_id = ?",
                                (install_id,)).fetchone()
        return str(row[0]) if row else None

    def _pin(self, install_id: str, public_key: str, accept_new_key: bool) -> str:
        pinned = self.pinned_key(install_id)
        if pinned is None:
            self.conn.execute("INSERT INTO install_keys (install_id, public_key, pinned_at) "
                              "VALUES (?, ?, ?)", (install_id, public_key,
                                                   format_ts(datetime.now(UTC))))
            return "signed (key pinned on first sight)"
        if pinned == public_key:
            return "signed"
        if not accept_new_key:
            raise UsageTrustError(
                f"re-signed: install {install_id} is pinned to key {pinned[:12]}…, this usage "
                f"is signed by {public_key[:12]}…; if the install really has a new key (its "
                "state folder was rebuilt), accept it explicitly with --accept-new-key")
        self.conn.execute("UPDATE install_keys SET public_key = ?, pinned_at = ?, "
                          "previous_keys = previous_keys || ? || ' ' WHERE install_id = ?",
                          (public_key, format_ts(datetime.now(UTC)), pinned, install_id))
        return "signed by a new key (accepted explicitly; re-pinned)"

    def ingest_signed(self, events: Sequence[UsageEvent], *, install_id: str | None,
                      public_key: str | None, accept_new_key: bool = False) -> IngestReport:
        """Insert usage vouched for by ``public_key`` (None: unsigned, which the caller
        has allowed explicitly).  Every event must belong to ``install_id``."""
        if public_key is not None:
            strangers = sorted({e.install_id for e in events} - {install_id})
            if strangers or not install_id:
                raise UsageTrustError(f"signed for install {install_id!r} but holds usage of "
                                      f"{', '.join(strangers) or 'no install'}")
        with self._tx():
            trust = ("unsigned (allowed explicitly)" if public_key is None or not install_id
                     else self._pin(install_id, public_key, accept_new_key))
            report = self._insert(events, public_key or "unsigned")
        report.trust = trust
        return report

    def ingest_events(self, events: Iterable[UsageEvent]) -> IngestReport:
        """Insert events with no signature check (a caller that has verified them, or
        tests); prefer :meth:`ingest_file` / :meth:`ingest_batch`.  One transaction."""
        with self._tx():
            return self._insert(events, "unsigned")

    def _insert(self, events: Iterable[UsageEvent], signed_by: str) -> IngestReport:
        """Known ids are duplicates (harmless), known ids with another payload are
        conflicts.  Inside the caller's transaction."""
        report = IngestReport()
        for event in events:
            fp = _fingerprint(event)
            row = self.conn.execute("SELECT payload_sha256 FROM events WHERE event_id = ?",
                                    (event.event_id,)).fetchone()
            if row is None:
                self.conn.execute(
                    f"INSERT INTO events VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                    (*event.to_json().values(), fp))
                self.conn.execute("INSERT OR REPLACE INTO event_trust VALUES (?, ?)",
                                  (event.event_id, signed_by))
                report.new += 1
                report.outcomes[event.event_id] = Outcome.ACCEPTED
            elif row[0] == fp:
                report.duplicate += 1
                report.outcomes[event.event_id] = Outcome.DUPLICATE
            else:
                report.conflicts.append(event.event_id)
                report.outcomes[event.event_id] = Outcome.REJECTED
        return report

    def ingest_file(self, data_path: str | os.PathLike[str], *, allow_unsigned: bool = False,
                    accept_new_key: bool = False) -> IngestReport:
        """Import an export (JSONL or CSV) with its signed manifest beside it
        (``<file>.manifest.json``).  Refuses (:class:`UsageTrustError`) a file without
        a signed manifest unless ``allow_unsigned``, one that does not match its
        manifest, and one signed by another key than its install's pinned one unless
        ``accept_new_key``."""
        path = Path(data_path)
        data = path.read_bytes()
        events = parse_usage_file(path, data)
        install_id, public_key = _check_manifest(path, data, events, allow_unsigned)
        return self.ingest_signed(events, install_id=install_id, public_key=public_key,
                                  accept_new_key=accept_new_key)

    def ingest_batch(self, body: Mapping[str, Any], *, allow_unsigned: bool = False,
                     accept_new_key: bool = False) -> IngestReport:
        """Import a collector POST body (``{"events", "install_id", "signature"}``)."""
        try:
            events = [coerce_event(e) for e in body["events"]]
        except (KeyError, TypeError) as exc:
            raise FieldError("events", f"expected a list of usage events ({exc})") from None
        try:
            public_key: str | None = verify_document(body, FLUSH_DOMAIN)
        except UsageTrustError as exc:
            if not (allow_unsigned and "signature" not in body):
                raise UsageTrustError(f"batch refused: {exc}") from None
            public_key = None
        install_id = body.get("install_id")
        return self.ingest_signed(events, install_id=str(install_id) if install_id else None,
                                  public_key=public_key, accept_new_key=accept_new_key)

    def signed_by(self, event_id: str) -> str | None:
        """The key that vouched for an event, ``"unsigned"``, or None (unknown id)."""
        row = self.conn.execute("SELECT signed_by FROM event_trust WHERE event_id = ?",
                                (event_id,)).fetchone()
        return str(row[0]) if row else None

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


def _check_manifest(path: Path, data: bytes, events: Sequence[UsageEvent],
                    allow_unsigned: bool) -> tuple[str | None, str | None]:
    """(install id, signer's public key) of an export, or (None, None) when it is
    unsigned and that is allowed."""
    manifest_path = path.with_name(path.name + ".manifest.json")
    if not manifest_path.exists():
        if allow_unsigned:
            return None, None
        raise UsageTrustError(f"{path}: unsigned: no {manifest_path.name} beside it (export "
                              "with `copernica-sync usage export`; --allow-unsigned imports "
                              "it anyway)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageTrustError(f"{manifest_path}: not a manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise UsageTrustError(f"{manifest_path}: not a manifest")
    if manifest.get("sha256") != hashlib.sha256(data).hexdigest():
        raise UsageTrustError(f"{path}: altered: its SHA-256 does not match "
                              f"{manifest_path.name}; the file was changed or truncated")
    if "signature" not in manifest and allow_unsigned:
        return None, None
    try:
        public_key = verify_document(manifest, EXPORT_DOMAIN)
    except UsageTrustError as exc:
        raise UsageTrustError(f"{manifest_path}: {exc}") from None
    if manifest.get("event_count") != len(events):
        raise UsageTrustError(f"{path}: altered: {len(events)} events, the manifest says "
                              f"{manifest.get('event_count')}")
    install_id = manifest.get("install_id")
    return (str(install_id) if install_id else None), public_key
