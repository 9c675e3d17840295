"""The configuration model (pydantic) is imported only on the paths that read a config
file: ``copernica-sync --help`` and ``--version`` start without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ..config_files import clean_env
from .conftest import EXECUTABLE, describe


def _imported(*args: str, cwd: Path) -> set[str]:
    """The top-level packages ``copernica-sync ARGS`` imports (``python -X importtime``)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", str(EXECUTABLE), *args],
                          capture_output=True, text=True, timeout=120, env=clean_env(),
                          cwd=cwd)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert lines, describe(proc)
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in lines}


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("run", "--help")])
def test_help_and_version_do_not_import_pydantic(args: tuple[str, ...], tmp_path: Path) -> None:
    modules = _imported(*args, cwd=tmp_path)
    assert "click" in modules  # the measurement works
    assert "pydantic" not in modules and "pydantic_settings" not in modules, sorted(modules)


def test_reading_a_config_file_imports_the_configuration_model(tmp_path: Path) -> None:
    # The other side of the test above: the run path does use it (lazily).
    assert "pydantic" in _imported("config", "show", cwd=tmp_path)
