"""Shared command-line plumbing: the config file and which job(s) a command acts on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from copernica_sdk.sync.config import ConfigFile, JobConfig

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def job_options(func: F) -> F:
    """``--job NAME`` and ``--all`` for commands that act on jobs."""
    func = click.option("--all", "all_jobs", is_flag=True,
                        help="Every job in the config file.")(func)
    func = click.option("--job", "job_name", metavar="NAME",
                        help="The job (a [jobs.NAME] table); needed when there are several.")(func)
    return func


class NoAnswer(click.ClickException):
    """A question nobody can answer (stdin closed): a configuration matter, exit 2.
    Not a :class:`click.UsageError`: the command line itself was fine."""

    exit_code = 2


def answered(ask: Callable[[], T], instead: str) -> T:
    """The answer ``ask`` (a click prompt) gets.  Without one (stdin closed, as under
    cron or CI) nothing is done and the command ends with exit 2 saying ``instead``
    (the option or variable to use), not click's "Aborted!" with exit 1 (which means
    "dead-lettered"); Ctrl-C at the prompt stays an interrupt (exit 130)."""
    try:
        return ask()
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise NoAnswer("no answer to the question (stdin is closed); nothing was "
                       f"changed. {instead}") from None


def confirmed(question: str) -> bool:
    """Ask ``question``; False for "no".  Without an answer: see :func:`answered`."""
    return answered(lambda: click.confirm(question), "Pass --yes to go ahead without asking.")


def load(ctx: click.Context) -> ConfigFile:
    """Load the config file; warn if it holds literal secrets others can read.

    Every secret of every job goes to the redactor at once, so that nothing a
    command prints or logs afterwards — errors included — shows one.
    """
    from copernica_sdk.sync.config import load_config, resolve_config_path

    from .output import REDACTOR

    config = load_config(resolve_config_path(ctx.obj.get("config_path")))
    for job in config.jobs.values():
        REDACTOR.add(job.secrets())
    warn_if_readable(config)
    return config


def warn_if_readable(config: ConfigFile) -> None:
    """Like ssh with a private key: a file holding secrets as plain values should be
    readable by its owner only (or name ``${VAR}`` instead)."""
    import os
    import stat

    keys = sorted({key for job in config.jobs.values() for key in job.literal_secrets})
    if not keys:
        return
    try:
        mode = stat.S_IMODE(os.stat(config.path).st_mode)
    except OSError:
        return
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    logging.getLogger("copernica_sync").warning(
        "%s holds secrets as plain values (%s) and is readable by %s (mode %s): "
        "run `chmod 600 %s`, or write them as \"${VAR}\" and set the variables "
        "in the environment", config.path, ", ".join(keys),
        "group and others" if mode & stat.S_IRWXG and mode & stat.S_IRWXO
        else "its group" if mode & stat.S_IRWXG else "others",
        oct(mode)[2:].zfill(3), config.path)


def selected_jobs(ctx: click.Context, job_name: str | None, all_jobs: bool) -> list[JobConfig]:
    config = load(ctx)
    if all_jobs:
        return list(config.jobs.values())
    return [config.job(job_name)]
