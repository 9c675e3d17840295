"""``copernica-sync dlq list|retry|purge``."""

from __future__ import annotations

import json
import sys

import click

from ._jobs import confirmed, job_options, selected_jobs
from .main import exits_cleanly


@click.group()
def dlq() -> None:
    """Records that could not be synced, with the reason: inspect, retry, purge.

    \b
    Examples:
      copernica-sync dlq list --payload
      copernica-sync dlq retry
    """


@dlq.command(name="list")
@job_options
@click.option("--stream", metavar="NAME", help="Only this stream.")
@click.option("--all-statuses", is_flag=True, help="Include retried and resolved letters.")
@click.option("--payload", is_flag=True, help="Print each record as JSON too.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="List at most this many.")
@click.pass_context
@exits_cleanly
def list_(ctx: click.Context, job_name: str | None, all_jobs: bool, stream: str | None,
          all_statuses: bool, payload: bool, limit: int) -> None:
    """List dead letters, oldest first.

    \b
    Example:
      copernica-sync dlq list --stream orders --payload
    """
    from copernica_sdk.sync.runner import open_state, state_location_for

    for job in selected_jobs(ctx, job_name, all_jobs):
        with open_state(state_location_for(job)) as store:
            letters = store.dead_letters(stream=stream, status=None if all_statuses else "open",
                                         limit=limit)
            if not letters:
                click.echo(f"[{job.name}] no dead letters")
            for letter in letters:
                click.echo(f"[{job.name}] #{letter.id} {letter.stream} {letter.record_key} "
                           f"({letter.status}, {letter.created_at}): {letter.reason}")
                if payload:
                    click.echo(json.dumps(letter.payload, ensure_ascii=False, default=str))


@dlq.command()
@job_options
@click.option("--stream", metavar="NAME", help="Only this stream.")
@click.pass_context
@exits_cleanly
def retry(ctx: click.Context, job_name: str | None, all_jobs: bool, stream: str | None) -> None:
    """Send the open dead letters again (after fixing the mapping or the data).

    \b
    Example:
      copernica-sync dlq retry --stream orders
    """
    from copernica_sdk.sync.engine import SyncEngine
    from copernica_sdk.sync.lock import lock_for
    from copernica_sdk.sync.runner import open_job, state_location_for

    from .output import REDACTOR

    still_failing = 0
    for job_config in selected_jobs(ctx, job_name, all_jobs):
        # The lock first: a running sync resolves and adds letters itself.
        with lock_for(state_location_for(job_config), job_config.name,
                     refused="no dead letter was retried; try again when it has finished"), \
                open_job(job_config) as job:
            REDACTOR.add(job.secrets())
            engine = SyncEngine(job.client, job.connector, job.target, job.state,
                                job=job_config.name, options=job.options())
            # A payload older than what the source now has is not sent again: it
            # would overwrite newer data.  A run reads the current data.
            stale = []
            for letter in job.state.dead_letters(stream=stream, status="open"):
                why = job.connector.stale_payload(letter.stream, letter.payload)
                if why is not None:
                    stale.append(letter.id)
                    click.echo(f"[{job_config.name}] {letter.stream}: dead letter #{letter.id} "
                               f"({letter.record_key}) not retried: {why}; run "
                               "`copernica-sync run` instead", err=True)
            still_failing += len(stale)
            report = engine.replay_dead_letters(stream, skip=stale)
            for s in report.streams:
                click.echo(f"[{job_config.name}] {s.stream}: retried {s.read}, "
                           f"synced {s.written}, still failing {s.dead_lettered}"
                           + (f" — {s.error}" if s.error else ""))
                still_failing += s.dead_lettered
    if still_failing:
        sys.exit(1)  # like `run`: some records are still in the dead-letter table


@dlq.command()
@job_options
@click.option("--stream", metavar="NAME", help="Only this stream.")
@click.option("--id", "ids", type=int, multiple=True, help="Only these letters (repeatable).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@exits_cleanly
def purge(ctx: click.Context, job_name: str | None, all_jobs: bool, stream: str | None,
          ids: tuple[int, ...], yes: bool) -> None:
    """Delete dead letters for good (the records stay unsynced).

    \b
    Example:
      copernica-sync dlq purge --id 12 --id 13 --yes
    """
    from copernica_sdk.sync.lock import lock_for
    from copernica_sdk.sync.runner import open_state, state_location_for

    for job in selected_jobs(ctx, job_name, all_jobs):
        if not yes and not confirmed(f"[{job.name}] delete these dead letters for good?"):
            continue
        path = state_location_for(job)
        # Not while a run is going: it may be resolving or re-opening these letters.
        with lock_for(path, job.name,
                     refused="nothing was purged; try again when it has finished"), \
                open_state(path) as store:
            count = store.purge_dead_letters(stream=stream, ids=ids or None)
        click.echo(f"[{job.name}] purged {count} dead letter(s)")
