"""The suite does not depend on what else is installed, and loads no plugin unasked.

A partner develops a connector next to an editable SDK, so the venv registers
more connectors than ours; the tests that look at "every connector" must still
pass there.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from ..config_files import clean_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello_connector"


def _third_party_site(tmp: Path) -> Path:
    """A site directory registering a connector from another distribution."""
    dist = tmp / "site" / "acme_thirdparty_connector-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-thirdparty-connector\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[copernica_sdk.connectors]\nacme_thirdparty = hello_connector:HelloConnector\n",
        encoding="utf-8")
    return dist.parent


def _pytest(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(PYTHONPATH=f"{_third_party_site(tmp)}:{EXAMPLE}")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                           *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_the_connector_tests_pass_with_a_third_party_connector_installed(tmp_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-c", "from copernica_sdk.sync.registry import discover; "
                               "print(sorted(discover()))"],
        capture_output=True, text=True, timeout=60,
        env=clean_env(PYTHONPATH=f"{_third_party_site(tmp_path / 'a')}:{EXAMPLE}"))
    assert "acme_thirdparty" in listed.stdout, listed.stdout + listed.stderr  # it is installed

    ran = _pytest(tmp_path / "b",
                  "tests/cli/test_state.py::test_connectors_list_skips_disabled_plugins")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    collected = _pytest(tmp_path / "c", "--collect-only", "tests/cli/test_secret_depth.py",
                        "tests/cli/test_config_types.py")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "acme_thirdparty" not in collected.stdout


def test_installing_the_sdk_registers_no_pytest_plugin() -> None:
    ours = [ep for ep in entry_points(group="pytest11")
            if ep.value.split(".")[0] in {"copernica_sdk", "copernica_sync"}]
    assert ours == [], "the fixture plugins are opt-in: pytest_plugins = [...] or -p"
