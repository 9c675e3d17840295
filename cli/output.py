"""Logging, secret redaction and progress display for the command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from copernica_sdk.redaction import RedactingFilter as SharedRedactingFilter

if TYPE_CHECKING:
    from copernica_sdk.sync.report import StreamReport

class RedactingFilter(SharedRedactingFilter):
    """Replaces known secrets (and every credential shape the SDK's redactor knows:
    JWTs, credential parameters, URL user info) with ``REDACTED`` in every log
    record and in every line the CLI prints."""

    def __init__(self) -> None:
        super().__init__(mask="REDACTED")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("event", "job", "stream", "counts", "exit_code"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False, default=str)


REDACTOR = RedactingFilter()


def setup_logging(verbosity: int, log_format: str) -> None:
    """``-v`` shows INFO, ``-vv`` DEBUG, ``-q`` only errors; WARNING by default."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(REDACTOR)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # zeep and urllib3 log whole envelopes and URLs at DEBUG: tokens live there.
    for noisy in ("zeep", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


class Progress:
    """A one-line live status on a terminal; silent otherwise (cron gets summaries)."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool | None = None) -> None:
        self._out = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._dirty = False

    def on_page(self, report: StreamReport) -> None:
        if not self.enabled:
            return
        rate = report.read / max(1e-6, time.monotonic() - self._started)
        self._out.write(f"\r{report.stream}: {report.read} read, {report.written} written, "
                        f"{report.unchanged} unchanged, {report.dead_lettered} dead-lettered "
                        f"({rate:.0f} records/s)\x1b[K")
        self._out.flush()
        self._dirty = True

    def done(self) -> None:
        if self._dirty:
            self._out.write("\n")
            self._dirty = False
        self._started = time.monotonic()
