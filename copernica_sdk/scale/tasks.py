"""What a worker does with one job: load the config, run the job under its lock.

The same path as ``copernica-sync run`` (:func:`copernica_sdk.jobs.run_job`): the
job lock, the license preflight, checkpoints, usage metering and flush, and the
same exit codes — returned in the task's result instead of ending a process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from ..client import CallGate
from ..errors import (
    CopernicaError,
)
from ..jobs import exit_code_for, open_job, run_job
from ..sync.config import CopernicaSettings, load_config
from ..sync.report import ExitCode
from .schedule import last_tick

__all__ = ["run_configured"]

log = logging.getLogger("copernica_sdk.scale")

#: Makes the call gate for a job's Copernica account (None: no cap).
GateFactory = Callable[[CopernicaSettings], CallGate | None]


def run_configured(config_path: str, job_name: str, *, scheduled: bool = False,
                   gate_for: GateFactory | None = None) -> dict[str, Any]:
    """Run ``job_name`` of the config file at ``config_path``; returns the result
    ``{"job", "exit_code", "counts"}`` (plus ``"skipped"`` or ``"error"``).

    ``scheduled``: the run serves the job's latest ``sync.schedule`` tick, and is
    skipped (exit 75) when a run of the job already started at or after that tick
    — a second scheduler's copy of the same tick.
    """
    result: dict[str, Any] = {"job": job_name}
    try:
        job_config = load_config(config_path).job(job_name)
        not_before = None
        if scheduled and job_config.sync.schedule:
            tick = last_tick(job_config.sync.schedule)
            not_before = tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if tick else None
        gate = gate_for(job_config.copernica) if gate_for else None
        with open_job(job_config, call_gate=gate) as job:
            report = run_job(job, job.options(), not_before=not_before)
    except Exception as exc:
        code = exit_code_for(exc)
        result["exit_code"] = int(code)
        if code == ExitCode.LOCKED:
            # Recorded (the task's result, and this line), like exit 75 from cron.
            log.warning("job %s skipped: %s", job_name, exc)
            result["skipped"] = str(exc)
        else:
            level = logging.ERROR if isinstance(exc, CopernicaError) else logging.CRITICAL
            log.log(level, "job %s failed (exit %d): %s", job_name, int(code), exc,
                    exc_info=not isinstance(exc, CopernicaError))
            result["error"] = f"{type(exc).__name__}: {exc}"
        return result
    result["exit_code"] = int(report.exit_code)
    result["counts"] = report.totals()
    log.info("job %s finished with exit code %d", job_name, int(report.exit_code))
    return result
