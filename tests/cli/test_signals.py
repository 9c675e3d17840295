"""Ctrl-C (SIGINT) and SIGTERM during a real ``copernica-sync run``: exit 130 / 143 with
one clear line, the lock released, the state consistent, and a re-run that ends in
exactly the state a clean sync leaves (no duplicates, nothing missing)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from collections.abc import Iterator

import pytest

from copernica_sdk.sync.lock import JobLock
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import clean_env
from ..reliability.conftest import duplicates, reference_snapshot, snapshot
from .conftest import EXECUTABLE, Gate, Project, describe, make_shop, ok


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with make_shop(customers=20, orders=40) as fake:
        yield fake


@pytest.mark.parametrize(("signum", "code", "word"), [
    (signal.SIGINT, 130, "Interrupted"),
    (signal.SIGTERM, 143, "Terminated"),
])
def test_a_signal_mid_run_exits_with_its_code_and_the_rerun_is_exact(
        ready: Project, signum: int, code: int, word: str) -> None:
    expected = reference_snapshot(ready.shop, ready.tmp)
    ready.write(ready.tables(source={"per_page": 5}))
    gate = Gate(at=4)
    ready.shop.latency = gate
    proc = subprocess.Popen([str(EXECUTABLE), "--config", str(ready.config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ready.tmp, env=clean_env(**ready.env))
    try:
        assert gate.arrived.wait(60), "the run never reached the held request"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        gate.release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ready.shop.latency = 0.0
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert proc.returncode == code, describe(result)
    assert word in err and "resumes" in err, describe(result)
    assert "Aborted!" not in err and "Traceback" not in err, describe(result)

    with JobLock(f"{ready.state_path}.lock", "default"):
        pass  # released: a re-run may start at once
    with sqlite3.connect(ready.state_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # The run history records the signal's code, not "unavailable" (5).
        last = conn.execute("SELECT exit_code FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    assert last == (code,)

    ok(ready.invoke("run"))
    assert duplicates(ready.copernica) == {}
    assert snapshot(ready.copernica) == expected
    assert "written 0" in ok(ready.invoke("run")).stdout


def test_sigterm_during_check_exits_143(ready: Project) -> None:
    """The handler covers every command, not only the engine of `run`."""
    ready.write(ready.tables(source={"per_page": 5}))
    gate = Gate(at=1)
    ready.shop.latency = gate
    proc = subprocess.Popen([str(EXECUTABLE), "--config", str(ready.config), "check"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ready.tmp, env=clean_env(**ready.env))
    try:
        assert gate.arrived.wait(60)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        gate.release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, (out, err)
    assert "Terminated" in err and "Traceback" not in err


def test_the_exit_codes_are_named() -> None:
    from copernica_sdk.sync.report import ExitCode

    assert (ExitCode.INTERRUPTED, ExitCode.TERMINATED, ExitCode.STATE) == (130, 143, 6)
