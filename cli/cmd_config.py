"""``copernica-sync config show``."""

from __future__ import annotations

import click

from ._jobs import job_options, selected_jobs
from .main import exits_cleanly


@click.group()
def config() -> None:
    """Inspect the configuration.

    \b
    Example:
      copernica-sync config show
    """


@config.command()
@job_options
@click.pass_context
@exits_cleanly
def show(ctx: click.Context, job_name: str | None, all_jobs: bool) -> None:
    """Print the effective settings, where each came from, with secrets masked.

    \b
    Example:
      copernica-sync config show --job shop1
    """
    from copernica_sdk.license_config import LicenseTable
    from copernica_sdk.sync.config import SECRET_KEYS
    from copernica_sdk.sync.connector import MASK
    from copernica_sdk.sync.mapping import parse_target
    from copernica_sdk.sync.registry import load_connector

    from .output import REDACTOR

    for job in selected_jobs(ctx, job_name, all_jobs):
        connector = load_connector(job.connector)
        # [target] is checked here too (as `check` and `run` do), not only when a job opens.
        target = parse_target(job.target, connector(
            {k: v for k, v in job.source.items() if k != "connector"}).default_mapping())
        # The connector's declared secrets, at any depth (e.g. source.auth.password).
        source = connector.masked_config(job.source)
        # The job-level tables, [license] included, secrets masked (config.SECRET_KEYS).
        license_ = LicenseTable.from_table(job.license).model_dump()
        copernica, sync, license_ = ({k: MASK if k in SECRET_KEYS and v else v
                                      for k, v in table.items()}
                                     for table in (job.copernica.model_dump(),
                                                   job.sync.model_dump(), license_))
        click.echo(f"[{job.name}]")
        sections = {"copernica": copernica, "source": source, "sync": sync, "license": license_}
        for section, values in sections.items():
            for key, value in values.items():
                if value is None:
                    continue
                # The redactor too: a secret pasted into a setting that is not one.
                shown = MASK if value == MASK else REDACTOR.redact(repr(value))
                origin = job.origins.get(f"{section}.{key}", "default")
                click.echo(f"  {section}.{key} = {shown}    ({origin})")
        click.echo(f"  target.database = {REDACTOR.redact(repr(target.database))}    "
                   f"({job.origins.get('target.database', 'default')})")
        if job.target:
            click.echo("  target: overrides the connector's default mapping "
                       f"({', '.join(sorted(job.target))})")
