"""Shared command-line plumbing: the config file and which job(s) a command acts on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from copernica_sdk.sync.config import ConfigFile, JobConfig

F = TypeVar("F", bound=Callable[..., Any])


def job_options(func: F) -> F:
    """``--job NAME`` and ``--all`` for commands that act on jobs."""
    func = click.option("--all", "all_jobs", is_flag=True,
                        help="Every job in the config file.")(func)
    func = click.option("--job", "job_name", metavar="NAME",
                        help="The job (a [jobs.NAME] table); needed when there are several.")(func)
    return func


def load(ctx: click.Context) -> ConfigFile:
    from copernica_sdk.sync.config import load_config, resolve_config_path

    return load_config(resolve_config_path(ctx.obj.get("config_path")))


def selected_jobs(ctx: click.Context, job_name: str | None, all_jobs: bool) -> list[JobConfig]:
    config = load(ctx)
    if all_jobs:
        return list(config.jobs.values())
    return [config.job(job_name)]
