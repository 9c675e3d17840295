"""``copernica-sync``: sync shops and CMSes into Copernica, from cron or by hand.

Start-up matters for a command run every few minutes: this module imports only
click; each command imports what it needs when it runs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# command name → "module:attribute", loaded on first use (not for --help of the group).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("copernica_sync.cli.cmd_init:init", "Write a commented copernica-sync.toml to start from."),
    "check": ("copernica_sync.cli.cmd_check:check", "Check the config, the source and the Copernica account."),
    "schema": ("copernica_sync.cli.cmd_schema:schema",
               "Show (plan) or create (apply) the Copernica database, fields and collections."),
    "run": ("copernica_sync.cli.cmd_run:run", "Sync the job(s): the command to put in cron."),
    "state": ("copernica_sync.cli.cmd_state:state", "Show or reset what the job remembers between runs."),
    "dlq": ("copernica_sync.cli.cmd_dlq:dlq", "List, retry or purge records that could not be synced."),
    "connectors": ("copernica_sync.cli.cmd_connectors:connectors",
                   "List the installed connectors, or write a new one to start from."),
    "config": ("copernica_sync.cli.cmd_config:config", "Show the effective configuration, secrets masked."),
    "license": ("copernica_sync.cli.cmd_license:license",
                "Verify or inspect a plugin license; keygen and issue for the partner."),
    "usage": ("copernica_sync.cli.cmd_usage:usage",
              "Show, export or flush usage recorded for licensed plugins."),
    "partner": ("copernica_sync.cli.cmd_partner:partner",
                "Partner tools (the [partner] extra): ingest usage, statements, margin."),
    "worker": ("copernica_sync.cli.cmd_scale:worker", "Run queued jobs (Celery worker; the [scale] extra)."),
    "scheduler": ("copernica_sync.cli.cmd_scale:scheduler", "Enqueue jobs at their sync.schedule (Celery beat)."),
    "enqueue": ("copernica_sync.cli.cmd_scale:enqueue", "Queue a run of a job now, for the workers."),
    "status": ("copernica_sync.cli.cmd_scale:status", "Every job's last run, exit code, records, dead letters, lag."),
    "demo": ("copernica_sync.cli.cmd_demo:demo",
             "Sync a fake WooCommerce shop into a fake Copernica, in-process: no account needed."),
}


def _no_collection_at_exit() -> None:
    """Spare the process the garbage collector's passes over every object at exit.

    Interpreter shutdown runs full collections over everything still alive: for a
    command that imported pydantic, zeep and requests that is ~50 ms of a cron run
    of ~0.45 s, spent on objects the exit frees anyway.  ``gc.freeze()`` in an exit
    handler takes them out of the collector's sight; shutdown still frees them by
    reference counting.  Nothing else changes: what a command must finish is done
    by its context managers and by the other exit handlers (``logging.shutdown``,
    ``weakref.finalize``), which do not depend on the collector, and Python does
    not promise ``__del__`` for objects alive at exit anyway (``object.__del__``).
    Registered once per process.
    """
    global _exit_handler_registered
    if not _exit_handler_registered:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _exit_handler_registered = True


_exit_handler_registered = False


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked or asked for help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry[0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; Ctrl-C and SIGTERM end it with exit 130 / 143 and a clear line.

        The job lock and the state file are released on the way out (context
        managers), and the page being written is not committed, so the next run
        resumes from the last checkpoint.
        """
        import signal

        from copernica_sdk.sync.report import Terminated

        def on_sigterm(signum: int, frame: object) -> None:
            raise Terminated

        _no_collection_at_exit()
        # Only the main thread may set handlers (an embedding caller may not be it).
        previous = None
        with contextlib.suppress(ValueError):
            previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            click.echo(("\nTerminated (SIGTERM)" if terminated else "\nInterrupted (Ctrl-C)")
                       + ": stopped before the next checkpoint; what was committed stays, "
                       "and the next run resumes from there.", err=True)
            sys.exit(143 if terminated else 130)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The short help is kept here so `copernica-sync --help` imports no command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 100})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              envvar="COPERNICA_SYNC_CONFIG", show_envvar=True,
              help="Config file.  [default: ./copernica-sync.toml]")
