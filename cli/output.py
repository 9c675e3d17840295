"""Logging, secret redaction and progress display for the command line."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from copernica_sdk.sync.report import StreamReport

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


class RedactingFilter(logging.Filter):
    """Replaces known secrets (and anything JWT-shaped) in every log record."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.extend(s for s in secrets if s and len(s) >= 4 and s not in self.secrets)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "REDACTED")
        return _JWT.sub("REDACTED", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:  # a traceback's text is redacted too (exception messages)
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        record.msg = self.redact(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("event", "job", "stream", "reason", "counts", "exit_code"):
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
