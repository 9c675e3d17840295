"""``copernica-sync state show|reset``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._jobs import confirmed, job_options, selected_jobs
from .main import exits_cleanly

if TYPE_CHECKING:
    from copernica_sdk.sync.config import JobConfig
    from copernica_sdk.sync.state import StateStore


@click.group()
def state() -> None:
    """What a job remembers between runs: bookmarks, change digests, runs.

    \b
    Examples:
      copernica-sync state show
      copernica-sync state reset --stream orders --yes
    """


@state.command()
@job_options
@click.pass_context
@exits_cleanly
def show(ctx: click.Context, job_name: str | None, all_jobs: bool) -> None:
    """Show bookmarks, counts, profile keys several records share, and the last runs.

    \b
    Example:
      copernica-sync state show
    """
    from copernica_sdk._sql import redact
    from copernica_sdk.sync.runner import open_state, state_location_for

    for job in selected_jobs(ctx, job_name, all_jobs):
        path = state_location_for(job)
        click.echo(f"[{job.name}] state: {redact(path)}")
        if isinstance(path, Path) and not path.exists():
            click.echo("  (no runs yet)")
            continue
        with open_state(path) as store:
            for stream, value in sorted(store.bookmarks().items()):
                click.echo(f"  bookmark {stream}: {value}")
            for name, count in store.counts().items():
                click.echo(f"  {name}: {count}")
            _show_shared_keys(store)
            for run in store.runs(limit=5):
                ended = run.ended_at or "running or killed"
                click.echo(f"  run {run.id}: {run.started_at} → {ended}, exit {run.exit_code}, "
                           f"{run.counts}")
        _show_license(job)


def _show_license(job: JobConfig) -> None:
    """The license state and the streams it skips (gated streams never appear in the
    bookmarks, so they are named here)."""
    from copernica_sdk.jobs import license_decision

    decision = license_decision(job)
    if decision.plugin_id is None:
        return
    click.echo(f"  license: {decision.summary()}")
    for stream, why in sorted(decision.skipped().items()):
        click.echo(f"  {stream}: skipped ({why})")


@state.command()
@job_options
@click.option("--stream", metavar="NAME", help="Only this stream's bookmark.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@exits_cleanly
def reset(ctx: click.Context, job_name: str | None, all_jobs: bool, stream: str | None,
          yes: bool) -> None:
    """Forget bookmarks, streams' own state and change digests, so the next run
    resends everything.

    Copernica is not touched, and the resend is harmless (upserts by key).
    Dead letters and run history are kept.

    \b
    Example:
      copernica-sync state reset --stream orders --yes
    """
    from copernica_sdk.sync.lock import lock_for
    from copernica_sdk.sync.runner import open_state, state_location_for

    for job in selected_jobs(ctx, job_name, all_jobs):
        what = f"stream {stream!r}" if stream else "every stream"
        if not yes and not confirmed(f"[{job.name}] forget the bookmarks of {what}?"):
            continue
        path = state_location_for(job)
        # Not while a run is going: it would write its bookmarks back over the reset.
        with lock_for(path, job.name,
                     refused="nothing was reset (a running sync would write its bookmarks "
                             "back over it); try again when it has finished"), \
                open_state(path) as store:
            store.reset(stream)
        click.echo(f"[{job.name}] reset {what}; the next run resends everything")


#: Shared profile keys listed by ``state show`` (the count is always complete).
SHARED_KEYS_SHOWN = 20


def _show_shared_keys(store: StateStore) -> None:
    """Profile keys several source records claim (see docs/guarantees.md)."""
    shared = store.shared_profile_keys()
    click.echo(f"  shared_profile_keys: {len(shared)}")
    for item in shared[:SHARED_KEYS_SHOWN]:
        click.echo(f"  shared {item.profile_key}: {item.source} ids {', '.join(item.source_ids)}")
    if len(shared) > SHARED_KEYS_SHOWN:
        click.echo(f"  … and {len(shared) - SHARED_KEYS_SHOWN} more")


@state.command()
@job_options
@click.option("--to", "url", metavar="URL",
              help="PostgreSQL URL [default: the job's sync.state_url]; ${VAR} is expanded.")
@click.pass_context
@exits_cleanly
def migrate(ctx: click.Context, job_name: str | None, all_jobs: bool, url: str | None) -> None:
    """Copy the job's SQLite state file into PostgreSQL (then use sync.state_url).

    Everything moves — bookmarks, digests, identities, dead letters, runs, usage —
    in one transaction; the file is left as it was.  Refused when the job's
    schema in PostgreSQL already holds state.

    \b
    Example:
      copernica-sync state migrate --to 'postgresql://sync:${PG_PASSWORD}@db/copernica'
    """
    import os

    from copernica_sdk._sql import job_location, redact
    from copernica_sdk.licensing.usage_signing import move_install_key
    from copernica_sdk.sync.errors import ConfigError
    from copernica_sdk.sync.lock import lock_for
    from copernica_sdk.sync.runner import open_state, state_path_for
    from copernica_sdk.sync.state_copy import copy_state

    for job in selected_jobs(ctx, job_name, all_jobs):
        target_url = os.path.expandvars(url) if url else job.sync.state_url
        if not target_url:
            raise ConfigError([f"jobs.{job.name}.sync.state_url: not set; pass --to URL"])
        source = state_path_for(job)
        if not source.exists():
            click.echo(f"[{job.name}] no state file at {source}; nothing to migrate")
            continue
        target = job_location(target_url, job.name)
        refused = "nothing was migrated; try again when it has finished"
        with lock_for(source, job.name, refused=refused), \
                lock_for(target, job.name, refused=refused), \
                open_state(source) as src, open_state(target) as dst:
            report = copy_state(src, dst)
        move_install_key(source, target)
        click.echo(f"[{job.name}] copied {report.total} rows from {source} to {redact(target)} "
                   f"({', '.join(f'{t} {n}' for t, n in report.rows.items() if n)}); set "
                   "sync.state_url in the config to use it")
