"""One lock per job, so overlapping cron runs never sync the same state twice.

The lock is an ``flock`` on a file next to the job's state (the engine passes
``<state path>.lock``).  The kernel drops an ``flock`` when its holder dies, so
a run killed with SIGKILL or by an OOM killer never leaves a stale lock behind
and no ``--force`` is needed.  The holder writes ``"<pid> <started_at>"`` into
the file so a refused run can say who holds the lock.

The file is never deleted: unlinking a lock file lets a waiting process lock
the old inode while a newcomer locks a new one, and both would run.

POSIX only (Linux, macOS, BSD) — where cron runs.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
from contextlib import suppress
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from .errors import JobLockedError
from .state_files import StateError

if TYPE_CHECKING:
    from .pg_lock import PgJobLock

__all__ = ["JobLock", "lock_for"]


class JobLock:
    """An exclusive, non-blocking lock for one job.  Use as a context manager::

        with JobLock(f"{state_path}.lock", "shop"):
            run_the_job()

    A second holder — another process, or another :class:`JobLock` on the same
    path in this process — gets :class:`JobLockedError` at once.
    """

    def __init__(self, path: str | os.PathLike[str], job: str, *,
                 refused: str = "this run exits without doing anything") -> None:
        self.path = pathlib.Path(path).expanduser()
        self.job = job
        #: What the refusal message says happens instead (commands other than
        #: ``run`` say what they did not do).
        self.refused = refused
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`JobLockedError` naming the holder's pid."""
        if self._fd is not None:
            raise RuntimeError(f"the lock of job {self.job!r} is already held by this object")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # O_CLOEXEC: a program the run starts must not inherit, and so prolong,
            # the lock.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StateError(self.path, f"the job lock file cannot be opened ({exc.strerror})",
                             f"Make the directory {self.path.parent} writable by this user, "
                             "or set sync.state_path elsewhere") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise JobLockedError(
                f"job {self.job!r} is already running ({holder}); {self.refused}") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {started}\n".encode(), 0)
        except BaseException:
            os.close(fd)  # closing also drops the flock
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up.  Does nothing if it is not held."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Still holding the lock, so no newcomer's pid is erased; an empty
            # file means "nobody", not a stale pid.  Best effort: the flock is
            # what counts.
            with suppress(OSError):
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def __enter__(self) -> JobLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def lock_for(location: str | os.PathLike[str], job: str, *,
             refused: str = "this run exits without doing anything") -> JobLock | PgJobLock:
    """The job's lock for its state ``location``: the ``flock`` beside an SQLite file
    (``<file>.lock``), or a PostgreSQL advisory lock for a shared state."""
    from .._sql import is_postgres

    if is_postgres(location):
        from .pg_lock import PgJobLock

        return PgJobLock(str(location), job, refused=refused)
    return JobLock(f"{os.fspath(location)}.lock", job, refused=refused)


def _read_holder(fd: int) -> str:
    """``"pid N since TIME"`` from the holder's note, or a vaguer phrase when the
    holder has not written it yet (it writes right after locking)."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except OSError:
        text = []
    if len(text) >= 2 and text[0].isdigit():
        return f"pid {text[0]} since {text[1]}"
    if text and text[0].isdigit():
        return f"pid {text[0]}"
    return "pid unknown"
