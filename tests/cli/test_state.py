"""``state show`` / ``state reset`` and ``connectors list``."""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import Project, describe, ok
from .test_run import summaries


def test_state_show_before_any_run(ready: Project) -> None:
    result = ok(ready.invoke("state", "show"))
    assert result.stdout == f"[default] state: {ready.state_path}\n  (no runs yet)\n"


def test_state_show_after_a_run_lists_bookmarks_counts_and_runs(ready: Project) -> None:
    ok(ready.invoke("run"))
    shown = ok(ready.invoke("state", "show")).stdout
    assert shown.startswith(f"[default] state: {ready.state_path}\n")
    assert re.search(r"^  bookmark customers: \d{4}-\d\d-\d\dT", shown, re.MULTILINE)
    assert re.search(r"^  bookmark orders: \d{4}-\d\d-\d\dT", shown, re.MULTILINE)
    assert "  open_dead_letters: 0" in shown
    assert "  runs: 1" in shown
    assert re.search(r"^  run 1: .* exit 0, \{'read': \d+", shown, re.MULTILINE)


def test_state_reset_yes_makes_the_next_run_resend_everything(ready: Project) -> None:
    ok(ready.invoke("run"))
    reset = ok(ready.invoke("state", "reset", "--yes"))
    assert reset.stdout == "[default] reset every stream; the next run resends everything\n"
    assert "bookmark" not in ok(ready.invoke("state", "show")).stdout.replace("bookmarks:", "")
    counts = summaries(ok(ready.invoke("run")).stdout)
    assert counts["customers"]["read"] == len(ready.shop.customers)
    assert counts["customers"]["written"] == len(ready.shop.customers)
    assert ready.copernica.duplicates("Customers", "customer_key") == {}


def test_state_reset_one_stream(ready: Project) -> None:
    ok(ready.invoke("run"))
    reset = ok(ready.invoke("state", "reset", "--stream", "orders", "--yes"))
    assert "reset stream 'orders'" in reset.stdout
    shown = ok(ready.invoke("state", "show")).stdout
    assert "bookmark customers:" in shown and "bookmark orders:" not in shown
    counts = summaries(ok(ready.invoke("run")).stdout)
    assert counts["orders"]["read"] == len(ready.shop.orders)
    assert counts["customers"]["written"] == 0


def test_state_reset_asks_first_and_no_keeps_the_bookmarks(ready: Project) -> None:
    ok(ready.invoke("run"))
    result = ready.invoke("state", "reset", input="n\n")
    assert result.exit_code == 0, describe(result)
    assert "forget the bookmarks of every stream?" in result.stdout
    assert "bookmark customers:" in ok(ready.invoke("state", "show")).stdout


@pytest.mark.parametrize("command", [("state", "reset"), ("dlq", "purge")])
def test_a_confirmation_without_an_answer_changes_nothing_and_names_yes(
        ready: Project, command: tuple[str, ...]) -> None:
    """stdin closed (cron without --yes): exit 2 naming --yes, not "Aborted!" and exit 1
    (which means "dead-lettered")."""
    ok(ready.invoke("run"))
    result = ready.invoke(*command, input="")
    assert result.exit_code == 2, describe(result)
    assert "--yes" in result.stderr and "Aborted!" not in result.output + result.stderr
    assert "bookmark customers:" in ok(ready.invoke("state", "show")).stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG layout is Linux's")
def test_state_lives_in_the_user_state_directory_by_default(project: Project) -> None:
    tables = project.tables()
    del tables["sync"]
    project.write(tables)
    xdg = project.tmp / "xdg-state"
    shown = ok(project.invoke("state", "show", env={"XDG_STATE_HOME": str(xdg)}))
    assert shown.stdout.splitlines()[0] \
        == f"[default] state: {xdg / 'copernica-sync' / 'default.sqlite3'}"
    assert not xdg.exists()  # showing state creates none


def test_connectors_list_shows_woocommerce(project: Project) -> None:
    result = ok(project.invoke("connectors", "list"))
    line = next(line for line in result.stdout.splitlines() if line.startswith("woocommerce "))
    assert "copernica-sdk" in line and "WooCommerce" in line


def test_connectors_list_skips_disabled_plugins(project: Project) -> None:
    # Only the connectors this test disables may disappear: any other installed
    # plugin (a partner's, next to an editable SDK) stays listed.
    ours = {"woocommerce", "cms_generic"}
    everything = ok(project.invoke("connectors", "list")).stdout.splitlines()
    assert {line.split()[0] for line in everything} >= ours
    others = [line for line in everything if line.split()[0] not in ours]
    result = ok(project.invoke("connectors", "list",
                               env={"COPERNICA_SYNC_DISABLE_PLUGINS": ",".join(sorted(ours))}))
    assert result.stdout.splitlines() == (others or ["no connectors installed"])
