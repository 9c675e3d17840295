"""The cron path: ``copernica-sync -q run`` with nothing to do imports only what it uses.

Licensing's signing and token code (cryptography, PyJWT), the usage flush and export,
and the REST building blocks a connector does not use (paginators, RestStream) load
on first use — a run of a connector that is not a licensed plugin, with no
collector configured, never needs them (issue 12, target 5: the cron cost).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..config_files import clean_env
from ..reliability.licensed_connector import NAME, install_plugin
from .conftest import EXECUTABLE, Project, describe, ok

ROOT = Path(__file__).resolve().parents[2]

#: Modules the nothing-to-do run of an unlicensed connector must not import.
NOT_ON_THE_CRON_PATH = (
    "cryptography", "jwt",
    "copernica_sdk.licensing.export", "copernica_sdk.licensing.flush",
    "copernica_sdk.licensing.jws", "copernica_sdk.licensing.keys",
    "copernica_sdk.licensing.ledger", "copernica_sdk.licensing.meter",
    "copernica_sdk.licensing.sinks", "copernica_sdk.licensing.token",
    "copernica_sdk.licensing.usage_signing",
    "copernica_sdk.sync.rest.paginators", "copernica_sdk.sync.rest.stream",
)


def _run_imports(project: Project, *args: str, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``copernica-sync --config FILE ARGS`` under ``python -X importtime``; its
    result and every module (dotted name) it imported."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(EXECUTABLE), "--config", str(project.config),
         *args], capture_output=True, text=True, timeout=120, cwd=project.tmp,
        env=clean_env(**project.env, **(env or {})))
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert lines, describe(proc)
    return proc, {line.rsplit("|", 1)[-1].strip() for line in lines}


def _prefixed(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_a_run_with_nothing_to_do_loads_no_licensing_crypto_or_unused_rest_modules(
        ready: Project) -> None:
    ok(ready.invoke("-q", "run"))  # the initial sync; the next run has nothing to do
    proc, modules = _run_imports(ready, "-q", "run")
    assert proc.returncode == 0, describe(proc)
    # The measurement works: the run read the config, the shop and Copernica.
    assert {"pydantic", "requests", "zeep", "copernica_sdk.licensing.preflight"} <= modules
    assert _prefixed(modules, NOT_ON_THE_CRON_PATH) == []


def test_a_licensed_plugin_run_still_verifies_its_token(ready: Project, tmp_path: Path) -> None:
    # The other side: what the cron path leaves out is loaded when it is needed.
    plugins = install_plugin(tmp_path / "plugins")
    ready.write(ready.tables(source={"connector": NAME}, license={"mode": "observe"}))
    env = {"PYTHONPATH": os.pathsep.join([str(plugins), str(ROOT)])}
    proc, modules = _run_imports(ready, "-q", "run", env=env)
    assert proc.returncode == 0, describe(proc)
    assert {"jwt", "copernica_sdk.licensing.meter", "copernica_sdk.licensing.usage_signing"} \
        <= modules, sorted(modules)


def test_a_command_process_skips_the_collectors_passes_at_exit(tmp_path: Path) -> None:
    # Shutdown's full collections over every live object cost ~50 ms of a cron run;
    # the objects are frozen (out of the collector's sight) by the last exit handler.
    # An exit handler registered before the command runs after it and sees them frozen.
    script = ("import atexit, gc, sys\n"
              "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
              "from copernica_sync.cli.main import main\n"
              "sys.argv = ['copernica-sync', 'connectors', 'list']\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=clean_env())
    assert proc.returncode == 0, describe(proc)
    assert "frozen at exit: True" in proc.stdout, describe(proc)
