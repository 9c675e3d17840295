"""``copernica-sync check``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._jobs import job_options, selected_jobs
from .main import exits_cleanly

if TYPE_CHECKING:
    from copernica_sdk.sync.config import JobConfig


@click.command()
@job_options
@click.pass_context
@exits_cleanly
def check(ctx: click.Context, job_name: str | None, all_jobs: bool) -> None:
    """Check the configuration, that the source answers, and that Copernica accepts
    the credentials and has the mapped database.

    \b
    Example:
      copernica-sync check
    """
    from copernica_sdk import schema as schema_mod
    from copernica_sdk.sync.runner import open_job, schema_for

    from .output import REDACTOR

    jobs = selected_jobs(ctx, job_name, all_jobs)
    _check_license_tables(jobs)
    for job_config in jobs:
        REDACTOR.add(job_config.secrets())
        with open_job(job_config) as job:
            REDACTOR.add(job.secrets())
            click.echo(f"[{job_config.name}] config: ok")
            _license_line(job_config)
            job.connector.check()
            click.echo(f"[{job_config.name}] source ({job_config.connector}): ok")
            plan = schema_mod.plan(job.client, schema_for(job.target))
            click.echo(f"[{job_config.name}] Copernica: credentials ok")
            if plan.is_empty and not plan.conflicts:
                click.echo(f"[{job_config.name}] schema: up to date")
            else:
                click.echo(f"[{job_config.name}] schema: {len(plan.changes)} missing, "
                           f"{len(plan.conflicts)} conflict(s); see `copernica-sync schema plan`")


def _license_line(job_config: JobConfig) -> None:
    """The license state (valid until …, grace, wrong shop, missing) and gated streams."""
    from copernica_sdk.jobs import license_decision

    decision = license_decision(job_config)
    if decision.plugin_id is not None:
        click.echo(f"[{job_config.name}] license: {decision.summary()}")
        for stream, why in sorted(decision.skipped().items()):
            click.echo(f"[{job_config.name}] {stream}: skipped ({why})")


def _check_license_tables(jobs: list[JobConfig]) -> None:
    """``[license]`` of every job, before anything is reached: the types were checked
    when the file was loaded; here, that the files it names are there (a run would
    find out only when it starts, and go on unlicensed).  Exit 2, every problem."""
    from copernica_sdk.errors import ConfigError
    from copernica_sdk.license_config import LicenseTable, license_file_problems
    from copernica_sdk.licensing.preflight import ENV_TOKEN

    problems = [problem for job in jobs for problem in license_file_problems(
        LicenseTable.from_table(job.license), token_env=ENV_TOKEN,
        prefix="license" if job.name == "default" else f"jobs.{job.name}.license")]
    if problems:
        raise ConfigError(problems)
