"""The partner tools are separate from the shop side: their own package, command group and extra."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from copernica_sdk.licensing.partner import EXTRA_MODULES, INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "partner-margin"
#: The partner tools' modules, wherever they have lived.
PARTNER_MODULE = re.compile(
    r"copernica_sdk\.licensing\.(partner|partner_ledger|pricing|statement|margin)(\.|$)")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)


def test_shop_side_commands_and_the_job_runner_load_no_partner_tool() -> None:
    proc = _python(
        "import json, sys\n"
        "import copernica_sdk.licensing, copernica_sdk.jobs\n"
        "import copernica_sync.cli.cmd_run, copernica_sync.cli.cmd_check, copernica_sync.cli.cmd_usage, copernica_sync.cli.cmd_license, copernica_sync.cli.cmd_demo\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    assert proc.returncode == 0, proc.stderr
    loaded = [m for m in json.loads(proc.stdout) if PARTNER_MODULE.match(m)]
    assert loaded == []


def test_partner_commands_name_the_extra_when_a_dependency_is_missing() -> None:
    blocked = ", ".join(f"{m!r}: None" for m in EXTRA_MODULES.values())
    proc = _python(
        f"import sys\nsys.modules.update({{{blocked}}})\n"
        "from copernica_sync.cli.main import main\n"
        f"main(['partner', 'margin', {str(EXAMPLE / 'plan.toml')!r}, "
        f"{str(EXAMPLE / 'usage.csv')!r}], prog_name='copernica-sync')\n")
    assert proc.returncode == 2, proc.stderr
    assert INSTALL_HINT in proc.stderr and "werkzeug" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_partner_commands_run_when_the_extra_is_installed() -> None:
    proc = _python(
        "from copernica_sync.cli.main import main\n"
        f"main(['partner', 'margin', {str(EXAMPLE / 'plan.toml')!r}, "
        f"{str(EXAMPLE / 'usage.csv')!r}], prog_name='copernica-sync')\n")
    assert proc.returncode == 0, proc.stderr
    assert "Gross profit" in proc.stdout


def test_the_extra_declares_exactly_what_the_partner_tools_check_for() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.match(r"[A-Za-z0-9_.-]+", req)[0].lower()  # type: ignore[index]
                for req in project["optional-dependencies"]["partner"]}
    assert declared == set(EXTRA_MODULES)


def test_the_shop_listing_has_one_partner_group_and_no_partner_commands_elsewhere() -> None:
    from click.testing import CliRunner

    from copernica_sync.cli.main import COMMANDS, main

    assert "statement" not in COMMANDS  # moved under `partner`
    usage_help = CliRunner().invoke(main, ["usage", "--help"]).output
    assert "ingest" not in usage_help
    partner_help = CliRunner().invoke(main, ["partner", "--help"]).output
    assert {"ingest", "margin", "statement"} <= set(re.findall(r"^  (\w+)", partner_help, re.M))
    assert INSTALL_HINT in " ".join(partner_help.split())
