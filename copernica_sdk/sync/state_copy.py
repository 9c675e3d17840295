"""Move a job's state from its SQLite file into PostgreSQL (``state migrate``).

Every table of the state — bookmarks, digests, id cache, identities, owners,
aggregate facts, dead letters, runs, and the licensing ledger — is copied row
for row, ids included, in ONE transaction on the target: a copy cut short
leaves the target as it was.  The caller holds both job locks (no run may write
either side meanwhile).  A target that already holds state is refused: merging
two histories of one job would double count usage and resurrect old bookmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError
from .state import StateStore

__all__ = ["TABLES", "CopyReport", "copy_state"]

#: The state's tables in an order that satisfies their foreign keys.
TABLES: tuple[str, ...] = (
    "runs", "bookmarks", "hashes", "profile_ids", "identities", "profile_owners", "facts",
    "dead_letters", "license_install", "license_clock", "license_runs", "usage_events",
    "usage_deliveries", "stream_state",
)

#: Tables whose ``id`` comes from a sequence on PostgreSQL (moved past the copied ids).
_IDENTITY = ("runs", "dead_letters")

_BATCH = 1000


@dataclass(frozen=True)
class CopyReport:
    """Rows copied per table."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_state(source: StateStore, target: StateStore) -> CopyReport:
    """Copy everything in ``source`` into the empty ``target``; returns the row counts.

    Raises :class:`ConfigError` when ``target`` already holds state.
    """
    if not target.postgres or source.postgres:
        raise ConfigError(["state migrate: copies an SQLite state file into PostgreSQL"])
    existing = {t: n for t, n in _counts(target).items() if n}
    if existing:
        listed = ", ".join(f"{t} {n}" for t, n in existing.items())
        raise ConfigError([f"state migrate: the PostgreSQL state {target.where} is not empty "
                           f"({listed}); point sync.state_url at another database, or drop "
                           "the job's schema there first"])
    rows: dict[str, int] = {}
    read = source._read()
    with target.checkpoint() as cp:
        db = cp.connection
        for table in TABLES:
            cur = read.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cur.description]
            sql = (f"INSERT INTO {table} ({', '.join(names)}) "
                   f"VALUES ({', '.join('?' * len(names))})")
            count = 0
            while batch := cur.fetchmany(_BATCH):
                db.executemany(sql, batch)
                count += len(batch)
            rows[table] = count
        for table in _IDENTITY:
            db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
    return CopyReport(rows)


def _counts(store: StateStore) -> dict[str, int]:
    db = store._read()
    return {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in TABLES}
