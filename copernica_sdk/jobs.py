"""Run a configured sync job with its licensing: lock, preflight, engine, usage flush.

The one layer that wires :mod:`copernica_sdk.sync` and :mod:`copernica_sdk.licensing`
together, so neither of them imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from .licensing.flush import flush
from .licensing.preflight import preflight
from .licensing.sinks import HttpCollectorSink
from .sync.engine import CheckpointHook, ProgressListener, SyncEngine, SyncOptions
from .sync.lock import lock_for
from .sync.report import RunReport
from .sync.runner import Job, open_job

__all__ = ["Job", "open_job", "run_job"]

log = logging.getLogger("copernica_sdk.sync")


def run_job(job: Job, options: SyncOptions, *, hooks: Sequence[CheckpointHook] = (),
            progress: ProgressListener | None = None) -> RunReport:
    """Run ``job`` under its lock (raises JobLockedError if another run holds it).

    The licensing preflight comes first: in enforce mode an invalid license refuses
    the run (LicenseRefusedError) before anything is touched.  Usage is metered in
    the engine's checkpoints and flushed to the partner's collector afterwards, on a
    best-effort basis: a failed flush never fails the run.
    """
    with lock_for(job.state.location, job.config.name):
        decision = preflight(job.config, type(job.connector), job.state.location)
        decision.log()
        decision.raise_if_refused()
        names = [s.name for s in job.connector.streams()]
        skipped = set(decision.skipped_streams(names))
        if skipped:
            options = replace(options, streams=[n for n in (options.streams or names)
                                                if n not in skipped])
        engine = SyncEngine(job.client, job.connector, job.target, job.state,
                            job=job.config.name, options=options,
                            hooks=[*hooks, *decision.hooks()], progress=progress)
        report = engine.run()
        collector = decision.settings.collector_url
        if collector and not options.dry_run:
            try:
                flush(job.state.location, HttpCollectorSink(collector))
            except Exception:
                log.warning("usage flush failed; `copernica-sync usage flush` retries it",
                            exc_info=True)
        return report
