"""``copernica-sync worker | scheduler | enqueue | status`` — the scale-out commands.

Workers and the scheduler need the ``scale`` extra (Celery, Redis, psycopg):
``pip install 'copernica-sdk[scale]'``; they are imported only when one of these
commands runs.  See docs/scale-out.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._jobs import load
from .main import exits_cleanly

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def _broker_option(func: F) -> F:
    return click.option("--broker", default=DEFAULT_BROKER, envvar="COPERNICA_SYNC_BROKER",
                        show_default=True, show_envvar=True,
                        help="The Redis broker URL (also the result store).")(func)


def _app(ctx: click.Context, broker: str, **options: Any) -> Any:
    """The Celery app for the config file (checked first: a bad config exits 2 here,
    not in every task)."""
    try:
        from copernica_sdk.scale.app import create_app
    except ImportError as exc:
        raise click.ClickException(
            f"the scale-out commands need the scale extra ({exc.name} is missing): "
            "pip install 'copernica-sdk[scale]'") from None
    config = load(ctx)
    return create_app(str(config.path), broker, **options)


@click.command()
@_broker_option
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=1, show_default=True,
              help="Jobs this worker runs at once (one process each).")
@click.option("--calls-per-account", type=click.IntRange(min=1), default=None,
              envvar="COPERNICA_SYNC_CALLS_PER_ACCOUNT", show_envvar=True,
              help="Cap on SOAP calls in flight per Copernica account, across all workers "
                   "[default: no cap].  Give every worker the same value.")
@click.option("--visibility-timeout", type=click.FloatRange(min=1), default=3600.0,
              show_default=True,
              help="Seconds after which a job taken by a worker that vanished is handed out "
                   "again.  Longer than your longest run (an early copy meets the job lock "
                   "and is skipped).")
@click.option("--name", "hostname", default=None, help="Worker name [default: celery@HOST].")
@click.pass_context
@exits_cleanly
def worker(ctx: click.Context, broker: str, concurrency: int, calls_per_account: int | None,
           visibility_timeout: float, hostname: str | None) -> None:
    """Run jobs from the queue (Celery worker): as many at once as --concurrency.

    \b
    Example:
      copernica-sync --config /etc/copernica/shops.toml worker --broker redis://redis:6379/0 \\
          --concurrency 4 --calls-per-account 8
    """
    app = _app(ctx, broker, visibility_timeout=visibility_timeout,
               calls_per_account=calls_per_account)
    argv = ["worker", "--pool", "prefork", "--concurrency", str(concurrency),
            "--loglevel", "INFO" if not ctx.obj.get("quiet") else "WARNING"]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)


@click.command()
@_broker_option
@click.option("--schedule-file", type=click.Path(dir_okay=False), default=None,
              help="Where beat keeps the last run times [default: ./celerybeat-schedule].")
@click.pass_context
@exits_cleanly
def scheduler(ctx: click.Context, broker: str, schedule_file: str | None) -> None:
    """Enqueue each job at its sync.schedule (cron syntax) — Celery beat.

    Run one.  A second one by mistake does no harm: each job runs once per tick
    (the job lock and the run history decide), the copy is skipped with exit 75.

    \b
    Example:
      copernica-sync --config /etc/copernica/shops.toml scheduler --broker redis://redis:6379/0
    """
    app = _app(ctx, broker)
    if not app.conf.beat_schedule:
        raise click.ClickException("no job has a sync.schedule; nothing to schedule")
    argv = ["beat", "--loglevel", "INFO" if not ctx.obj.get("quiet") else "WARNING"]
    if schedule_file:
        argv += ["--schedule", schedule_file]
    app.start(argv)


@click.command()
@click.argument("job")
@_broker_option
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wait up to SECONDS for the run and exit with its exit code.")
@click.pass_context
@exits_cleanly
def enqueue(ctx: click.Context, job: str, broker: str, wait: float | None) -> None:
    """Queue a run of JOB now (a worker picks it up).

    \b
    Example:
      copernica-sync enqueue shop-eu --wait 600
    """
    app = _app(ctx, broker)
    load(ctx).job(job)  # an unknown job is exit 2 here, not a failed task later
    from copernica_sdk.scale.app import TASK

    result = app.send_task(TASK, args=[job])
    click.echo(f"[{job}] queued as {result.id}")
    if wait is None:
        return
    outcome = result.get(timeout=wait, propagate=False)
    if not isinstance(outcome, dict):
        raise click.ClickException(f"the run did not report a result: {outcome!r}")
    line = f"[{job}] exit {outcome['exit_code']}"
    for key in ("skipped", "error"):
        if key in outcome:
            line += f": {outcome[key]}"
    if "counts" in outcome:
        line += f" {outcome['counts']}"
    click.echo(line)
    sys.exit(int(outcome["exit_code"]))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for monitoring.")
@click.pass_context
@exits_cleanly
def status(ctx: click.Context, as_json: bool) -> None:
    """Every job: last run, exit code, records written, open dead letters, lag.

    \b
    Examples:
      copernica-sync status
      copernica-sync --config /etc/copernica/shops.toml status --json
    """
    import json

    from copernica_sdk.sync.runner import state_location_for
    from copernica_sdk.sync.status import job_status

    rows = [job_status(job.name, state_location_for(job))
            for job in load(ctx).jobs.values()]
    if as_json:
        click.echo(json.dumps({"jobs": [r.to_json() for r in rows]}, indent=2))
        return
    header = ("JOB", "LAST RUN", "STARTED", "EXIT", "RECORDS", "DEAD", "LAG")
    table = [header]
    for r in rows:
        exit_ = ("running/killed" if r.running else str(r.exit_code)) if r.last_run else "-"
        if r.problem:
            exit_ = "error"
        table.append((r.job, str(r.last_run or "never"), r.started_at or "-", exit_,
                      str(r.records), str(r.dead_letters), _lag(r.lag_seconds)))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for r in rows:
        if r.problem:
            click.echo(f"[{r.job}] {r.state}: {r.problem}", err=True)


def _lag(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"
