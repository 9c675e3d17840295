"""``copernica-sync schema plan|apply``."""

from __future__ import annotations

import click

from ._jobs import job_options, selected_jobs
from .main import exits_cleanly


@click.group()
def schema() -> None:
    """Compare the mapping with Copernica (plan) and create what is missing (apply).

    Creates databases, collections, fields and indexes on key fields.  Never
    deletes or retypes anything: a type conflict is reported with the fix.

    \b
    Examples:
      copernica-sync schema plan
      copernica-sync schema apply
    """


def _plans(ctx: click.Context, job_name: str | None, all_jobs: bool, apply: bool) -> None:
    from copernica_sdk import schema as schema_mod
    from copernica_sdk.sync.mapping import parse_target
    from copernica_sdk.sync.registry import load_connector
    from copernica_sdk.sync.runner import build_client, schema_for

    from .output import REDACTOR

    for job in selected_jobs(ctx, job_name, all_jobs):
        REDACTOR.add(job.secrets())
        connector = load_connector(job.connector)
        defaults = connector({k: v for k, v in job.source.items() if k != "connector"})
        target = parse_target(job.target, defaults.default_mapping())
        with build_client(job.copernica) as client:
            plan = schema_mod.plan(client, schema_for(target))
            click.echo(f"[{job.name}] database {target.database!r}:")
            click.echo(plan.describe())
            if apply and not plan.is_empty:
                schema_mod.apply(client, plan)
                click.echo(f"applied {len(plan.changes)} change(s)")
            elif not apply and not plan.is_empty:
                click.echo("run `copernica-sync schema apply` to make these changes")


@schema.command()
@job_options
@click.pass_context
@exits_cleanly
def plan(ctx: click.Context, job_name: str | None, all_jobs: bool) -> None:
    """Show what `schema apply` would create.  Read-only.

    \b
    Example:
      copernica-sync schema plan
    """
    _plans(ctx, job_name, all_jobs, apply=False)


@schema.command()
@job_options
@click.pass_context
@exits_cleanly
def apply(ctx: click.Context, job_name: str | None, all_jobs: bool) -> None:
    """Create the missing database, collections, fields and indexes.

    \b
    Example:
      copernica-sync schema apply
    """
    _plans(ctx, job_name, all_jobs, apply=True)
