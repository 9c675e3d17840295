"""Commands that change the state take the job lock: while a run holds it, ``state reset``,
``dlq retry`` and ``dlq purge`` exit 75 and say what they did not do — however the state
path is written (``~``, ``$HOME``, relative, through a symlink).  Two jobs may not share
one state file, whatever the spelling, the default location included."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk.sync.lock import JobLock
from copernica_sdk.sync.state import StateStore
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import clean_env, toml_text
from .conftest import EXECUTABLE, Gate, Project, describe, make_shop, ok

LOCKED_COMMANDS = {
    ("state", "reset", "--yes"): "nothing was reset",
    ("dlq", "retry"): "no dead letter was retried",
    ("dlq", "purge", "--yes"): "nothing was purged",
}


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with make_shop(customers=20, orders=40) as fake:
        yield fake


def test_state_changing_commands_wait_for_a_running_full_refresh(ready: Project) -> None:
    ok(ready.invoke("run"))
    with StateStore(ready.state_path) as store:
        before = store.bookmarks()
    ready.write(ready.tables(source={"per_page": 5}))
    gate = Gate(at=3)
    ready.shop.latency = gate
    proc = subprocess.Popen([str(EXECUTABLE), "--config", str(ready.config), "run",
                             "--full-refresh"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ready.tmp, env=clean_env(**ready.env))
    try:
        assert gate.arrived.wait(60), "the run never reached the held request"
        for command, said in LOCKED_COMMANDS.items():
            result = ready.invoke(*command)
            assert result.exit_code == 75, f"{command}\n{describe(result)}"
            assert "already running" in result.stderr and said in result.stderr, describe(result)
        with StateStore(ready.state_path) as store:
            assert store.bookmarks() == before  # the reset did not happen
    finally:
        gate.release.set()
        out, err = proc.communicate(timeout=120)
    ready.shop.latency = 0.0
    assert proc.returncode == 0, (out, err)
    # Once the run is done, they work.
    for command in LOCKED_COMMANDS:
        assert ready.invoke(*command).exit_code in (0, 1)


def _spellings(project: Project) -> dict[str, tuple[str, dict[str, str]]]:
    """The run's state file written other ways, with the environment each needs."""
    real = project.state_path
    link = project.tmp / "link"
    link.symlink_to(real.parent, target_is_directory=True)
    home = {"HOME": str(project.tmp)}
    return {
        "tilde": (f"~/{real.relative_to(project.tmp)}", home),
        "dollar-var": (f"$HOME/{real.relative_to(project.tmp)}", home),
        "braced-var": ("${STATE_DIR}/" + real.name, {"STATE_DIR": str(real.parent)}),
        "relative": (str(real.relative_to(project.tmp)), {}),
        "symlink": (str(link / real.name), {}),
        "dot-dot": (str(real.parent / ".." / real.parent.name / real.name), {}),
    }


@pytest.mark.parametrize("spelling", ["tilde", "dollar-var", "braced-var", "relative",
                                      "symlink", "dot-dot"])
def test_the_lock_is_the_same_however_the_state_path_is_written(ready: Project,
                                                                spelling: str) -> None:
    ok(ready.invoke("run"))
    path, env = _spellings(ready)[spelling]
    ready.write(ready.tables(sync={"state_path": path}))
    with JobLock(f"{ready.state_path}.lock", "default"):
        for command, said in LOCKED_COMMANDS.items():
            result = ready.invoke(*command, env=env)
            assert result.exit_code == 75, f"{spelling} {command}\n{describe(result)}"
            assert said in result.stderr
        result = ready.invoke("run", env=env)
        assert result.exit_code == 75, describe(result)
    # The spelling reaches the very same state: nothing to write.
    assert "written 0" in ok(ready.invoke("run", env=env)).stdout


def _two_jobs(project: Project, a: str | None, b: str | None) -> None:
    tables: dict[str, dict[str, object]] = {
        "copernica": {"access_token": "x-token", "endpoint": project.copernica.url},
        "source": project.shop.source_config(),
    }
    for name, path in (("a", a), ("b", b)):
        if path is not None:
            tables[f"jobs.{name}.sync"] = {"state_path": path}
        else:
            tables[f"jobs.{name}.target"] = {}
    project.write(toml_text(tables))


def test_two_jobs_sharing_a_state_file_are_refused_whatever_the_spelling(
        project: Project) -> None:
    project.state_path.parent.mkdir(parents=True)
    for spelling, (path, env) in _spellings(project).items():
        _two_jobs(project, str(project.state_path), path)
        result = project.invoke("config", "show", "--all", env=env)
        assert result.exit_code == 2, f"{spelling}: {path}\n{describe(result)}"
        assert "jobs.b.sync.state_path: the same file as job 'a'" in result.stderr, \
            describe(result)


def test_a_job_whose_state_path_is_another_jobs_default_is_refused(project: Project) -> None:
    env = {"HOME": str(project.tmp), "XDG_STATE_HOME": str(project.tmp / "xdg")}
    default_of_a = Path(env["XDG_STATE_HOME"]) / "copernica-sync" / "a.sqlite3"
    _two_jobs(project, None, str(default_of_a))
    result = project.invoke("config", "show", "--all", env=env)
    assert result.exit_code == 2, describe(result)
    assert "jobs.b.sync.state_path: the same file as job 'a'" in result.stderr, describe(result)
    _two_jobs(project, None, "~/b-only.sqlite3")
    ok(project.invoke("config", "show", "--all", env=env))


def test_an_unset_variable_in_the_state_path_is_a_config_error(project: Project) -> None:
    project.write(project.tables(sync={"state_path": "$NO_SUCH_DIR_VAR/shop.sqlite3"}))
    result = project.invoke("config", "show")
    assert result.exit_code == 2, describe(result)
    assert "sync.state_path: environment variable NO_SUCH_DIR_VAR is not set" in result.stderr
