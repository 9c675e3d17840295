"""The distribution installs next to another one that owns top-level ``cli`` and ``connectors``.

The repository keeps ``cli/`` and ``connectors/`` at its top, but the wheel installs them as
``copernica_sync.cli`` and ``copernica_sync.connectors`` (pyproject.toml).  Here both the
project's wheel, built from this checkout, and a throwaway distribution with its own top-level
``cli`` and ``connectors`` packages are installed into one directory by pip, the way a venv holds
them; then ``copernica-sync`` runs from there and the other distribution's code still is its own.

Everything comes from the project's own files: the wheel is built without build isolation when
hatchling is importable, otherwise by pip the same way ``pip install .`` builds it.  The runs use
``python -S`` with the install directory first and the running interpreter's site-packages
after it as plain directories, so no ``.pth`` file (an editable install of this checkout) can
put the repository's folders on the path and make the test pass for the wrong reason.
"""

from __future__ import annotations

import importlib.util
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

from ..config_files import clean_env

ROOT = Path(__file__).resolve().parents[2]

OTHER_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "other-cli-tool"
version = "1.0"

[tool.hatch.build.targets.wheel]
packages = ["cli", "connectors"]
"""


def _pip(*args: str, cwd: Path) -> None:
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args,
                           *isolation, "--no-deps", "--quiet"],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _other_distribution(tmp: Path) -> Path:
    project = tmp / "other"
    (project / "cli").mkdir(parents=True)
    (project / "connectors").mkdir()
    (project / "pyproject.toml").write_text(OTHER_PYPROJECT, encoding="utf-8")
    (project / "cli" / "__init__.py").write_text('WHO = "other-cli-tool cli"\n', encoding="utf-8")
    (project / "cli" / "main.py").write_text(
        "def main() -> None:\n    print('the other main')\n", encoding="utf-8")
    (project / "connectors" / "__init__.py").write_text(
        'WHO = "other-cli-tool connectors"\n', encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def venv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory holding both distributions, installed by pip (ours second, so any file
    of the same name would be overwritten by ours)."""
    tmp = tmp_path_factory.mktemp("coexist")
    _pip("wheel", "--wheel-dir", str(tmp / "wheels"), str(ROOT), cwd=tmp)
    (wheel,) = (tmp / "wheels").glob("copernica_sdk-*.whl")
    target = tmp / "site"
    _pip("install", "--target", str(target), str(_other_distribution(tmp)), cwd=tmp)
    _pip("install", "--target", str(target), str(wheel), cwd=tmp)
    return target


def _run(target: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The dependencies (click, zeep, ...) come from the running interpreter's site-packages,
    # added after the install directory as plain directories: -S processes no .pth file.
    path = os.pathsep.join([str(target), *site.getsitepackages()])
    return subprocess.run([sys.executable, "-S", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env=clean_env(PYTHONPATH=path))


def test_the_wheel_installs_no_top_level_cli_or_connectors(venv_dir: Path) -> None:
    ours = (venv_dir / "copernica_sync").resolve()
    assert (ours / "cli" / "main.py").is_file()
    assert (ours / "connectors" / "woocommerce" / "__init__.py").is_file()
    assert (ours / "connectors" / "cms_generic" / "presets" / "wordpress.toml").is_file()
    assert sorted(p.name for p in (venv_dir / "cli").iterdir() if p.suffix == ".py") == [
        "__init__.py", "main.py"]  # only the other distribution's files
    assert [p.name for p in (venv_dir / "connectors").iterdir() if p.suffix == ".py"] == [
        "__init__.py"]


def test_copernica_sync_runs_next_to_another_distributions_cli_and_connectors(
        venv_dir: Path, tmp_path: Path) -> None:
    script = venv_dir / "bin" / "copernica-sync"
    listed = _run(venv_dir, str(script), "connectors", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "woocommerce" in listed.stdout and "cms_generic" in listed.stdout, listed.stdout

    both = _run(venv_dir, "-c",
                "import copernica_sync.cli.main, copernica_sync.connectors.woocommerce\n"
                "import cli, cli.main, connectors\n"
                "print(cli.WHO); print(connectors.WHO); cli.main.main()\n"
                "print(copernica_sync.cli.main.__file__)\n",
                cwd=tmp_path)
    assert both.returncode == 0, both.stdout + both.stderr
    lines = both.stdout.splitlines()
    assert lines[:3] == ["other-cli-tool cli", "other-cli-tool connectors", "the other main"]
    assert Path(lines[3]).is_relative_to(venv_dir), lines[3]  # our wheel, not the checkout


def test_an_editable_install_exposes_only_the_distributions_own_import_names() -> None:
    """``pip install -e .`` puts hatchling's ``dev-mode-dirs`` on ``sys.path``: what they
    hold is what an editable install makes importable, and the repository's ``cli/`` and
    ``connectors/`` folders must not be among it."""
    import pkgutil
    import tomllib

    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["hatch"]["build"]["targets"]["wheel"]
    dirs = [str(ROOT / d) for d in wheel.get("dev-mode-dirs", ["."])]
    exposed = {m.name for m in pkgutil.iter_modules(dirs)}
    assert exposed == {"copernica_sdk", "copernica_sync"}

    probe = subprocess.run(
        [sys.executable, "-S", "-c",
         "import importlib.util as u, copernica_sync.cli.main as m\n"
         "print(u.find_spec('cli'), u.find_spec('connectors'), m.main.__module__)"],
        capture_output=True, text=True, timeout=60,
        env=clean_env(PYTHONPATH=os.pathsep.join([*dirs, *site.getsitepackages()])))
    assert probe.stdout.split() == ["None", "None", "copernica_sync.cli.main"], probe.stderr