@click.option("-v", "--verbose", count=True, help="More output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object per line, for log shippers.")
@click.version_option(package_name="copernica-sdk", prog_name="copernica-sync")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool,
         log_format: str) -> None:
    """Sync customers and orders from shops and CMSes into Copernica.

    \b
    Typical set-up:
      copernica-sync init --connector woocommerce   # write copernica-sync.toml
      copernica-sync check                          # can we reach both sides?
      copernica-sync schema apply                   # create database, fields, collections
      copernica-sync run                            # sync; put this line in cron

    \b
    Exit codes: 0 ok, 1 some records dead-lettered, 2 config error,
    3 refused by licensing, 4 auth error, 5 source or service unavailable,
    6 state file unusable (damaged, unwritable, disk full),
    75 another run of the job is still going, 130 Ctrl-C, 143 SIGTERM.
    """
    from .output import setup_logging

    setup_logging(-1 if quiet else verbose, log_format)
    ctx.obj = {"config_path": config_path, "log_format": log_format, "quiet": quiet}


def report_error(exc: BaseException, *, prefix: str = "", resumes: bool = False) -> int | None:
    """Print one clear line (or list) for an SDK error; return its exit code.

    Returns None for click's own exceptions (let click handle them); anything else
    that is not the SDK's is a bug, reported in one line as exit 5.
    """
    from copernica_sdk.errors import (
        AuthenticationError,
        ConfigurationError,
        CopernicaError,
        HTTPStatusError,
        RedirectRefusedError,
        TransportError,
        UnsafeRequestError,
    )
    from copernica_sdk.jobs import exit_code_for
    from copernica_sdk.licensing.errors import LicenseRefusedError
    from copernica_sdk.sync.errors import ConfigError, JobLockedError, SourceAuthError, SourceError
    from copernica_sdk.sync.state_files import StateError

    from .output import REDACTOR

    def say(text: str) -> None:
        click.echo(prefix + REDACTOR.redact(text), err=True)

    code = int(exit_code_for(exc))  # the message below; the code, one mapping for all

    if isinstance(exc, ConfigError):
        say("Configuration problem" + ("s:" if len(exc.problems) > 1 else ":"))
        for problem in exc.problems:
            say(f"  - {problem}")
        return code
    if isinstance(exc, JobLockedError):
        say(str(exc))
        return code
    if isinstance(exc, StateError):
        say(f"State file problem: {exc}")
        return code
    if isinstance(exc, LicenseRefusedError):
        say(str(exc))
        return code
    if isinstance(exc, AuthenticationError):
        say(f"Authentication failed: Copernica refused the credentials ({exc.message}). "
            "Check copernica.access_token (Copernica → Admin → Access tokens; the token must "
            "belong to this account), or username/password when auth = \"login\".")
        return code
    if isinstance(exc, SourceAuthError):
        say(f"Authentication failed: {exc}")
        return code
    if isinstance(exc, ConfigurationError):  # the client's settings (an http endpoint…)
        say(f"Configuration problem: {exc}")
        return code
    if isinstance(exc, UnsafeRequestError | RedirectRefusedError):
        say(f"Refused: {exc}")  # fix the configuration (a field, the endpoint): exit 2
        return code
    if isinstance(exc, TransportError | HTTPStatusError | SourceError):
        say(f"Unavailable: {exc}" + (" — nothing was lost; the next run resumes where this "
                                     "one stopped" if resumes else "; try again later"))
        return code
    if isinstance(exc, CopernicaError):
        say(f"Error: {exc}")
        return code
    if isinstance(exc, click.ClickException | click.exceptions.Exit | click.exceptions.Abort):
        return None  # click's own: usage errors and exits keep their codes
    # A bug (ours or a connector's): one line, not a traceback, and the code the run
    # history records for it; -vv logs the traceback (redacted) for the report.
    import logging

    logging.getLogger("copernica_sync").debug("internal error", exc_info=exc)
    say(f"Internal error (a bug; please report it with the output of `copernica-sync -vv "
        f"…`): {type(exc).__name__}: {exc}. Nothing committed is lost; the next run resumes.")
    return code


def exits_cleanly(func: F) -> F:
    """Turn the SDK's errors into a clear message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            code = report_error(exc)
            if code is None:
                raise
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


if __name__ == "__main__":
    main()
