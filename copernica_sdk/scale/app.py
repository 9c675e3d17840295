"""The Celery app for a config file: one task that runs a job, and beat's schedule.

::

    app = create_app("/etc/copernica/shops.toml", broker="redis://127.0.0.1:6379/0")
    app.send_task(TASK, args=["shop-eu"])          # what `copernica-sync enqueue` does

``copernica-sync worker`` and ``copernica-sync scheduler`` start a worker and beat
with it (docs/scale-out.md).  Delivery guarantees:

- ``acks_late`` + ``reject_on_worker_lost``: a message is acknowledged only when
  the job's run has ended; a worker process that dies mid-run (SIGKILL, OOM)
  gets its message redelivered — at once when the pool's child dies, within
  ``visibility_timeout`` when the whole worker or machine does — and the new run
  resumes from the last checkpoint in the shared state;
- a redelivered or duplicated message while the run is still going meets the job
  lock and is skipped (exit 75), so a job never runs twice at once.
"""

from __future__ import annotations

from typing import Any

from ..client import CallGate
from ..sync.config import CopernicaSettings, load_config
from .schedule import crontab_for
from .tasks import run_configured

__all__ = ["TASK", "create_app"]

#: The task's name, for ``send_task`` from anywhere.
TASK = "copernica_sync.run_job"


def create_app(config_path: str, broker: str, *, visibility_timeout: float = 3600.0,
               calls_per_account: int | None = None) -> Any:
    """A Celery app whose task runs jobs of ``config_path`` (read on every run, so
    an edited config applies to the next run), with ``broker`` (Redis) as broker
    and result store, and beat's schedule from the jobs' ``sync.schedule``.

    ``calls_per_account``: the cap on SOAP calls in flight per Copernica account
    across all workers (None: no cap).
    """
    from celery import Celery

    app = Celery("copernica_sync", broker=broker, backend=broker, set_as_current=False)
    restore = max(1, min(10, int(visibility_timeout // 4)))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,      # a worker takes a job only when it has room
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=7 * 86_400,
        timezone="UTC", enable_utc=True,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility_timeout,
                                  "unacked_restore_interval": restore,
                                  "unacked_restore_throttle": 1},
        beat_schedule=_schedule(config_path),
    )

    gate_for = None
    if calls_per_account is not None:
        gate_for = _gates(broker, calls_per_account)

    @app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run_job_task(job: str, scheduled: bool = False) -> dict[str, Any]:
        return run_configured(config_path, job, scheduled=scheduled, gate_for=gate_for)

    return app


def _schedule(config_path: str) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for name, job in load_config(config_path).jobs.items():
        if job.sync.schedule:
            entries[f"sync {name}"] = {"task": TASK, "args": (name,),
                                       "kwargs": {"scheduled": True},
                                       "schedule": crontab_for(job.sync.schedule, job=name)}
    return entries


def _gates(broker: str, cap: int) -> Any:
    """One gate per account, made on first use in each (forked) worker process."""
    from redis import Redis

    from .fairness import AccountGate, account_key

    gates: dict[str, AccountGate] = {}
    client: list[Redis] = []

    def gate_for(settings: CopernicaSettings) -> CallGate:
        if not client:
            client.append(Redis.from_url(broker))
        account = account_key(settings)
        if account not in gates:
            gates[account] = AccountGate(client[0], account, cap,
                                         lease=settings.deadline + 60)
        return gates[account]

    return gate_for
