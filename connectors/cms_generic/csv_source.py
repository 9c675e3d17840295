"""CSV streams: files by path or glob, processed files in the stream state, bad rows
dead-lettered.

Replication value (``_cursor``): the cursor column when ``incremental`` names
one, else the time the file's content was first seen (its modification time,
or the record of it) — so every CSV stream is incremental.

The stream's own state (:attr:`~copernica_sdk.sync.connector.Stream.state`,
key ``files``) remembers each processed file by the SHA-256 of its content with
the highest cursor value it held.  A file is skipped only when its content is
recorded *and* the framework asks for records after that cursor value — i.e.
the framework's own bookmark says the file was synced.  A fresh state or
``--full-refresh`` (start ``None``) therefore re-reads everything.  A file is
entered just before its last page is yielded, so the engine commits the entry
in that page's checkpoint, in one transaction with its bookmark; a dry run
commits nothing.  The JSON :class:`Ledger` of older releases is read once, for a
stream whose state has no record yet, and taken over.

Bad rows (wrong number of columns, empty primary key, unreadable cursor or
typed value, a row the CSV parser cannot read) are yielded as
:class:`~copernica_sdk.sync.connector.Rejected`: the engine dead-letters each
with a reason naming the stream, file, line and column and how to fix it, and
the rest of the file syncs.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copernica_sdk.sync import timestamps
from copernica_sdk.sync.connector import PageItem, Record, Rejected
from copernica_sdk.sync.errors import SourceError

from ._formats import FormatError
from .config import CsvStreamConfig
from .streams import CURSOR_KEY, ID_KEY, ConfiguredStream

if TYPE_CHECKING:
    from .connector import GenericCmsConnector

__all__ = ["FILE_KEY", "CsvStream", "Ledger", "content_digest"]

log = logging.getLogger("copernica_sync.connectors.cms_generic")

#: Rows per page (the framework's unit of checkpointing).
PAGE_ROWS = 500
#: Ledger entries kept per stream (oldest dropped first).
LEDGER_LIMIT = 5000
_GLOB_CHARS = frozenset("*?[")
#: Key every CSV record carries: the file it was read from, so ``dlq retry`` can
#: tell when the file holds newer data for a dead-lettered row.
FILE_KEY = "_file"
#: The key of :attr:`Stream.state` holding the processed files.
FILES_STATE = "files"
#: Set on rows the stream could not read (their payload is the raw row).
UNREAD_KEY = "_unread"
#: With ``mark_missing_as_deleted``: ``""``, or when the row left the export.
DELETED_KEY = "_deleted_at"


def _write_json(path: Path, data: Any) -> None:
    """Atomically (temp file + rename): a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ledger-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    os.replace(tmp, path)


def _enter(files: dict[str, Any], digest: str, path: str, cursor: str | None,
           settings: str) -> None:
    """Record a processed file (newest last; the oldest dropped past the limit)."""
    files.pop(digest, None)
    files[digest] = {"path": path, "cursor": cursor, "settings": settings,
                     "seen_at": datetime.now(UTC).strftime(timestamps.FORMAT)}
    while len(files) > LEDGER_LIMIT:
        files.pop(next(iter(files)))


def content_digest(content: bytes) -> str:
    """The ledger's key of a file: SHA-256 of its bytes."""
    return hashlib.sha256(content).hexdigest()


