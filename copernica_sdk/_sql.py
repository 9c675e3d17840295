"""Where a job's state lives, and one connection API over SQLite and PostgreSQL.

A *state location* is either a file path (SQLite, the embedded default) or a
PostgreSQL URL (``postgresql://user:pass@host/db?options=-csearch_path%3D…``): the
``search_path`` in the URL is the job's own schema, so every connection opened
from the location — the sync's, the usage commands', an operator's ``psql`` —
sees that job's tables and no other job's.

The state store and the licensing ledger write their SQL once, in SQLite's
spelling with ``?`` placeholders.  For SQLite they get a plain
``sqlite3.Connection`` (nothing in between: the embedded path stays as fast as
it was); for PostgreSQL a :class:`PgConnection`, a thin adapter over psycopg 3
with the ``sqlite3`` calls they use (``execute``, ``executemany``,
``fetchone``/``fetchall``, ``rowcount``, ``in_transaction``) that rewrites the
few spellings the two engines do not share.  psycopg is imported only when a
PostgreSQL location is opened (it comes with the ``scale`` extra).

Neutral ground: both :mod:`copernica_sdk.sync` and :mod:`copernica_sdk.licensing`
import this module, and it imports neither.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "Connection",
    "PgConnection",
    "connect",
    "is_postgres",
    "job_location",
    "redact",
    "schema_of",
    "table_exists",
]

_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    """What callers read from an executed statement (``sqlite3.Cursor`` is one)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """The part of ``sqlite3.Connection`` the state store and the ledger use."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def is_postgres(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is a PostgreSQL URL (else it is an SQLite file path)."""
    return isinstance(location, str) and location.startswith(_SCHEMES)


def redact(location: str | os.PathLike[str]) -> str:
    """``location`` fit for messages and logs: a URL's password is replaced by ``***``."""
    text = os.fspath(location)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def schema_name(job: str) -> str:
    """The PostgreSQL schema that holds ``job``'s state: ``copernica_sync_`` and the
    job name, lower-case, other characters replaced, with a digest when the name
    had to change (two job names never share a schema) — under the 63-byte limit."""
    import hashlib

    safe = re.sub(r"[^a-z0-9_]+", "_", job.lower()).strip("_")
    if safe != job or len(safe) > 36:
        digest = hashlib.sha256(job.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:36]}_{digest}".strip("_")
    return f"copernica_sync_{safe}"


def job_location(url: str, job: str) -> str:
    """``url`` (a ``state_url``) pointed at ``job``'s own schema."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    query.append(("options", f"-csearch_path={schema_name(job)}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def schema_of(location: str) -> str:
    """The schema a location's ``search_path`` names (``public`` when none)."""
    for key, value in parse_qsl(urlsplit(location).query):
        if key == "options":
            match = re.search(r"-csearch_path=([A-Za-z0-9_]+)", value)
            if match:
                return match.group(1)
    return "public"


def server_url(location: str) -> str:
    """``location`` without its schema: the database itself."""
    parts = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def connect(location: str | os.PathLike[str], *, readonly: bool = False,
            timeout: float = 30.0) -> Connection:
    """A connection in autocommit mode (callers begin and commit themselves).

    SQLite: ``sqlite3.connect`` with a busy timeout; ``readonly`` opens the file
    read-only.  PostgreSQL: a :class:`PgConnection`; ``readonly`` makes its
    sessions read-only.
    """
    if is_postgres(location):
        return PgConnection.open(os.fspath(location), readonly=readonly)
    if readonly:
        from pathlib import Path

        uri = f"{Path(location).resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    return sqlite3.connect(location, timeout=timeout, isolation_level=None)


def table_exists(conn: Connection, name: str) -> bool:
    """Whether ``name`` is a table the connection sees."""
    if isinstance(conn, PgConnection):
        return conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0] is True
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


# -- PostgreSQL ------------------------------------------------------------------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%|\bIS \?|INSERT OR IGNORE\b",
                     re.IGNORECASE)


@lru_cache(maxsize=512)
def _translate(sql: str) -> str:
    """SQLite's spelling → PostgreSQL's: ``?`` → ``%s`` (and ``%`` → ``%%``) outside
    quoted text, ``IS ?`` → ``IS NOT DISTINCT FROM %s``, ``INSERT OR IGNORE`` →
    ``INSERT … ON CONFLICT DO NOTHING``.  Cached: the statements are a fixed set."""
    ignore = False

    def sub(match: re.Match[str]) -> str:
        nonlocal ignore
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token.upper() == "IS ?":
            return "IS NOT DISTINCT FROM %s"
        if token.upper() == "INSERT OR IGNORE":
            ignore = True
            return "INSERT"
        return token  # quoted text or a quoted name

    out = _TOKENS.sub(sub, sql)
    if ignore:
        out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return out


def _param(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; SQLite's can.  A hostile record may carry one:
    # store it spelled out rather than fail the checkpoint (and stall the job).
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\\u0000")
    return value


def _params(parameters: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(_param(v) for v in parameters or ())


class _Result:
    """A fetched result with ``sqlite3.Cursor``'s reading calls."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows


class PgConnection:
    """A psycopg 3 connection with the ``sqlite3`` calls the state store uses.

    Autocommit, like the store's SQLite connections: ``BEGIN``/``COMMIT`` are
    statements the caller sends.  Not thread-safe (neither is the store's use of
    one connection: it holds a lock around it).
    """

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any], location: str) -> None:
        self.raw = raw
        self.location = location

    @classmethod
    def open(cls, location: str, *, readonly: bool = False,
             application_name: str = "copernica-sync") -> PgConnection:
        import psycopg

        raw = psycopg.connect(location, autocommit=True, connect_timeout=10,
                              application_name=application_name)
        if readonly:
            raw.execute("SET default_transaction_read_only = on")
        return cls(raw, location)

    def execute(self, sql: str, parameters: Sequence[Any] | None = None, /) -> _Result:
        if not parameters:
            if sql.strip().upper() == "BEGIN IMMEDIATE":
                sql = "BEGIN"  # SQLite's "take the write lock now"; PostgreSQL locks rows
            # The simple protocol: a migration script may hold several statements,
            # and no placeholder is interpreted (so no ``%`` needs doubling).
            cur = self.raw.execute(sql)
        else:
            cur = self.raw.execute(_translate(sql), _params(parameters))
        rows = cur.fetchall() if cur.description is not None else []
        return _Result(rows, cur.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> _Result:
        with self.raw.cursor() as cur:
            cur.executemany(_translate(sql),
                            [_params(p) for p in parameters])
            return _Result([], cur.rowcount)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def lock_key(*parts: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, from ``parts``."""
    import hashlib

    digest = hashlib.sha256("\x1f".join(("copernica-sync", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
