"""Exit codes of a real ``copernica-sync`` process: 4 auth, 5 unavailable, 75 locked."""

from __future__ import annotations

import pytest

from copernica_sdk.sync.lock import JobLock

from .conftest import Project, closed_port, describe, ok

WRONG_TOKEN = "cop-token-WRONG-9d2e77f1"


def test_a_wrong_copernica_token_exits_4_with_a_clear_message(ready: Project) -> None:
    ready.write(ready.tables(copernica={"access_token": WRONG_TOKEN}))
    result = ready.run("run")
    assert result.returncode == 4, describe(result)
    assert "Authentication failed" in result.stderr
    assert "Invalid access token" in result.stderr
    assert WRONG_TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_copernica_token_names_the_setting_and_the_fix(ready: Project) -> None:
    ready.write(ready.tables(copernica={"access_token": WRONG_TOKEN}))
    result = ready.run("run")
    assert result.returncode == 4, describe(result)
    assert "copernica.access_token" in result.stderr
    assert "Access tokens" in result.stderr


def test_run_prints_an_auth_error_once(ready: Project) -> None:
    ready.write(ready.tables(copernica={"access_token": WRONG_TOKEN}))
    result = ready.run("run")
    assert result.returncode == 4, describe(result)
    assert result.stderr.count("Authentication failed") == 1, result.stderr


@pytest.mark.parametrize("command", [("check",), ("schema", "plan")])
def test_other_commands_exit_4_on_a_wrong_token(ready: Project, command: tuple[str, ...]) -> None:
    ready.write(ready.tables(copernica={"access_token": WRONG_TOKEN}))
    result = ready.invoke(*command)
    assert result.exit_code == 4, describe(result)
    assert result.stderr.count("Authentication failed") == 1


def test_a_wrong_shop_secret_exits_4(ready: Project) -> None:
    ready.write(ready.tables(source={"consumer_secret": "cs_wrong_secret_0000"}))
    result = ready.run("run")
    assert result.returncode == 4, describe(result)
    assert "cs_wrong_secret_0000" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # the real command's retries back off for real
def test_copernica_unreachable_exits_5(ready: Project) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}/"
    ready.write(ready.tables(copernica={"endpoint": endpoint}))
    result = ready.run("run")
    assert result.returncode == 5, describe(result)
    assert "Unavailable" in result.stderr and endpoint in result.stderr
    assert "next run resumes" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # the real command's retries back off for real
def test_the_shop_unreachable_exits_5(ready: Project) -> None:
    ready.write(ready.tables(source={"url": f"http://127.0.0.1:{closed_port()}"}))
    result = ready.run("run", "--stream", "customers")  # one stream: the retries take ~10 s
    assert result.returncode == 5, describe(result)
    assert "customers: read 0" in result.stderr and "FAILED: WooCommerce" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_overlapping_run_exits_75_at_once_with_a_clear_message(ready: Project) -> None:
    ok(ready.invoke("run"))  # creates the state directory
    with JobLock(f"{ready.state_path}.lock", "default"):
        result = ready.run("run")
    assert result.returncode == 75, describe(result)
    assert result.stdout == ""
    assert "job 'default' is already running" in result.stderr
    assert "exits without doing anything" in result.stderr


def test_an_overlapping_run_on_a_fresh_state_directory_exits_75(ready: Project) -> None:
    with JobLock(f"{ready.state_path}.lock", "default"):
        result = ready.run("-q", "run")
    assert result.returncode == 75, describe(result)


def test_an_overlapping_run_says_so_once(ready: Project) -> None:
    with JobLock(f"{ready.state_path}.lock", "default"):
        result = ready.run("run")
    assert result.returncode == 75, describe(result)
    assert result.stderr.count("already running") == 1, result.stderr


def test_dlq_retry_respects_the_job_lock(ready: Project) -> None:
    ok(ready.invoke("run"))
    with JobLock(f"{ready.state_path}.lock", "default"):
        result = ready.run("dlq", "retry")
    assert result.returncode == 75, describe(result)


def test_state_reset_refuses_while_the_job_runs(ready: Project) -> None:
    ok(ready.invoke("run"))
    with JobLock(f"{ready.state_path}.lock", "default"):
        result = ready.run("state", "reset", "--yes")
    assert result.returncode == 75, describe(result)


def test_the_lock_is_released_after_a_run(ready: Project) -> None:
    ok(ready.invoke("run"))
    with JobLock(f"{ready.state_path}.lock", "default"):
        pass  # would raise JobLockedError if the run had left it held
