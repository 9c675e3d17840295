"""The usage meter: a sync-engine ``CheckpointHook`` that writes usage rows.

Rows go through ``checkpoint.connection`` inside the checkpoint's single
transaction, so usage equals committed progress: a crash before the commit
loses the page AND its usage (the page is re-synced and counted next run); a
crash after keeps both.  Event ids are derived from (plugin, install, run,
metric, stream, seq) when the row is inserted and never regenerated.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .. import _sql
from .clock import Clock, SystemClock
from .install import Install
from .ledger import INSTALL_MONTH, RECORDS_SYNCED, event_id, format_ts
from .usage_signing import database_path, install_key

__all__ = ["MeterContext", "UsageMeter", "high_water_cap"]

log = logging.getLogger("copernica_sdk.licensing")


@dataclass(frozen=True)
class MeterContext:
    """What every usage row of a run is stamped with (decided once, at preflight)."""

    plugin_id: str
    install: Install
    lid: str = ""
    customer_ref: str = ""
    license_state: str = "missing"
    flags: frozenset[str] = frozenset()
    mode: str = "warn"
    #: Move the clock high-water mark to at most this (``None``: not at all —
    #: only runs with a verified license may move it).
    high_water_cap: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Checkpoint(Protocol):
    """What the meter needs of a sync checkpoint (``copernica_sdk.sync.state.Checkpoint``
    is one): the open transaction its rows join (SQLite or PostgreSQL, see
    ``copernica_sdk._sql``), and the run they belong to.

    A protocol, so licensing does not import the sync framework.
    """

    @property
    def connection(self) -> _sql.Connection: ...

    @property
    def run_id(self) -> int | None: ...


class UsageMeter:
    """Implements ``copernica_sdk.sync.engine.CheckpointHook``.

    Example::

        decision = preflight(job.config, type(job.connector), job.state.location)
        engine = SyncEngine(..., hooks=decision.hooks())

    (:func:`copernica_sdk.jobs.run_job` does this for a configured job.)
    """

    def __init__(self, context: MeterContext, *, clock: Clock | None = None) -> None:
        self.context = context
        self.clock: Clock = clock or SystemClock()
        self._keyed = False

    def on_checkpoint(self, checkpoint: Checkpoint, *, job: str, stream: str,
                      records_synced: int) -> None:
        conn = checkpoint.connection
        ctx = self.context
        now = self.clock.now()
        if not self._keyed:
            # The install's own signing key, made at its first metered run (beside
            # the state file, 0600; in the job's schema on PostgreSQL); exports and
            # flushes are signed with it.
            path = (database_path(conn) if isinstance(conn, sqlite3.Connection)
                    else getattr(conn, "location", ""))
            if path:
                install_key(path)
            self._keyed = True
        install_id, shop, environment = self._install(checkpoint)
        run_id = checkpoint.run_id
        flags = ",".join(sorted(ctx.flags))
        if run_id is not None:
            conn.execute("INSERT OR IGNORE INTO license_runs VALUES (?, ?, ?, ?, ?, ?)",
                         (run_id, ctx.lid or None, ctx.license_state, ctx.mode, flags,
                          format_ts(now)))
        if ctx.high_water_cap is not None:
            mark = format_ts(min(now, ctx.high_water_cap))
            conn.execute("INSERT INTO license_clock (singleton, high_water) VALUES (1, ?) "
                         "ON CONFLICT (singleton) DO UPDATE SET high_water = CASE WHEN "
                         "excluded.high_water > license_clock.high_water THEN "
                         "excluded.high_water ELSE license_clock.high_water END", (mark,))
        occurred, period = format_ts(now), now.strftime("%Y-%m")
        base = (ctx.plugin_id, install_id)
        common = (install_id, ctx.plugin_id, ctx.lid, ctx.customer_ref, shop, environment)
        # One install-month per (install, month): the event id has no run in it and a
        # partial unique index backs it, so the 2nd…nth run of a month adds nothing.
        conn.execute(
            "INSERT OR IGNORE INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (event_id(*base, INSTALL_MONTH, period), *common, INSTALL_MONTH, "", 1,
             occurred, period, run_id, 0, ctx.license_state, flags))
        if records_synced <= 0:
            return
        seq = conn.execute(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM usage_events "
            "WHERE run_id IS ? AND metric = ? AND stream = ?",
            (run_id, RECORDS_SYNCED, stream)).fetchone()[0]
        eid = event_id(*base, run_id, RECORDS_SYNCED, stream, seq)
        conn.execute(
            "INSERT OR IGNORE INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (eid, *common, RECORDS_SYNCED, stream, records_synced, occurred, period, run_id,
             seq, ctx.license_state, flags))

    def _install(self, checkpoint: Checkpoint) -> tuple[str, str, str]:
        """The stored install identity, minting it on the first metered checkpoint."""
        conn = checkpoint.connection
        inst = self.context.install
        conn.execute("INSERT OR IGNORE INTO license_install VALUES (1, ?, ?, ?, ?)",
                     (inst.install_id, inst.created_at or format_ts(self.clock.now()),
                      inst.shop, inst.environment))
        row = conn.execute("SELECT install_id FROM license_install WHERE singleton = 1"
                           ).fetchone()
        # The shop can move (a migration); rows carry the shop of their run.
        return str(row[0]), inst.shop, inst.environment


def high_water_cap(exp: int, grace_days: int) -> datetime:
    """``exp + grace + 1 day``: one wildly wrong future clock cannot poison later runs."""
    return datetime.fromtimestamp(exp, UTC) + timedelta(days=grace_days + 1)
