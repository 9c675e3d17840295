"""``copernica-sync run``."""

from __future__ import annotations

import logging
import sys

import click

from ._jobs import job_options, selected_jobs
from .main import exits_cleanly, report_error

log = logging.getLogger("copernica_sync")

# When several jobs run, the exit code is the most serious of theirs.
_SEVERITY = [75, 3, 4, 6, 5, 2, 1, 0]


@click.command()
@job_options
@click.option("--full-refresh", is_flag=True,
              help="Ignore bookmarks and change digests: resend everything (still upserts, "
                   "never duplicates).")
@click.option("--dry-run", is_flag=True,
              help="Read and map, report what would be written; write nothing, save nothing.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Stop each stream after N records (for trying a mapping).")
@click.option("--stream", "streams", multiple=True, metavar="NAME",
              help="Only this stream (repeatable).")
@click.pass_context
@exits_cleanly
def run(ctx: click.Context, job_name: str | None, all_jobs: bool, full_refresh: bool,
        dry_run: bool, limit: int | None, streams: tuple[str, ...]) -> None:
    """Sync the job: read what changed since the last run and upsert it into Copernica.

    Safe to run from cron: an overlapping run exits at once with code 75, a killed
    run resumes where it stopped, and every write is an upsert by key.

    \b
    Examples:
      copernica-sync run
      copernica-sync --config /etc/copernica/shops.toml run --all
      */10 * * * *  copernica-sync --config /etc/copernica/shop.toml -q run
    """
    from copernica_sdk.jobs import open_job, run_job

    from .output import REDACTOR, Progress

    codes: list[int] = []
    jobs = selected_jobs(ctx, job_name, all_jobs)
    for job_config in jobs:
        prefix = f"[{job_config.name}] " if len(jobs) > 1 else ""
        REDACTOR.add(job_config.secrets())
        try:
            with open_job(job_config, dry_run=dry_run) as job:
                REDACTOR.add(job.secrets())
                progress = Progress()
                report = run_job(job, job.options(full_refresh=full_refresh, dry_run=dry_run,
                                                  limit=limit, streams=streams or None),
                                 progress=progress)
                progress.done()
        except Exception as exc:
            code = report_error(exc, prefix=prefix, resumes=True)
            if code is None:
                raise
            codes.append(code)
            continue
        for stream in report.streams:
            line = prefix + ("(dry run) " if dry_run else "") + stream.summary()
            if not ctx.obj.get("quiet") or stream.error:
                click.echo(REDACTOR.redact(line), err=bool(stream.error))
        if not ctx.obj.get("quiet"):
            for line in report.skipped_stream_lines():  # gated by the license
                click.echo(prefix + line)
        dead = report.totals()["dead_lettered"]
        if dead:  # said even with -q: cron mail must tell why the exit code is 1
            click.echo(f"{prefix}{dead} record(s) could not be synced and were dead-lettered; "
                       "see `copernica-sync dlq list`", err=True)
        log.info("run finished in %.1f s with exit code %d", report.seconds,
                 int(report.exit_code),
                 extra={"event": "run_finished", "job": job_config.name,
                        "counts": report.totals(), "exit_code": int(report.exit_code)})
        codes.append(int(report.exit_code))
    sys.exit(min(codes, key=_SEVERITY.index) if codes else 0)
