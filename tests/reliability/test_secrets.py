"""No secret in anything a run leaves behind, even one with faults and dead letters.

Scanned: the real process's stdout/stderr at ``-vv``, the records of an in-process
run at DEBUG (``caplog``), the state file and its WAL (bytes), the dead letters, the
exported usage file, and the texts of errors (stream errors, a refused token).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient
from copernica_sdk.errors import CopernicaError
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import ROOT, TOKEN, CliJob, InProcessJob, describe, fast_retry
from .licensed_connector import NAME, install_plugin

FAULTS = [None, None, None, None, "http503", None, "reset", None, "truncated", "http500",
          None, "http502"]


def _secrets(shop: FakeShop) -> list[str]:
    return [TOKEN, shop.consumer_secret, shop.consumer_key]


def _leaks(text: str | bytes, secrets: list[str]) -> list[str]:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    return [s for s in secrets if s.encode() in data]


def _hostile(shop: FakeShop) -> None:
    shop.add_customer(email="not-an-email", first_name="Dead Letter")
    shop.add_customer(email="ok.person@example.com", first_name="Bell\x07")


def test_a_debug_run_with_faults_and_dead_letters_leaks_no_secret_anywhere(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    _hostile(shop)
    plugins = install_plugin(tmp_path / "plugins")
    job = CliJob.create(tmp_path, shop, copernica,
                        source=shop.source_config(connector=NAME),
                        extra={"license": {"mode": "observe"}},
                        env={"PYTHONPATH": os.pathsep.join([str(plugins), str(ROOT)])})
    copernica.faults.schedule(FAULTS, seed=4)
    result = job.run("-vv", "run")
    assert result.returncode == 1, describe(result)      # dead letters
    assert sum(copernica.faults.injected.values()) >= 4
    secrets = _secrets(shop)
    assert _leaks(result.stdout + result.stderr, secrets) == []
    assert "DEBUG" in result.stderr or "debug" in result.stderr.lower()
    letters = job.run("dlq", "list", "--payload")
    assert "not-an-email" in letters.stdout, describe(letters)
    assert _leaks(letters.stdout + letters.stderr, secrets) == []
    exports = tmp_path / "exports"
    period = datetime.now(UTC).strftime("%Y-%m")
    exported = job.run("usage", "export", "--period", period, "--format", "jsonl",
                       "--out", str(exports))
    files = [p for p in exports.rglob("*") if p.is_file()] if exports.exists() else []
    assert files, describe(exported)
    for path in files:
        assert _leaks(path.read_bytes(), secrets) == [], path
    assert _leaks(exported.stdout + exported.stderr, secrets) == []
    state_files = [p for p in job.state_path.parent.iterdir() if p.is_file()]
    assert state_files
    for path in state_files:
        assert _leaks(path.read_bytes(), secrets) == [], path


def test_an_in_process_run_logs_no_secret_at_debug_level(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica,
        caplog: pytest.LogCaptureFixture) -> None:
    _hostile(shop)
    copernica.faults.schedule(FAULTS, seed=5)
    with caplog.at_level(logging.DEBUG):
        report = InProcessJob(shop, copernica, tmp_path / "s.sqlite3", fast_retry()).run()
    assert int(report.exit_code) == 1, [s.summary() for s in report.streams]
    secrets = _secrets(shop)
    assert caplog.records
    assert _leaks(caplog.text, secrets) == []
    for record in caplog.records:
        assert _leaks(record.getMessage(), secrets) == []
    with StateStore(tmp_path / "s.sqlite3") as state:
        letters = state.dead_letters(status=None)
    assert letters
    for letter in letters:
        assert _leaks(f"{letter.reason} {letter.payload!r}", secrets) == []
    assert _leaks(" ".join(s.summary() for s in report.streams), secrets) == []


def test_errors_of_a_failing_run_do_not_quote_the_token(
        copernica: FakeCopernica, caplog: pytest.LogCaptureFixture) -> None:
    """A refused token and a service that keeps failing: the exception texts (and
    their causes) name the problem, not the credentials."""
    wrong = TOKEN + "-wrong"
    with caplog.at_level(logging.DEBUG), \
            CopernicaClient(wrong, endpoint=copernica.url, retry=fast_retry(2)) as client, \
            pytest.raises(CopernicaError) as refused:
        client.databases.find("Customers")
    copernica.faults.set_rate(1.0, kinds=["http503", "reset", "truncated"], seed=2)
    with caplog.at_level(logging.DEBUG), \
            CopernicaClient(TOKEN, endpoint=copernica.url, retry=fast_retry(3)) as client, \
            pytest.raises(CopernicaError) as failing:
        client.databases.find("Customers")
    secrets = [TOKEN, wrong]
    for info in (refused, failing):
        chain: list[BaseException] = []
        exc: BaseException | None = info.value
        while exc is not None and len(chain) < 10:
            chain.append(exc)
            exc = exc.__cause__ or exc.__context__
        for item in chain:
            assert _leaks(f"{item} {item!r} {item.args!r}", secrets) == [], type(item)
    assert _leaks(caplog.text, secrets) == []
