"""Usage a partner can trust: per-install keys, signed exports and flushes, key pinning."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.export import export_period
from copernica_sdk.licensing.flush import flush
from copernica_sdk.licensing.partner.ledger import PartnerLedger
from copernica_sdk.licensing.sinks import HttpCollectorSink, Outcome
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.licensing.usage_signing import (
    FLUSH_DOMAIN,
    UsageTrustError,
    install_key,
    install_key_path,
    public_text,
    sign_document,
)
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.cli.cmd_partner import partner

from .collector import running_collector
from .conftest import PERIOD, RUN_DAY, T0, make_claims
from .harness import Harness, after_one_run


@pytest.fixture
def h(copernica_fake: FakeCopernica, tmp_path: Path,
      partner_key: Ed25519PrivateKey) -> Iterator[Harness]:
    harness = after_one_run(copernica_fake, tmp_path / "state.sqlite3", partner_key,
                            sign_token(make_claims(), partner_key), people=5,
                            clock=FixedClock(RUN_DAY))
    yield harness
    harness.close()


def test_first_metered_run_makes_the_install_key_0600_beside_the_state(h: Harness) -> None:
    path = install_key_path(h.state_path)
    assert path.parent == h.state_path.parent and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = install_key(h.state_path)
    assert first is not None and public_text(first) == public_text(install_key(h.state_path))  # type: ignore[arg-type]


def test_signed_export_is_accepted_and_pins_the_install_key(h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
    manifest = json.loads(result.manifest_path.read_text())
    key = install_key(h.state_path)
    assert key is not None and manifest["signature"]["public_key"] == public_text(key)
    again = export_period(h.state_path, PERIOD, tmp_path / "again", "jsonl")
    assert again.manifest_path.read_bytes() == result.manifest_path.read_bytes()  # deterministic
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger:
        report = ledger.ingest_file(result.data_path)
        assert report.new == result.event_count > 0 and "pinned" in report.trust
        assert ledger.pinned_key(manifest["install_id"]) == public_text(key)
        assert ledger.signed_by(ledger.events()[0].event_id) == public_text(key)


def test_unsigned_export_is_refused_unless_allowed_explicitly(h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
    result.manifest_path.unlink()
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger:
        with pytest.raises(UsageTrustError, match="unsigned"):
            ledger.ingest_file(result.data_path)
        assert ledger.events() == []
        report = ledger.ingest_file(result.data_path, allow_unsigned=True)
        assert report.new == result.event_count and "unsigned" in report.trust
        assert ledger.signed_by(ledger.events()[0].event_id) == "unsigned"


def test_altered_export_or_manifest_is_refused(h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "csv")
    manifest = json.loads(result.manifest_path.read_text())
    # Lower the count in the data AND fix the SHA-256 in the manifest: the signature breaks.
    import re
    data = re.sub(rb",records_synced,\d+,", b",records_synced,0,", result.data_path.read_bytes(),
                  count=1)
    assert data != result.data_path.read_bytes()
    result.data_path.write_bytes(data)
    import hashlib
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    result.manifest_path.write_text(json.dumps(manifest))
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger:
        with pytest.raises(UsageTrustError, match="altered"):
            ledger.ingest_file(result.data_path)
        assert ledger.events() == []
        # --allow-unsigned does not let altered (signed but not matching) usage in.
        with pytest.raises(UsageTrustError, match="altered"):
            ledger.ingest_file(result.data_path, allow_unsigned=True)


def test_usage_re_signed_by_another_key_is_refused_unless_the_new_key_is_accepted(
        h: Harness, tmp_path: Path) -> None:
    first = export_period(h.state_path, PERIOD, tmp_path / "one", "jsonl")
    ledger_path = tmp_path / "p.sqlite3"
    with PartnerLedger(ledger_path) as ledger:
        ledger.ingest_file(first.data_path)
    # Someone re-signs the install's usage with a key of their own (a new key file).
    install_key_path(h.state_path).unlink()
    second = export_period(h.state_path, PERIOD, tmp_path / "two", "jsonl")
    runner = CliRunner()
    refused = runner.invoke(partner, ["ingest", "--ledger", str(ledger_path),
                                      str(second.data_path)])
    assert refused.exit_code == 3 and "re-signed" in refused.output, refused.output
    accepted = runner.invoke(partner, ["ingest", "--ledger", str(ledger_path),
                                       "--accept-new-key", str(second.data_path)])
    assert accepted.exit_code == 0 and "new key" in accepted.output, accepted.output
    new_key = install_key(h.state_path)
    with PartnerLedger(ledger_path) as ledger:
        manifest = json.loads(second.manifest_path.read_text())
        assert new_key is not None
        assert ledger.pinned_key(manifest["install_id"]) == public_text(new_key)


def test_export_signed_for_one_install_cannot_carry_another_installs_usage(
        h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
    manifest = json.loads(result.manifest_path.read_text())
    key = install_key(h.state_path)
    assert key is not None
    manifest["install_id"] = "someone-else"
    result.manifest_path.write_text(json.dumps(sign_document(
        manifest, key, "copernica-usage-export/v1")))
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger, \
            pytest.raises(UsageTrustError, match="holds usage of"):
        ledger.ingest_file(result.data_path)


def test_flush_is_signed_and_the_collector_refuses_unsigned_and_altered_batches(
        h: Harness, tmp_path: Path) -> None:
    with running_collector(tmp_path / "p.sqlite3") as (url, ledger, _):
        report = flush(h.state_path, HttpCollectorSink(url))
        assert report.delivered == report.sent > 0
        events = ledger.events()
        key = install_key(h.state_path)
        assert key is not None
        assert ledger.pinned_key(events[0].install_id) == public_text(key)
        body = {"events": [e.to_json() for e in events], "install_id": events[0].install_id}
        unsigned = requests.post(url, json=body, timeout=10)
        assert unsigned.status_code == 403 and "unsigned" in unsigned.json()["error"]
        import copy
        signed = copy.deepcopy(sign_document(body, key, FLUSH_DOMAIN))
        signed["events"][0]["quantity"] += 1000
        altered = requests.post(url, json=signed, timeout=10)
        assert altered.status_code == 403 and "altered" in altered.json()["error"]
        stranger = sign_document(body, Ed25519PrivateKey.generate(), FLUSH_DOMAIN)
        resigned = requests.post(url, json=stranger, timeout=10)
        assert resigned.status_code == 403 and "re-signed" in resigned.json()["error"]
        good = requests.post(url, json=sign_document(body, key, FLUSH_DOMAIN), timeout=10)
        assert good.status_code == 200
        assert {r["outcome"] for r in good.json()["results"]} == {"duplicate"}
        assert ledger.events() == events
        malformed = requests.post(url, data=b"[1, 2", timeout=10)
        assert malformed.status_code == 400
        assert requests.get(url, timeout=10).status_code == 405


def test_a_refused_batch_is_parked_by_the_sink_not_resent(h: Harness, tmp_path: Path) -> None:
    with running_collector(tmp_path / "p.sqlite3") as (url, _ledger, _):
        flush(h.state_path, HttpCollectorSink(url))
        # The install's key is replaced: the collector refuses (403), the sink parks.
        install_key_path(h.state_path).unlink()
        h.source.put(id=99, email="late@example.com", name="Late")
        h.clock.set(T0 + timedelta(days=2))  # type: ignore[attr-defined]
        h.run(h.decide(None))
        sink = HttpCollectorSink(url)
        report = flush(h.state_path, sink)
        assert report.parked == report.sent > 0 and report.delivered == 0
        assert sink.install_key is not None and Outcome.REJECTED  # it signed, and was refused


def test_state_copied_elsewhere_keeps_its_key(h: Harness, tmp_path: Path) -> None:
    """A moved install (state folder copied) signs with the same key: still trusted."""
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy2(h.state_path, moved / h.state_path.name)
    shutil.copy2(install_key_path(h.state_path), install_key_path(moved / h.state_path.name))
    key = install_key(moved / h.state_path.name)
    assert key is not None and os.stat(install_key_path(moved / h.state_path.name)).st_mode
    assert public_text(key) == public_text(install_key(h.state_path))  # type: ignore[arg-type]


def test_partner_collector_command_serves_the_collector(h: Harness, tmp_path: Path) -> None:
    import subprocess
    import sys

    ledger_path = tmp_path / "served.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "copernica_sync.cli.main", "partner",
                             "collector", "--ledger", str(ledger_path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("collecting usage at http://127.0.0.1:"), (
            first + (proc.stderr.read() if proc.poll() is not None and proc.stderr else ""))
        url = first.split(" at ", 1)[1].split(" into ", 1)[0]
        report = flush(h.state_path, HttpCollectorSink(url))
        assert report.delivered == report.sent > 0, report
        assert requests.post(url, json={"events": []}, timeout=10).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with PartnerLedger(ledger_path) as ledger:
        assert len(ledger.events()) == report.sent
