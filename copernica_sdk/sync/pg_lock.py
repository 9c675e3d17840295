"""One lock per job across machines: a PostgreSQL advisory lock (shared state).

With ``sync.state_url`` a job may start on any worker, so the ``flock`` next to an
SQLite file (:mod:`copernica_sdk.sync.lock`) no longer covers it.  The lock is
instead a session-level advisory lock in the same database that holds the
job's state, taken by a connection the run keeps open for as long as it runs:

- a worker that dies (SIGKILL, OOM, a crashed machine) closes its connection —
  or the server drops it after the TCP keepalive probes below fail, for a lost
  network — and PostgreSQL releases the lock with it: no operator, no expiry
  to guess, no stale lock;
- the lock and the state live in one server, so there is no split brain between
  "who holds the lock" and "who may commit": a worker cut off from PostgreSQL
  can commit nothing either.  (A Redis lock with a lease would need fencing
  tokens checked on every commit to be as safe.)

The holder is named by ``application_name`` (``copernica-sync <job> pid N on
HOST``), so a refused attempt says who runs the job, like the ``flock``'s note.
"""

from __future__ import annotations

import os
import socket
from types import TracebackType
from typing import Any

from .. import _sql
from .errors import JobLockedError

__all__ = ["PgJobLock"]

#: Server-side TCP keepalive for the lock's session: a holder whose network is
#: gone is noticed, and its lock released, within about 10 + 3 * 5 seconds.
_KEEPALIVE = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5",
              "SET tcp_keepalives_count = 3")


class PgJobLock:
    """An exclusive, non-blocking lock for one job in its PostgreSQL state; the same
    interface as :class:`copernica_sdk.sync.lock.JobLock`.

    ``location``: the job's state location (a URL naming its schema); the lock key
    is derived from the schema, so one job is one lock whichever worker asks.
    """

    def __init__(self, location: str, job: str, *,
                 refused: str = "this run exits without doing anything") -> None:
        self.location = location
        self.job = job
        self.refused = refused
        self.key = _sql.lock_key("job", _sql.schema_of(location))
        self._conn: Any = None

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._conn is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`JobLockedError` naming the holder."""
        if self._conn is not None:
            raise RuntimeError(f"the lock of job {self.job!r} is already held by this object")
        name = f"copernica-sync {self.job} pid {os.getpid()} on {socket.gethostname()}"[:63]
        conn = _sql.PgConnection.open(_sql.server_url(self.location), application_name=name)
        try:
            for statement in _KEEPALIVE:
                conn.execute(statement)
            got = conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0]
            if not got:
                holder = self._holder(conn)
                raise JobLockedError(
                    f"job {self.job!r} is already running ({holder}); {self.refused}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _holder(self, conn: _sql.PgConnection) -> str:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = ? LIMIT 1",
            (self.key,)).fetchone()
        if row is None or not row[0]:
            return "holder unknown"
        return f"{row[0]}, connected since {row[1]:%Y-%m-%dT%H:%M:%SZ}"

    def release(self) -> None:
        """Give the lock up (closing the session releases it).  Does nothing if it is
        not held."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute("SELECT pg_advisory_unlock(?)", (self.key,))
        except Exception:  # the session's end releases it anyway
            pass
        finally:
            conn.close()

    def __enter__(self) -> PgJobLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
