"""Where a job's state file is, and what to tell the operator when it cannot be used.

Two things every command needs before it touches the state:

- :func:`resolve_state_path` — one spelling for one file, so that ``~/s.db``,
  ``$HOME/s.db``, ``./s.db`` from the home directory, a symlink to it and the
  default location all compare equal (two jobs may not share a file, and the
  job lock sits next to the resolved file);
- :func:`state_error` — a damaged, unreadable, unwritable or full state file
  becomes a :class:`StateError` that names the file, says what is wrong and
  what to do, and ends the command with exit code 6.  What was committed
  before stays committed: every checkpoint is one SQLite transaction.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import CopernicaError
from .errors import ConfigError

__all__ = ["MOVE_ASIDE", "StateError", "resolve_state_path", "state_error", "unreachable_error"]

# ``$NAME`` or ``${NAME}`` (the config file's own ``${VAR}`` is replaced earlier).
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


#: What to do with a damaged state file.
MOVE_ASIDE = ("Move it aside (mv {path} {path}.damaged) and restore the last backup; "
              "without a backup, the next run starts afresh and resends everything "
              "(harmless: every write is an upsert by key)")


class StateError(CopernicaError):
    """The job's state file cannot be used: damaged, not a database, a directory,
    not readable or writable, or the disk is full.  Exit code 6."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}. {fix}")


def resolve_state_path(configured: str | None, job: str,
                       env: Mapping[str, str] = os.environ) -> Path:
    """The absolute, symlink-free path of a job's state file.

    ``configured`` (``sync.state_path``) may use ``~``, ``$VAR`` / ``${VAR}`` and
    be relative to the working directory; None means the default location for
    ``job``.  Raises :class:`ConfigError` for a variable that is not set.
    """
    if not configured:
        from .state import StateStore  # state imports this module

        path = StateStore.default_path(job)
    else:
        missing: list[str] = []

        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in env:
                missing.append(name)
                return match.group(0)
            return env[name]

        text = _VAR.sub(value, configured)
        if missing:
            raise ConfigError([f"sync.state_path: environment variable {name} is not set"
                               for name in missing])
        path = Path(text).expanduser()
    return Path(os.path.abspath(path)).resolve()


def state_error(path: Path, exc: BaseException) -> StateError | None:
    """What an error from SQLite or the file system means for the state file at
    ``path``; None for an error that says nothing about the file (a bug: let it
    propagate as it is)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    code = exc.errno if isinstance(exc, OSError) else None
    aside = MOVE_ASIDE.format(path=path)
    if path.is_dir() or code == errno.EISDIR:
        return StateError(path, "is a directory, not a state file",
                          "Set sync.state_path to a file name (e.g. "
                          f"{path / 'state.sqlite3'}), or move the directory away")
    if name in ("SQLITE_FULL",) or "disk is full" in text or code in (errno.ENOSPC, errno.EFBIG,
                                                                      errno.EDQUOT):
        return StateError(path, "the disk is full (or a size limit was reached)",
                          f"Free space on the disk holding {path.parent}, then run again: "
                          "the run resumes from its last checkpoint")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text or code == errno.EIO:
        return StateError(path, "could not be read or written (disk I/O error)",
                          "The disk may be full or failing: free space or check the disk, "
                          "then run again; the run resumes from its last checkpoint")
    if name in ("SQLITE_NOTADB",) or "not a database" in text:
        return StateError(path, "is not a copernica-sync state file (not an SQLite database, "
                          "or truncated)", aside)
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return StateError(path, "is damaged (the database image is malformed)", aside)
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text \
            or code in (errno.EACCES, errno.EPERM, errno.EROFS) \
            or name.startswith("SQLITE_PERM") or name.startswith("SQLITE_CANTOPEN") \
            or "unable to open" in text:
        who = f"user {os.getuid()}" if hasattr(os, "getuid") else "this user"
        return StateError(path, "cannot be opened for writing (permission denied, a "
                          "read-only file or directory, or a missing parent directory)",
                          f"Make {path} and its directory {path.parent} writable by {who} "
                          "(and its -wal/-shm files), or set sync.state_path elsewhere")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return StateError(path, "is locked by another program (not a copernica-sync run of "
                          "this job: those wait for the job lock)",
                          "Close the program holding it (a backup tool, an sqlite3 shell), "
                          "then run again")
    if isinstance(exc, OSError):
        return StateError(path, f"cannot be used ({exc.strerror or exc})",
                          "Check the file and its directory, then run again")
    return None


def unreachable_error(location: str, exc: BaseException) -> StateError | None:
    """What an error from PostgreSQL means for a job's state there (``state_url``);
    None for an error that says nothing about the database (a bug: let it propagate).

    The server down, unreachable, refusing the login, or the connection lost in
    the middle of a run: exit 6 like a state file that cannot be used; what was
    committed before stays committed, and the next run resumes from it.
    """
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a PostgreSQL location needs it installed
        return None
    from .._sql import redact

    where = redact(location)
    if isinstance(exc, psycopg.OperationalError):
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StateError(where, f"the PostgreSQL state cannot be reached or used ({detail})",
                          "Check that the server runs and accepts this user, and the "
                          "sync.state_url setting, then run again: the run resumes from its "
                          "last checkpoint")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return StateError(where, f"the PostgreSQL user may not use the job's schema ({exc})",
                          "Grant the user CREATE on the database (or on the job's schema), "
                          "then run again")
    return None
