"""``copernica-sync usage show|export|flush`` — metered usage of licensed plugins.

The partner imports exports with ``copernica-sync partner ingest``.

Export and flush always work, whatever the license says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._jobs import job_options, selected_jobs
from .main import exits_cleanly

F = TypeVar("F", bound=Callable[..., Any])


def _state_paths(ctx: click.Context, state: str | None, job_name: str | None,
                 all_jobs: bool) -> list[tuple[str, str, dict[str, object]]]:
    if state:
        return [("state", state, {})]
    from copernica_sdk.sync.runner import state_location_for

    return [(job.name, str(state_location_for(job)), dict(job.license))
            for job in selected_jobs(ctx, job_name, all_jobs)]


def _state_option(func: F) -> F:
    """``--state PATH``: act on one state file rather than the config's jobs."""
    return click.option("--state", "state", type=click.Path(dir_okay=False),
                        help="A state file, instead of the config's job(s).")(func)


@click.group()
def usage() -> None:
    """Usage recorded for licensed plugins: show, export, flush to the partner.

    \b
    Examples:
      copernica-sync usage show
      copernica-sync usage export --period 2025-05 --out exports/
    """


@usage.command()
@job_options
@_state_option
@click.option("--period", default=None, help="YYYY-MM [default: all].")
@click.pass_context
@exits_cleanly
def show(ctx: click.Context, job_name: str | None, all_jobs: bool, state: str | None,
         period: str | None) -> None:
    """Totals per metric and delivery state.

    \b
    Example:
      copernica-sync usage show --period 2025-05
    """
    from copernica_sdk.licensing.export import totals
    from copernica_sdk.licensing.flush import parked
    from copernica_sdk.licensing.ledger import open_ledger, read_events

    for name, path, _ in _state_paths(ctx, state, job_name, all_jobs):
        with open_ledger(path) as conn:
            events = read_events(conn, period=period)
        click.echo(f"[{name}] {len(events)} events")
        for metric, quantity in totals(events).items():
            click.echo(f"  {metric}: {quantity:,}")
        for event_id, sink, state_, error in parked(path):
            click.echo(f"  parked {event_id} ({sink}, {state_}): {error}")


@usage.command()
@job_options
@_state_option
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--out", "out_dir", default=".", type=click.Path(file_okay=False),
              show_default=True)
@click.pass_context
@exits_cleanly
def export(ctx: click.Context, job_name: str | None, all_jobs: bool, state: str | None,
           period: str, fmt: str, out_dir: str) -> None:
    """Write a period's usage and a manifest (counts, SHA-256); same bytes every time.

    \b
    Example:
      copernica-sync usage export --period 2025-05 --format csv --out exports/
    """
    from copernica_sdk.licensing.export import export_period

    for name, path, _ in _state_paths(ctx, state, job_name, all_jobs):
        result = export_period(path, period, out_dir, fmt)
        click.echo(f"[{name}] {result.event_count} events → {result.data_path} "
                   f"(sha256 {result.sha256[:16]}…)")


@usage.command()
@job_options
@_state_option
@click.option("--url", default=None, help="Collector URL [default: [license] collector_url].")
@click.pass_context
@exits_cleanly
def flush(ctx: click.Context, job_name: str | None, all_jobs: bool, state: str | None,
          url: str | None) -> None:
    """Send pending usage to the partner's collector (HTTPS); safe to repeat.

    \b
    Example:
      copernica-sync usage flush --url https://licensing.partner.example/usage
    """
    from copernica_sdk.licensing.flush import flush as do_flush
    from copernica_sdk.licensing.sinks import HttpCollectorSink

    for name, path, table in _state_paths(ctx, state, job_name, all_jobs):
        target = url or table.get("collector_url")
        if not target:
            click.echo(f"[{name}] no collector URL (--url or [license] collector_url)", err=True)
            continue
        report = do_flush(path, HttpCollectorSink(str(target)))
        click.echo(f"[{name}] sent {report.sent}: delivered {report.delivered}, "
                   f"retry later {report.retry}, parked {report.parked}")
