"""Run a configured sync job with its licensing: lock, preflight, engine, usage flush.

The one layer that wires :mod:`copernica_sdk.sync` and :mod:`copernica_sdk.licensing`
together, so neither of them imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from .licensing.preflight import LicenseDecision, preflight
from .sync.config import JobConfig
from .sync.engine import CheckpointHook, ProgressListener, SyncEngine, SyncOptions
from .sync.errors import JobLockedError
from .sync.lock import lock_for
from .sync.registry import load_connector
from .sync.report import ExitCode, RunReport
from .sync.runner import Job, open_job, state_path_for

__all__ = ["Job", "exit_code_for", "license_decision", "open_job", "run_job"]

log = logging.getLogger("copernica_sdk.sync")


def exit_code_for(exc: BaseException) -> ExitCode:
    """The documented exit code (docs/cli.md) of a run that ends with ``exc``: the CLI
    exits with it, a worker's task returns it."""
    from .errors import (
        AuthenticationError,
        ConfigurationError,
        RedirectRefusedError,
        UnsafeRequestError,
    )
    from .licensing.errors import LicenseRefusedError
    from .sync.errors import ConfigError, SourceAuthError
    from .sync.state_files import StateError

    if isinstance(exc, ConfigError | ConfigurationError | UnsafeRequestError
                  | RedirectRefusedError):
        return ExitCode.CONFIG
    if isinstance(exc, JobLockedError):
        return ExitCode.LOCKED
    if isinstance(exc, StateError):
        return ExitCode.STATE
    if isinstance(exc, LicenseRefusedError):
        return ExitCode.LICENSE
    if isinstance(exc, AuthenticationError | SourceAuthError):
        return ExitCode.AUTH
    return ExitCode.UNAVAILABLE  # the source or Copernica unavailable, or a bug (logged)


def run_job(job: Job, options: SyncOptions, *, hooks: Sequence[CheckpointHook] = (),
            progress: ProgressListener | None = None, not_before: str | None = None
            ) -> RunReport:
    """Run ``job`` under its lock (raises JobLockedError if another run holds it).

    ``not_before`` (ISO-8601 UTC, the state's timestamp format): a run that started
    at or after it already served this schedule tick, so this one is skipped with
    JobLockedError too — how two schedulers enqueueing the same tick run it once.

    The licensing preflight comes first: in enforce mode an invalid license refuses
    the run (LicenseRefusedError) before anything is touched.  Usage is metered in
    the engine's checkpoints and flushed to the partner's collector afterwards, on a
    best-effort basis: a failed flush never fails the run.
    """
    with lock_for(job.state.location, job.config.name):
        if not_before is not None:
            last = job.state.runs(limit=1)
            if last and last[0].started_at >= not_before:
                raise JobLockedError(f"job {job.config.name!r} already ran for the tick at "
                                     f"{not_before} (run {last[0].id} started "
                                     f"{last[0].started_at}); this run is skipped")
        decision = preflight(job.config, type(job.connector), job.state.location)
        decision.log()
        decision.raise_if_refused()
        names = [s.name for s in job.connector.streams()]
        skipped = decision.skipped([n for n in (options.streams or names)])
        for name, why in skipped.items():
            # Visible, not silent: in the text output, the JSON log and `state show`.
            log.warning("%s: skipped (%s)", name, why,
                        extra={"event": "stream_skipped", "job": job.config.name,
                               "stream": name, "reason": why})
        remaining = [n for n in (options.streams or names) if n not in skipped]
        if skipped:
            options = replace(options, streams=remaining)
        engine = SyncEngine(job.client, job.connector, job.target, job.state,
                            job=job.config.name, options=options,
                            hooks=[*hooks, *decision.hooks()], progress=progress)
        # Every selected stream gated: run nothing (an empty selection means "all").
        report = engine.run() if remaining else RunReport(job.config.name,
                                                          dry_run=options.dry_run)
        report.skipped_streams.update(skipped)
        collector = decision.settings.collector_url
        if collector and not options.dry_run:
            # Imported here: requests and the signing code only when usage is sent.
            from .licensing.flush import flush
            from .licensing.sinks import HttpCollectorSink

            try:
                flush(job.state.location, HttpCollectorSink(collector))
            except Exception:
                log.warning("usage flush failed; `copernica-sync usage flush` retries it",
                            exc_info=True)
        return report


def license_decision(config: JobConfig) -> LicenseDecision:
    """The license decision the job's next run would get (reads the state, writes
    nothing): for ``check`` and ``state show``."""
    return preflight(config, load_connector(config.connector), state_path_for(config))
