"""Optional write-through SQLite persistence, so a restarted fake sees the same state.

Every entity is one JSON row keyed by (kind, id); the id counters live in ``meta``.
Memory stays authoritative: the store is only written (once per operation, in one
transaction) and read back when a fake starts on an existing file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteStore:
    """A tiny (kind, id) -> JSON document store in WAL mode."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        # One connection, used only while the state lock is held.
        self._conn = sqlite3.connect(self.path, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._conn.commit()

    def load(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
        """All entities grouped by kind (in id order) and the meta values."""
        entities: dict[str, list[dict[str, Any]]] = {}
        for kind, data in self._conn.execute("SELECT kind, data FROM entities ORDER BY kind, id"):
            entities.setdefault(kind, []).append(json.loads(data))
        meta = {
            key: json.loads(value)
            for key, value in self._conn.execute("SELECT key, value FROM meta")
        }
        return entities, meta

    def write(
        self,
        puts: Iterable[tuple[str, int, Mapping[str, Any]]],
        deletes: Iterable[tuple[str, int]],
        meta: Mapping[str, Any],
    ) -> None:
        """Apply one operation's changes in a single transaction."""
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO entities (kind, id, data) VALUES (?, ?, ?)",
                ((kind, ident, json.dumps(data)) for kind, ident, data in puts),
            )
            self._conn.executemany("DELETE FROM entities WHERE kind = ? AND id = ?", list(deletes))
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                ((key, json.dumps(value)) for key, value in meta.items()),
            )

    def clear(self) -> None:
        """Delete every entity (meta is rewritten on the next write)."""
        with self._conn:
            self._conn.execute("DELETE FROM entities")

    def close(self) -> None:
        self._conn.close()
