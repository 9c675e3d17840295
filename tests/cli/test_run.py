"""``copernica-sync run``: summaries, incremental re-runs, --dry-run, --limit, --stream, logs."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import threading

import pytest

from ..config_files import clean_env
from .conftest import EXECUTABLE, Project, describe, ok

SUMMARY = re.compile(
    r"^(?P<stream>\w+): read (?P<read>\d+), written (?P<written>\d+) \((?P<profiles>\d+) profile "
    r"and (?P<subs>\d+) subprofile upserts\), unchanged (?P<unchanged>\d+), "
    r"dead-lettered (?P<dead>\d+)(, \d+ values? repaired \(see warnings\))?(, bookmark \S+)?$")


def summaries(stdout: str) -> dict[str, dict[str, int]]:
    """stream → counts, from the one summary line per stream; every line must be one."""
    out: dict[str, dict[str, int]] = {}
    for line in stdout.splitlines():
        match = SUMMARY.match(line.removeprefix("(dry run) "))
        assert match, f"not a summary line: {line!r}"
        out[match["stream"]] = {k: int(v) for k, v in match.groupdict().items()
                                if k != "stream"}
    return out


def state_rows(project: Project, table: str) -> int:
    with sqlite3.connect(project.state_path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_initial_run_exits_0_with_one_summary_line_per_stream(ready: Project) -> None:
    result = ready.run("run")  # a real process: stderr is not a terminal, as under cron
    assert result.returncode == 0, describe(result)
    counts = summaries(result.stdout)
    assert list(counts) == ["customers", "orders"]
    assert counts["customers"]["read"] == len(ready.shop.customers)
    assert counts["orders"]["read"] == len(ready.shop.orders)
    assert counts["customers"]["written"] == counts["customers"]["read"]
    assert counts["orders"]["written"] == counts["orders"]["read"]
    assert counts["orders"]["subs"] > 0
    assert result.stdout.count("bookmark ") == 2
    # No progress bar (carriage returns, escapes) when not on a terminal.
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    people = {c["email"].strip().lower() for c in ready.shop.customers}
    people |= {o["billing"]["email"].strip().lower() for o in ready.shop.orders}
    assert len(ready.copernica.profiles("Customers")) <= len(people)
    assert ready.copernica.duplicates("Customers", "customer_key") == {}


def test_a_second_run_makes_no_copernica_writes(ready: Project) -> None:
    ok(ready.invoke("run"))
    ready.copernica.reset_calls()
    result = ok(ready.invoke("run"))
    assert ready.copernica.write_calls() == 0
    for counts in summaries(result.stdout).values():
        assert counts["written"] == 0 and counts["unchanged"] == counts["read"]


def test_a_changed_order_is_the_only_write_of_the_next_run(ready: Project) -> None:
    ok(ready.invoke("run"))
    order = ready.shop.orders[0]
    ready.shop.advance(60)
    ready.shop.update_order(order["id"], status="completed")
    result = ok(ready.invoke("run"))
    counts = summaries(result.stdout)
    assert counts["orders"]["written"] == 1
    assert counts["customers"]["written"] == 0
    statuses = {s["fields"]["order_id"]: s["fields"]["status"]
                for s in ready.copernica.subprofiles("Orders", database="Customers")}
    assert statuses[str(order["id"])] == "completed"


def test_dry_run_writes_nothing_and_saves_no_state(ready: Project) -> None:
    ready.copernica.reset_calls()
    result = ok(ready.invoke("run", "--dry-run"))
    assert ready.copernica.write_calls() == 0
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("(dry run) ") for line in lines)
    counts = summaries(result.stdout)
    assert counts["customers"]["written"] == len(ready.shop.customers)  # would be written
    assert "bookmark" not in result.stdout
    if ready.state_path.exists():
        for table in ("bookmarks", "hashes", "runs", "dead_letters"):
            assert state_rows(ready, table) == 0, table
    shown = ok(ready.invoke("state", "show"))
    assert "bookmark customers" not in shown.stdout and "run 1" not in shown.stdout
    # The real run afterwards still has everything to do.
    counts = summaries(ok(ready.invoke("run")).stdout)
    assert counts["customers"]["written"] == len(ready.shop.customers)


def test_dry_run_creates_no_state_file(ready: Project) -> None:
    ok(ready.invoke("run", "--dry-run"))
    assert not ready.state_path.exists()


def test_limit_stops_each_stream_after_n_records(ready: Project) -> None:
    result = ok(ready.invoke("run", "--limit", "3"))
    counts = summaries(result.stdout)
    assert counts["customers"]["read"] == 3
    assert counts["orders"]["read"] == 3
    # The rest comes with the next run.
    rest = summaries(ok(ready.invoke("run")).stdout)
    assert rest["customers"]["written"] == len(ready.shop.customers) - 3


def test_limit_must_be_positive(ready: Project) -> None:
    result = ready.invoke("run", "--limit", "0")
    assert result.exit_code == 2
    assert "--limit" in result.stderr


def test_stream_runs_only_that_stream(ready: Project) -> None:
    result = ok(ready.invoke("run", "--stream", "orders"))
    assert list(summaries(result.stdout)) == ["orders"]
    shown = ok(ready.invoke("state", "show")).stdout
    assert "bookmark orders:" in shown and "bookmark customers:" not in shown


def test_an_unknown_stream_is_a_config_error_naming_the_known_ones(ready: Project) -> None:
    result = ready.invoke("run", "--stream", "products")
    assert result.exit_code == 2, describe(result)
    assert "--stream" in result.stderr and "products" in result.stderr
    assert "customers, orders" in result.stderr


def test_quiet_prints_nothing_when_all_is_well(ready: Project) -> None:
    result = ready.run("-q", "run")
    assert result.returncode == 0, describe(result)
    assert result.stdout == "" and result.stderr == ""


def test_json_log_format_emits_one_json_object_per_stderr_line(ready: Project) -> None:
    result = ready.run("--log-format", "json", "-v", "run")
    assert result.returncode == 0, describe(result)
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert entries
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
    finished = [e for e in entries if e.get("event") == "run_finished"]
    assert len(finished) == 1
    assert finished[0]["job"] == "default" and finished[0]["exit_code"] == 0
    assert finished[0]["counts"]["read"] == len(ready.shop.customers) + len(ready.shop.orders)
    # The summaries stay on stdout, as text.
    assert list(summaries(result.stdout)) == ["customers", "orders"]


def test_verbose_shows_info_and_debug_logs(ready: Project) -> None:
    info = ready.run("-v", "run")
    assert info.returncode == 0, describe(info)
    assert "INFO copernica_sync: run finished" in info.stderr
    assert "DEBUG" not in info.stderr
    debug = ready.run("-vv", "run")
    assert debug.returncode == 0, describe(debug)
    assert "DEBUG " in debug.stderr


def test_run_records_itself_in_state(ready: Project) -> None:
    ok(ready.invoke("run"))
    shown = ok(ready.invoke("state", "show")).stdout
    assert re.search(r"run 1: \S+ → \S+, exit 0, ", shown), shown


def test_full_refresh_resends_everything(ready: Project) -> None:
    ok(ready.invoke("run"))
    ready.copernica.reset_calls()
    result = ok(ready.invoke("run", "--full-refresh"))
    counts = summaries(result.stdout)
    assert counts["customers"]["written"] == len(ready.shop.customers), result.stdout
    assert counts["orders"]["written"] == len(ready.shop.orders), result.stdout
    assert ready.copernica.write_calls() > 0
    assert ready.copernica.duplicates("Customers", "customer_key") == {}


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_gets_a_live_progress_line_and_the_summaries(ready: Project) -> None:
    leader, follower = os.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # keep the terminal from filling up while the run writes to it
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once every writer has closed it
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run([str(EXECUTABLE), "--config", str(ready.config), "run"],
                              stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120,
                              env=clean_env(), cwd=ready.tmp)
    finally:
        os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, proc.stdout + terminal
    assert "\rcustomers: " in terminal and "records/s)" in terminal
    assert list(summaries(proc.stdout)) == ["customers", "orders"]
