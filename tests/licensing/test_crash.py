"""A process SIGKILLed between checkpoint commit and flush loses nothing, counts nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.flush import flush
from copernica_sdk.licensing.sinks import HttpCollectorSink
from copernica_sdk.licensing.token import sign_token

from .collector import running_collector
from .conftest import make_claims

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _child(tmp_path: Path, key: Ed25519PrivateKey, mode: str, *extra: str) -> subprocess.Popen[str]:
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    token = sign_token(make_claims(), key)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.licensing.crash_child", str(tmp_path / "state.sqlite3"),
         str(pem), token, mode, *extra],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_for(proc: subprocess.Popen[str], word: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(word):
            return line
    raise AssertionError(f"child ended without {word}: exit {proc.wait()}")


def test_killed_after_commit_before_flush_loses_nothing(tmp_path: Path,
                                                        partner_key: Ed25519PrivateKey) -> None:
    proc = _child(tmp_path, partner_key, "sleep")
    try:
        line = _wait_for(proc, "COMMITTED")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and line.split()[1] == "10"
    with running_collector(tmp_path / "partner.sqlite3") as (url, ledger, _):
        first = flush(tmp_path / "state.sqlite3", HttpCollectorSink(url))
        second = flush(tmp_path / "state.sqlite3", HttpCollectorSink(url))
        assert first.delivered == 5 and second.sent == 0     # 4 pages + 1 install-month
        assert ledger.totals() == {"install_month": 1, "records_synced": 10}


def test_killed_after_the_sink_accepted_but_before_mark_counts_once(
        tmp_path: Path, partner_key: Ed25519PrivateKey) -> None:
    holder: dict[str, subprocess.Popen[str]] = {}

    def kill_child_before_answering() -> None:
        os.kill(holder["proc"].pid, signal.SIGKILL)
        holder["proc"].wait(timeout=30)

    with running_collector(tmp_path / "partner.sqlite3",
                           before=kill_child_before_answering) as (url, ledger, _batches):
        holder["proc"] = proc = _child(tmp_path, partner_key, "flush", url)
        try:
            _wait_for(proc, "COMMITTED")
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert ledger.totals() == {"install_month": 1, "records_synced": 10}   # it arrived
    with running_collector(tmp_path / "partner.sqlite3") as (url, ledger, _):
        report = flush(tmp_path / "state.sqlite3", HttpCollectorSink(url))
        assert report.delivered == 5       # resent, answered "duplicate", marked delivered
        assert ledger.totals() == {"install_month": 1, "records_synced": 10}
