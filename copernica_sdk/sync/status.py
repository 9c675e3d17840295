"""Fleet status: each job's last run, exit code, records, dead letters and lag.

Read-only and light: one short read-only connection per job, no migration, so
``copernica-sync status`` over hundreds of jobs in a shared PostgreSQL (or their
SQLite files) neither writes nor waits for running syncs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import _sql

__all__ = ["JobStatus", "job_status"]


@dataclass(frozen=True)
class JobStatus:
    """What ``status`` shows for one job.  ``lag_seconds``: how far the synced data
    may trail the source — the time since the last finished run (exit 0 or 1)
    started, since it synced every change before its start; None if none did."""

    job: str
    state: str
    last_run: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    exit_code: int | None = None
    running: bool = False
    records: int = 0
    dead_letters: int = 0
    lag_seconds: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _seconds_since(stamp: str, now: datetime) -> int:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return max(0, int((now - moment).total_seconds()))


def job_status(job: str, location: str | os.PathLike[str], *,
               now: datetime | None = None) -> JobStatus:
    """The status of ``job`` whose state is at ``location`` (never raises for an
    unreachable or damaged state: that is the ``problem``)."""
    now = now or datetime.now(UTC)
    shown = _sql.redact(location)
    if not _sql.is_postgres(location) and not Path(location).exists():
        return JobStatus(job, shown)
    try:
        conn = _sql.connect(location, readonly=True)
    except Exception as exc:  # the server down, a file unreadable: one line, not a crash
        return JobStatus(job, shown, problem=f"{type(exc).__name__}: {exc}".splitlines()[0])
    try:
        if not _sql.table_exists(conn, "runs"):
            return JobStatus(job, shown)
        last = conn.execute("SELECT id, started_at, ended_at, exit_code, counts FROM runs "
                            "ORDER BY id DESC LIMIT 1").fetchone()
        good = conn.execute("SELECT started_at FROM runs WHERE exit_code IN (0, 1) "
                            "ORDER BY id DESC LIMIT 1").fetchone()
        letters = conn.execute("SELECT count(*) FROM dead_letters WHERE status = 'open'"
                               ).fetchone()[0]
    except Exception as exc:
        return JobStatus(job, shown, problem=f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        conn.close()
    if last is None:
        return JobStatus(job, shown, dead_letters=int(letters))
    counts = {str(k): int(v) for k, v in json.loads(last[4]).items()}
    return JobStatus(job, shown, last_run=int(last[0]), started_at=last[1], ended_at=last[2],
                     exit_code=last[3], running=last[2] is None,
                     records=counts.get("written", 0), dead_letters=int(letters),
                     lag_seconds=_seconds_since(good[0], now) if good else None, counts=counts)