class Ledger:
    """The JSON file of older releases that recorded processed CSV files:
    ``{stream: {sha256: {path, cursor, settings, seen_at}}}``, keyed by the SHA-256
    of the file's content; ``settings`` is the fingerprint of the stream settings
    the file was read with.  Only read now, to take a stream's entries over into
    its state (see :meth:`CsvStream._processed`).  Beside it: the
    ``mark_missing_as_deleted`` snapshots, written atomically (temp file + rename).
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

    def entries(self, stream: str) -> dict[str, Any]:
        """The processed files this file recorded for ``stream`` (read to take them
        over into the stream state; never written any more)."""
        entries = self._load().get(stream)
        if not isinstance(entries, dict):
            return {}
        return {k: dict(v) for k, v in entries.items() if isinstance(v, dict)}


    def _rows_path(self, stream: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{stream}.rows.json")

    def rows(self, stream: str) -> dict[str, dict[str, Any]]:
        """The rows of the last complete read of ``stream`` (``mark_missing_as_deleted``)."""
        try:
            raw = json.loads(self._rows_path(stream).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable CSV snapshot %s (%s): no deletions this run",
                        self._rows_path(stream), exc)
            return {}
        return raw if isinstance(raw, dict) else {}

    def set_rows(self, stream: str, rows: Mapping[str, Mapping[str, Any]]) -> None:
        _write_json(self._rows_path(stream), rows)


class CsvStream(ConfiguredStream):
    """Rows of CSV files as records (header row → field names, renamed by ``columns``)."""

    config: CsvStreamConfig

    def __init__(self, connector: GenericCmsConnector, config: CsvStreamConfig) -> None:
        super().__init__(connector, config)
        # Files parsed for stale_payload, by (path, mtime, size).
        self._parsed: dict[tuple[str, int, int], dict[str, Record]] = {}

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
        floor = timestamps.to_utc(start) if start is not None else None
        done = self._processed()
        settings = self.settings_digest()
        deletions = self.config.mark_missing_as_deleted
        present: dict[str, Record | None] = {}  # key → row (None: unreadable this time)
        for path in self.files():
            try:
                content = path.read_bytes()
                mtime = path.stat().st_mtime
            except OSError as exc:
                raise SourceError(f"{self.name}: cannot read {path}: {exc.strerror}") from None
            digest = content_digest(content)
            entry = done.get(digest)
            entry = entry if isinstance(entry, dict) else None
            seen = entry.get("cursor") if entry else None
            if begin is not None and isinstance(seen, str) and seen < begin and not deletions \
                    and entry is not None and entry.get("settings") == settings:
                log.info("%s: %s was already synced (same content); skipped", self.name, path)
                continue
            # A file with new content is read in full: a corrected export may carry
            # rows older than the bookmark.  Rows that did not change are skipped by
            # the engine (their write has the digest stored last time).
            file_cursor = seen if isinstance(seen, str) else timestamps.to_utc(int(mtime))
            highest: str | None = None
            bad = 0
            page: list[PageItem] = []
            full: list[PageItem] | None = None  # held back: it may be the file's last
            for item in self._rows(path, content, file_cursor):
                rejected = isinstance(item, Rejected)
                record = item.record if isinstance(item, Rejected) else item
                record[FILE_KEY] = str(path)
                bad += rejected
                cursor = record.get(CURSOR_KEY)
                if floor is not None and isinstance(cursor, str) and cursor < floor:
                    # The row reached us with this file's new content, i.e. after the
                    # start: its replication value says so (never before the start).
                    record[CURSOR_KEY] = cursor = floor
                if isinstance(cursor, str) and (highest is None or cursor > highest):
                    highest = cursor
                if deletions:
                    key = str(record.get(self.primary_key))
                    present[key] = None if rejected else record
                    if not rejected:
                        record[DELETED_KEY] = ""
                page.append(item if rejected else self._skip_missing(record))
                if len(page) >= PAGE_ROWS:
                    if full is not None:
                        yield full
                    full, page = page, []
            last = page or full
            if page and full is not None:
                yield full
            # The file is entered in the stream state before its last page is
            # yielded: the engine commits the entry with that page, in one
            # transaction.  A file with unreadable rows is not entered: it is read
            # again every run (its dead letters updated, not duplicated) until the
            # file or the stream's settings are fixed, and then its rows sync.
            if bad:
                log.warning("%s: %s has %d unreadable row(s), dead-lettered; the file is read "
                            "again next run", self.name, path, bad)
            else:
                _enter(done, digest, str(path), highest, settings)
            if last:
                yield last
        if deletions:
            yield from self._mark_deleted(present, until)

    def _processed(self) -> dict[str, Any]:
        """The processed files in :attr:`state` (``files``), taken over once from the
        JSON ledger of releases before the stream state (if it has this stream)."""
        files = self.state.get(FILES_STATE)
        if not isinstance(files, dict):
            files = self.connector.ledger.entries(self.name)
            if files:
                log.info("%s: took over %d processed file(s) from %s; the file is no longer "
                         "used for them", self.name, len(files), self.connector.ledger.path)
            self.state[FILES_STATE] = files
        return files

    def _mark_deleted(self, present: dict[str, Record | None], until: str
                      ) -> Iterator[list[PageItem]]:
        """Rows of the last run that this run's files no longer have, once, with
        ``_deleted_at`` set to the run's start; then the new snapshot is kept."""
        ledger = self.connector.ledger
        before = ledger.rows(self.name)
        if not present:
            if before:
                log.warning("%s: the files hold no rows; not marking %d row(s) as deleted "
                            "(an empty export is more likely a failed one)", self.name,
                            len(before))
            return
        when = timestamps.to_utc(until)
        gone: list[PageItem] = [{**row, DELETED_KEY: when, CURSOR_KEY: when}
                for key, row in before.items() if key not in present]
        if gone:
            log.info("%s: %d row(s) are no longer in the export; marked deleted",
                     self.name, len(gone))
        for start in range(0, len(gone), PAGE_ROWS):
            yield gone[start: start + PAGE_ROWS]
        # Unreadable rows keep their last good version: they are not deleted.
        snapshot = {key: row if row is not None else before[key]
                    for key, row in present.items() if row is not None or key in before}
        ledger.set_rows(self.name, snapshot)

    def settings_digest(self) -> str:
        """A fingerprint of how this stream reads a file: other settings, other values."""
        cfg = self.config
        parts = [cfg.delimiter, cfg.quotechar, cfg.encoding, sorted(cfg.columns.items()),
                 cfg.primary_key, cfg.incremental.cursor_field if cfg.incremental else None,
                 sorted(cfg.types.items()), list(cfg.formats.date_formats),
                 cfg.formats.decimal_comma, list(cfg.formats.true_words),
                 list(cfg.formats.false_words), list(cfg.null_values)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]

    def stale_payload(self, payload: Mapping[str, Any]) -> str | None:
        """Why a dead letter of this stream should not be sent again as stored: the
        file it came from now holds other data for the row (or none), or the row
        could not be read at all (a run reads the file again)."""
        where = payload.get(FILE_KEY)
        if not isinstance(where, str):
            return None
        try:
            rows = self._current_rows(Path(where))
        except (OSError, SourceError):
            return f"it was read from {where}, which is gone or no longer readable"
        fresh = rows.get(str(payload.get(self.primary_key)))
        if fresh is None:
            return f"the row is no longer in {where}"
        if _comparable(fresh) != _comparable(payload):
            return f"{where} holds newer data for the row"
        if payload.get(UNREAD_KEY):
            return f"the row could not be read from {where}"
        return None

    def _current_rows(self, path: Path) -> dict[str, Record]:
        """The rows a file holds now, by key (parsed once per file and version)."""
        stat = path.stat()
        version = (str(path), stat.st_mtime_ns, stat.st_size)
        if version not in self._parsed:
            rows = (r.record if isinstance(r, Rejected) else r
                    for r in self._rows(path, path.read_bytes(), ""))
            self._parsed[version] = {str(r.get(self.primary_key)): r for r in rows}
        return self._parsed[version]

    def _rows(self, path: Path, content: bytes, file_cursor: str
              ) -> Iterator[Record | Rejected]:
        """The file's rows as records; a row that cannot be used as a :class:`Rejected`
        whose reason names the file, the line, the column and the fix."""
        cfg = self.config
        text = self._decode(path, content)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=cfg.delimiter,
                            quotechar=cfg.quotechar)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(f"{self.name}: {path} line 1: {exc}") from None
        names = [cfg.columns.get(h.strip(), h.strip()) for h in header]
        headings = {name: h.strip() for name, h in zip(names, header, strict=True)}

        def column(name: str) -> str:
            """A column as the file's header names it (and as renamed by ``columns``)."""
            heading = headings.get(name, name)
            return f"column {heading!r}" + (f" ({name})" if heading != name else "")

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
                # One unreadable row (a cell over the parser's 128 KiB limit, a NUL…)
                # is that row's dead letter; the reader goes on at the next line.
                line = reader.line_num
                where = f"{path.name} line {first_line}"
                yield Rejected({key_field: where, CURSOR_KEY: file_cursor, UNREAD_KEY: True},
                               f"{self.name} {where}: the row cannot be read as CSV ({exc}); "
                               "fix the row in the file (a quote left open, or a cell over "
                               "128 KiB)")
                continue
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if cfg.null_values:
                # phpMyAdmin writes SQL NULL as the word NULL: an empty cell, not a name.
                row = ["" if cell in cfg.null_values else cell for cell in row]
            record: Record = dict(zip(names, row, strict=False))
            problem = None
            if len(row) != len(names):
                problem = _column_count_problem(row, names, headings, cfg.delimiter)
            key = cfg.primary_key_path.get(record)
            if key_field == ID_KEY:
                record[ID_KEY] = key if isinstance(key, str) else None
            if not problem and (not isinstance(key, str) or not key.strip()):
                problem = (f"{column(cfg.primary_key)} is empty; it is the stream's "
                           "primary_key: give every row its key in the export")
            if inc is not None:
                raw = inc.cursor_path.get(record)
                where_cursor = f"{column(inc.cursor_field)} (incremental.cursor_field)"
                try:
                    record[CURSOR_KEY] = cfg.formats.cursor(raw)
                except FormatError as exc:
                    problem = problem or f"{where_cursor}: {exc}"
                    record[CURSOR_KEY] = file_cursor
                except (ValueError, OverflowError, OSError):
                    problem = problem or (f"{where_cursor}: {str(raw)[:40]!r} is not a "
                                          "date/time; write it as ISO-8601 (2024-05-01 "
                                          "10:00:00) or set the stream's date_format")
                    record[CURSOR_KEY] = file_cursor
            else:
                record[CURSOR_KEY] = file_cursor
            if not problem:
                problem = self._convert(record, column)
            if problem:
                where = f"{path.name} line {first_line}"
                if not isinstance(record.get(key_field), str) or not record.get(key_field):
                    record[key_field] = where
                record[UNREAD_KEY] = True
                yield Rejected(record, f"{self.name} {where}: {problem}")
                continue
            yield record

    def _convert(self, record: Record, column: Callable[[str], str]) -> str | None:
        """Type the ``types`` columns in place; the first problem, or ``None``.
        ``column`` names a column for the message."""
        formats = self.config.formats
        for name, kind in self.config.types.items():
            value = record.get(name)
            if isinstance(value, str):
                try:
                    record[name] = formats.convert(kind, value)
                except FormatError as exc:
                    return (f"{column(name)}: {exc}; fix the value in the export, or the "
                            f"column's type (types.{name} = {kind!r})")
        return None

    def _decode(self, path: Path, content: bytes) -> str:
        """The file's text.  ``auto``: a byte-order mark decides; else UTF-8 when the
        whole file is valid UTF-8, else Windows-1252 (what Excel and most Windows
        tools write in Western Europe).  Both are strict: bytes that are not text in
        the chosen encoding stop the stream naming the line, never a silent guess."""
        encoding = self.config.encoding
        if encoding == "auto":
            if content.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                encoding = "utf-16"
            else:
                try:
                    return content.decode("utf-8")
                except UnicodeDecodeError:
                    encoding = "cp1252"
                    log.info("%s: %s is not UTF-8; read as Windows-1252", self.name, path)
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            tried = "neither UTF-8 nor Windows-1252" if self.config.encoding == "auto" \
                else f"not {encoding}"
            raise SourceError(f"{self.name}: {path} line {line} is {tried} text; "
                              "set the stream's encoding (e.g. latin-1, utf-16)") from None
        return text.removeprefix("\ufeff")


def _column_count_problem(row: list[str], names: list[str], headings: Mapping[str, str],
                          delimiter: str) -> str:
    """Why a row with another number of cells than the header cannot be read."""
    if len(row) < len(names):
        missing = [repr(headings.get(n, n)) for n in names[len(row):]]
        shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        return (f"has {len(row)} columns, the header {len(names)}: no value for {shown}; "
                f"fix the row in the file (a missing {delimiter!r}, or a line break inside "
                "an unquoted value)")
    return (f"has {len(row)} columns, the header {len(names)}: the cells after "
            f"{headings.get(names[-1], names[-1])!r} have no column; quote values that "
            f"contain {delimiter!r}, or check the stream's delimiter")


def _comparable(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row's data without what the stream adds per read (cursor, file)."""
    return {k: v for k, v in record.items() if k not in (CURSOR_KEY, FILE_KEY)}
