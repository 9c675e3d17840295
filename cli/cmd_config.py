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
    from copernica_sdk.sync.config import SECRET_KEYS
    from copernica_sdk.sync.registry import discover

    infos = discover()
    for job in selected_jobs(ctx, job_name, all_jobs):
        info = infos.get(job.connector)
        secret_source = (info.connector.secret_fields() if info and info.connector
                         else frozenset())
        click.echo(f"[{job.name}]")
        sections = {"copernica": vars(job.copernica), "source": dict(job.source),
                    "sync": vars(job.sync)}
        for section, values in sections.items():
            secret = SECRET_KEYS | (secret_source if section == "source" else frozenset())
            for key, value in values.items():
                if value is None:
                    continue
                shown = "********" if key in secret and value else repr(value)
                origin = job.origins.get(f"{section}.{key}", "default")
                click.echo(f"  {section}.{key} = {shown}    ({origin})")
        if job.target:
            click.echo("  target: overrides the connector's default mapping "
                       f"({', '.join(sorted(job.target))})")
