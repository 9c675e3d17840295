"""Flush: deliver pending usage to a sink, at least once, never counted twice.

Runs in transactions of its own, after (never inside) the sync's.  The event
ids were fixed at insert, so a resend after a crash — even one between the
sink accepting and our bookkeeping — is deduplicated by the receiver and
simply marked delivered.  A sink failure never raises: flush reports.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import _sql
from .clock import Clock, SystemClock
from .ledger import UsageEvent, format_ts, has_ledger, open_ledger, read_events
from .sinks import Outcome, SigningSink, SinkResult, UsageSink
from .usage_signing import install_key

__all__ = ["FlushReport", "flush", "parked"]

log = logging.getLogger("copernica_sdk.licensing")

_MAX_BACKOFF = timedelta(hours=6)


@dataclass
class FlushReport:
    sink: str
    sent: int = 0
    delivered: int = 0
    retry: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)


def _pending(conn: _sql.Connection, sink: str, now: str) -> list[str]:
    rows = conn.execute(
        "SELECT e.event_id FROM usage_events e LEFT JOIN usage_deliveries d "
        "ON d.event_id = e.event_id AND d.sink = ? "
        "WHERE d.event_id IS NULL OR (d.state = 'pending' AND "
        "(d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)) "
        "ORDER BY e.occurred_at, e.event_id", (sink, now)).fetchall()
    return [str(r[0]) for r in rows]


def flush(state_path: str | os.PathLike[str], sink: UsageSink, *, clock: Clock | None = None,
          limit: int | None = None) -> FlushReport:
    """Send every pending event to ``sink``; return what happened.  Never raises for
    sink trouble (I7): the caller's exit status is not ours to change."""
    clock = clock or SystemClock()
    report = FlushReport(sink.name)
    if isinstance(sink, SigningSink):
        key = install_key(state_path)
        assert key is not None
        sink.use_install_key(key)
    with open_ledger(state_path, write=True) as conn:
        if not has_ledger(conn):  # not a state store (its migrations make the ledger)
            return report
        ids = _pending(conn, sink.name, format_ts(clock.now()))
        if limit is not None:
            ids = ids[:limit]
        events = {e.event_id: e for e in read_events(conn, event_ids=ids)}
        batch: list[UsageEvent] = []
        for eid in ids:
            batch.append(events[eid])
            if len(batch) >= sink.max_batch:
                _send(conn, sink, batch, clock, report)
                batch = []
        if batch:
            _send(conn, sink, batch, clock, report)
    return report


def _send(conn: _sql.Connection, sink: UsageSink, batch: Sequence[UsageEvent], clock: Clock,
          report: FlushReport) -> None:
    report.sent += len(batch)
    try:
        results = list(sink.send(batch))
    except Exception as exc:  # a sink bug must not fail the run that flushes
        log.warning("usage flush to %s failed: %s", sink.name, exc)
        report.errors.append(str(exc))
        results = [SinkResult(e.event_id, Outcome.RETRY, str(exc)[:200]) for e in batch]
    now = clock.now()
    stamp = format_ts(now)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for result in results:
            row = conn.execute("SELECT attempts, first_attempt_at FROM usage_deliveries "
                               "WHERE event_id = ? AND sink = ?",
                               (result.event_id, sink.name)).fetchone()
            attempts = (row[0] if row else 0) + 1
            first = row[1] if row and row[1] else stamp
            state, next_at = _next_state(result.outcome, attempts, first, now, sink)
            conn.execute(
                "INSERT INTO usage_deliveries (event_id, sink, state, attempts, "
                "first_attempt_at, last_attempt_at, next_attempt_at, last_error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, sink) DO UPDATE SET "
                "state = excluded.state, attempts = excluded.attempts, "
                "last_attempt_at = excluded.last_attempt_at, "
                "next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error",
                (result.event_id, sink.name, state, attempts, first, stamp, next_at,
                 "" if result.outcome.delivered else result.detail))
            if state == "delivered":
                report.delivered += 1
            elif state == "pending":
                report.retry += 1
            else:
                report.parked += 1
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _next_state(outcome: Outcome, attempts: int, first: str, now: datetime,
                sink: UsageSink) -> tuple[str, str | None]:
    if outcome.delivered:
        return "delivered", None
    if outcome is Outcome.REJECTED:
        return "rejected", None
    if outcome is Outcome.AMBIGUOUS:
        window = sink.dedupe_window
        first_at = datetime.fromisoformat(first.replace("Z", "+00:00"))
        if window is not None and now - first_at > window * 0.8:
            # The receiver may have forgotten the id: a resend could double count.
            return "ambiguous", None
    # Exponential backoff with jitter; a later flush picks it up.
    delay = min(_MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(attempts - 1, 12)))
    delay = delay * (0.5 + random.random() / 2)
    return "pending", format_ts(now + delay)


def parked(state_path: str | os.PathLike[str], sink: str | None = None
           ) -> list[tuple[str, str, str, str]]:
    """Events parked as rejected or ambiguous: ``(event_id, sink, state, last_error)``;
    ``usage reconcile`` material."""
    with open_ledger(state_path) as conn:
        if not _sql.table_exists(conn, "usage_deliveries"):  # no ledger yet
            return []
        rows = conn.execute(
            "SELECT event_id, sink, state, last_error FROM usage_deliveries "
            "WHERE state IN ('rejected', 'ambiguous') AND (CAST(? AS TEXT) IS NULL OR sink = ?) "
            "ORDER BY event_id", (sink, sink)).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]
