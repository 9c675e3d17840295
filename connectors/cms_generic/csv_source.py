"""CSV streams: files by path or glob, a ledger of processed files, bad rows dead-lettered.

Replication value (``_cursor``): the cursor column when ``incremental`` names
one, else the time the file's content was first seen (its modification time,
or the ledger's record of it) — so every CSV stream is incremental.

The ledger (a small JSON file, see :class:`Ledger`) remembers each processed
file by the SHA-256 of its content with the highest cursor value it held.  A
file is skipped only when its content is in the ledger *and* the framework
asks for records after that cursor value — i.e. the framework's own bookmark
says the file was synced.  A fresh state or ``--full-refresh`` (start ``None``)
therefore re-reads everything, and a ledger entry written by a dry run (which
moves no bookmark) cannot hide a file.  A file is entered only after all its
pages were handed over and the generator was resumed, which the engine does
only after committing the last page.

Bad rows (wrong number of columns, empty primary key, unreadable cursor) are
yielded as :class:`BadRow` records: the framework has no API to dead-letter a
record from a connector, so a ``BadRow`` raises ``MappingError`` as soon as the
mapping reads it, and the engine dead-letters it with the message naming the
file and line.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copernica_sdk.sync.connector import PageItem, Record
from copernica_sdk.sync.errors import MappingError, SourceError

from . import _time
from ._paths import get_path
from .config import CsvStreamConfig
from .streams import CURSOR_KEY, ID_KEY, ConfiguredStream

__all__ = ["BadRow", "CsvStream", "Ledger"]

log = logging.getLogger("connectors.cms_generic")

#: Rows per page (the framework's unit of checkpointing).
PAGE_ROWS = 500
#: Ledger entries kept per stream (oldest dropped first).
LEDGER_LIMIT = 5000
_GLOB_CHARS = frozenset("*?[")


class BadRow(dict[str, Any]):
    """A row that cannot be synced.  Reading anything but its key and cursor
    raises :class:`MappingError`, which the engine turns into a dead letter."""

    def __init__(self, data: dict[str, Any], problem: str, allowed: frozenset[str]) -> None:
        super().__init__(data)
        self.problem = problem
        self.allowed = allowed

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.allowed:
            return super().get(key, default)
        raise MappingError(self.problem)

    def __getitem__(self, key: str) -> Any:
        if key in self.allowed:
            return super().__getitem__(key)
        raise MappingError(self.problem)


class Ledger:
    """Processed CSV files of a job: ``{stream: {sha256: {path, cursor, seen_at}}}`` in JSON.

    Written atomically (temp file + rename) so a crash never leaves half a ledger.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, dict[str, Any]]] | None = None

    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raw = {}
            except (OSError, ValueError) as exc:
                # A broken ledger only costs a re-read (the engine skips unchanged records).
                log.warning("ignoring unreadable CSV ledger %s (%s)", self.path, exc)
                raw = {}
            self._data = raw if isinstance(raw, dict) else {}
        return self._data

    def get(self, stream: str, digest: str) -> dict[str, Any] | None:
        entry = self._load().get(stream, {}).get(digest)
        return entry if isinstance(entry, dict) else None

    def add(self, stream: str, digest: str, path: str, cursor: str | None) -> None:
        data = self._load()
        entries = data.setdefault(stream, {})
        entries.pop(digest, None)
        entries[digest] = {"path": path, "cursor": cursor,
                           "seen_at": datetime.now(UTC).strftime(_time.FORMAT)}
        while len(entries) > LEDGER_LIMIT:
            entries.pop(next(iter(entries)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


class CsvStream(ConfiguredStream):
    """Rows of CSV files as records (header row → field names, renamed by ``columns``)."""

    config: CsvStreamConfig

    def files(self) -> list[Path]:
        """The files to read, sorted by name (exports are usually date-stamped)."""
        found: set[str] = set()
        for pattern in self.config.paths:
            expanded = os.path.expanduser(pattern)
            if _GLOB_CHARS.isdisjoint(expanded):
                if not os.path.isfile(expanded):
                    raise SourceError(f"{self.name}: CSV file {expanded} does not exist")
                found.add(expanded)
            else:
                found.update(p for p in glob.glob(expanded, recursive=True) if os.path.isfile(p))
        return [Path(p) for p in sorted(found)]

    def read(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        begin = self._start(start, self.config.incremental)
        ledger = self.connector.ledger
        for path in self.files():
            try:
                content = path.read_bytes()
                mtime = path.stat().st_mtime
            except OSError as exc:
                raise SourceError(f"{self.name}: cannot read {path}: {exc.strerror}") from None
            digest = hashlib.sha256(content).hexdigest()
            entry = ledger.get(self.name, digest)
            seen = entry.get("cursor") if entry else None
            if begin is not None and isinstance(seen, str) and seen < begin:
                log.info("%s: %s was already synced (same content); skipped", self.name, path)
                continue
            file_cursor = seen if isinstance(seen, str) else _time.normalize(int(mtime))
            highest: str | None = None
            page: list[PageItem] = []
            for record in self._rows(path, content, file_cursor):
                cursor = record.get(CURSOR_KEY)
                if isinstance(cursor, str):
                    if highest is None or cursor > highest:
                        highest = cursor
                    if begin is not None and cursor < begin:
                        continue
                page.append(record if isinstance(record, BadRow) else self._skip_missing(record))
                if len(page) >= PAGE_ROWS:
                    yield page
                    page = []
            if page:
                yield page
            # Reached only after the engine committed the file's last page.
            ledger.add(self.name, digest, str(path), highest)

    def _rows(self, path: Path, content: bytes, file_cursor: str) -> Iterator[Record]:
        cfg = self.config
        try:
            text = content.decode(cfg.encoding)
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            raise SourceError(f"{self.name}: {path} line {line} is not {cfg.encoding} text; "
                              "set the stream's encoding (e.g. latin-1)") from None
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=cfg.delimiter,
                            quotechar=cfg.quotechar)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(f"{self.name}: {path} line 1: {exc}") from None
        names = [cfg.columns.get(h.strip(), h.strip()) for h in header]
        inc = cfg.incremental
        key_field = self.primary_key
        line = reader.line_num
        while True:
            first_line = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise SourceError(f"{self.name}: {path} line {first_line}: {exc}") from None
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            record: Record = dict(zip(names, row, strict=False))
            problem = None
            if len(row) != len(names):
                problem = f"has {len(row)} columns, the header {len(names)}"
            key = get_path(record, cfg.primary_key_path)
            if key_field == ID_KEY:
                record[ID_KEY] = key if isinstance(key, str) else None
            if not problem and (not isinstance(key, str) or not key.strip()):
                problem = f"has no {cfg.primary_key}"
            if inc is not None:
                raw = get_path(record, inc.cursor_path)
                try:
                    record[CURSOR_KEY] = _time.normalize(raw)
                except (ValueError, OverflowError, OSError):
                    problem = problem or f"{inc.cursor_field} {str(raw)[:40]!r} is not a date/time"
                    record[CURSOR_KEY] = file_cursor
            else:
                record[CURSOR_KEY] = file_cursor
            if problem:
                where = f"{path.name} line {first_line}"
                if not isinstance(record.get(key_field), str) or not record.get(key_field):
                    record[key_field] = where
                yield BadRow(record, f"{self.name} {where}: the row {problem}",
                             frozenset({key_field, CURSOR_KEY}))
                continue
            yield record
