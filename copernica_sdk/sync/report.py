"""What a run did, per stream, and the exit code it ends with."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["ExitCode", "RunReport", "StreamReport", "Terminated"]


class ExitCode(enum.IntEnum):
    """``copernica-sync`` exit codes; cron wrappers and monitoring key on them."""

    OK = 0
    DEAD_LETTERED = 1      # the run finished, some records are in the dead-letter table
    CONFIG = 2             # the configuration is invalid; nothing was synced
    LICENSE = 3            # licensing refused to start the run
    AUTH = 4               # Copernica or the source refused the credentials
    UNAVAILABLE = 5        # Copernica or the source kept failing; the next run resumes
    STATE = 6              # the state file is damaged, unreadable, unwritable or the disk full
    LOCKED = 75            # another run of the same job is still going (EX_TEMPFAIL)
    INTERRUPTED = 130      # stopped by Ctrl-C (SIGINT); the next run resumes
    TERMINATED = 143       # stopped by SIGTERM (e.g. a service manager); the next run resumes


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs (checkpoints roll back,
    the job lock and the state file are released); recorded as exit code 143."""


@dataclass
class StreamReport:
    """Counts for one stream of one run."""

    stream: str
    read: int = 0
    unchanged: int = 0
    written: int = 0
    dead_lettered: int = 0
    #: Records the stream returned as :class:`~.connector.Skipped`, in total and per
    #: reason: ``read == written + unchanged + dead_lettered + skipped`` for a stream
    #: that finished.
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    profiles_written: int = 0
    subprofiles_written: int = 0
    warnings: int = 0
    bookmark: str | None = None
    error: str | None = None
    exit_code: ExitCode = ExitCode.OK

    def summary(self) -> str:
        text = (f"{self.stream}: read {self.read}, written {self.written} "
                f"({self.profiles_written} profile and {self.subprofiles_written} subprofile "
                f"upserts), unchanged {self.unchanged}, dead-lettered {self.dead_lettered}")
        if self.skipped:
            reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(self.skip_reasons.items()))
            text += f", skipped {self.skipped} ({reasons})"
        if self.warnings:
            text += f", {self.warnings} value{'s' if self.warnings != 1 else ''} repaired (see warnings)"
        if self.bookmark:
            text += f", bookmark {self.bookmark}"
        if self.error:
            text += f" — FAILED: {self.error}"
        return text


@dataclass
class RunReport:
    """Everything one run did.  ``exit_code`` is the worst of its streams'."""

    job: str
    run_id: int | None = None
    streams: list[StreamReport] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    #: Streams that did not run at all, and why (``{"orders": "license lacks
    #: entitlement 'orders'"}``); set by the layer that decided it (copernica_sdk.jobs).
    skipped_streams: dict[str, str] = field(default_factory=dict)

    def skipped_stream_lines(self) -> list[str]:
        """``orders: skipped (license lacks entitlement 'orders')``, one per stream."""
        return [f"{name}: skipped ({why})" for name, why in sorted(self.skipped_streams.items())]

    @property
    def exit_code(self) -> ExitCode:
        codes = [s.exit_code for s in self.streams]
        for worst in (ExitCode.AUTH, ExitCode.UNAVAILABLE, ExitCode.DEAD_LETTERED):
            if worst in codes:
                return worst
        return ExitCode.OK

    def totals(self) -> dict[str, int]:
        """Counts summed over the streams; ``"skipped: <reason>"`` per skip reason."""
        keys = ("read", "unchanged", "written", "dead_lettered", "skipped", "profiles_written",
                "subprofiles_written", "warnings")
        out = {k: sum(getattr(s, k) for s in self.streams) for k in keys}
        for stream in self.streams:
            for reason, n in stream.skip_reasons.items():
                out[f"skipped: {reason}"] = out.get(f"skipped: {reason}", 0) + n
        return out
