"""Export, flush and partner ingest: nothing lost, nothing counted twice."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.export import export_period
from copernica_sdk.licensing.flush import flush, parked
from copernica_sdk.licensing.ledger import UsageEvent
from copernica_sdk.licensing.partner.ledger import PartnerLedger
from copernica_sdk.licensing.sinks import HttpCollectorSink, Outcome, SinkResult
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .collector import running_collector
from .conftest import PERIOD, RUN_DAY, make_claims
from .harness import Harness, after_one_run


@pytest.fixture
def h(copernica_fake: FakeCopernica, tmp_path: Path,
      partner_key: Ed25519PrivateKey) -> Iterator[Harness]:
    harness = after_one_run(copernica_fake, tmp_path / "state.sqlite3", partner_key,
                            sign_token(make_claims(), partner_key), people=8,
                            clock=FixedClock(RUN_DAY))
    yield harness
    harness.close()


class FakeSink:
    """Dedupes by event id forever, like the partner ledger; scripted failures."""

    name = "fake"
    max_batch = 2
    dedupe_window: timedelta | None = None

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.calls = 0
        self.script: list[Outcome] = []

    def send(self, events: Sequence[UsageEvent]) -> list[SinkResult]:
        self.calls += 1
        forced = self.script.pop(0) if self.script else None
        out = []
        for e in events:
            if forced is not None:
                if forced is Outcome.AMBIGUOUS:  # it did arrive; we just never heard back
                    self.seen.setdefault(e.event_id, e.quantity)
                out.append(SinkResult(e.event_id, forced))
                continue
            dup = e.event_id in self.seen
            self.seen.setdefault(e.event_id, e.quantity)
            out.append(SinkResult(e.event_id, Outcome.DUPLICATE if dup else Outcome.ACCEPTED))
        return out


def test_export_is_byte_identical_on_re_export(h: Harness, tmp_path: Path) -> None:
    for fmt in ("jsonl", "csv"):
        a = export_period(h.state_path, PERIOD, tmp_path / "a", fmt)
        b = export_period(h.state_path, PERIOD, tmp_path / "b", fmt)
        assert a.data_path.read_bytes() == b.data_path.read_bytes()
        assert a.manifest_path.read_bytes() == b.manifest_path.read_bytes()
        manifest = json.loads(a.manifest_path.read_text())
        assert manifest["event_count"] == 4          # 3 pages + 1 install-month
        assert manifest["totals"] == {"install_month": 1, "records_synced": 8}


def test_export_does_not_change_after_a_flush(h: Harness, tmp_path: Path) -> None:
    before = export_period(h.state_path, PERIOD, tmp_path / "a").data_path.read_bytes()
    flush(h.state_path, FakeSink(), clock=h.clock)
    assert export_period(h.state_path, PERIOD, tmp_path / "b").data_path.read_bytes() == before


def test_double_flush_delivers_each_event_once(h: Harness) -> None:
    sink = FakeSink()
    first = flush(h.state_path, sink, clock=h.clock)
    assert first.delivered == 4 and sum(sink.seen.values()) == 9
    calls = sink.calls
    second = flush(h.state_path, sink, clock=h.clock)
    assert second.sent == 0 and sink.calls == calls


def test_duplicate_answer_counts_as_delivered(h: Harness) -> None:
    sink = FakeSink()
    sink.script = [Outcome.RETRY]                  # the first batch fails transiently
    first = flush(h.state_path, sink, clock=h.clock)
    assert first.retry == 2 and first.delivered == 2
    h.clock.set(h.clock.now() + timedelta(hours=7))   # past the backoff
    sink.seen.update({"cpe1_unrelated": 0})
    second = flush(h.state_path, sink, clock=h.clock)
    assert second.delivered == 2 and second.sent == 2


def test_ambiguous_not_resent_after_window(h: Harness) -> None:
    sink = FakeSink()
    sink.dedupe_window = timedelta(hours=24)
    sink.script = [Outcome.AMBIGUOUS]
    flush(h.state_path, sink, clock=h.clock)       # first attempt: ambiguous, retried later
    h.clock.set(h.clock.now() + timedelta(hours=20))
    sink.script = [Outcome.AMBIGUOUS]
    report = flush(h.state_path, sink, clock=h.clock)
    assert report.parked == 2
    assert {p[2] for p in parked(h.state_path)} == {"ambiguous"}
    h.clock.set(h.clock.now() + timedelta(days=2))
    assert flush(h.state_path, sink, clock=h.clock).sent == 0   # parked: never resent


def test_flush_to_loopback_collector_and_resend_is_duplicate(h: Harness, tmp_path: Path) -> None:
    with running_collector(tmp_path / "partner.sqlite3") as (url, ledger, batches):
        report = flush(h.state_path, HttpCollectorSink(url), clock=h.clock)
        assert report.delivered == 4 and batches == [4]
        assert ledger.totals() == {"install_month": 1, "records_synced": 8}
        # The sink lost our bookkeeping (e.g. a crash before mark): a resend is a duplicate.
        import sqlite3
        conn = sqlite3.connect(h.state_path)
        conn.execute("DELETE FROM usage_deliveries")
        conn.commit()
        conn.close()
        again = flush(h.state_path, HttpCollectorSink(url), clock=h.clock)
        assert again.delivered == 4
        assert ledger.totals() == {"install_month": 1, "records_synced": 8}


def test_collector_down_leaves_events_pending_and_never_raises(h: Harness) -> None:
    report = flush(h.state_path, HttpCollectorSink("http://127.0.0.1:9/usage", timeout=2),
                   clock=h.clock)
    assert report.delivered == 0 and report.retry == 4


def test_collector_requires_https_outside_loopback() -> None:
    with pytest.raises(ValueError, match="https"):
        HttpCollectorSink("http://partner.example.com/usage")
    HttpCollectorSink("https://partner.example.com/usage")


def test_double_import_at_the_partner_is_harmless(h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "csv")
    with PartnerLedger(tmp_path / "partner.sqlite3") as ledger:
        first = ledger.ingest_file(result.data_path)
        second = ledger.ingest_file(result.data_path)
        jsonl = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
        third = ledger.ingest_file(jsonl.data_path)
        assert (first.new, second.new, second.duplicate, third.duplicate) == (4, 0, 4, 4)
        assert ledger.totals(PERIOD) == {"install_month": 1, "records_synced": 8}


def test_tampered_export_is_refused_at_ingest(h: Harness, tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
    result.data_path.write_bytes(result.data_path.read_bytes().replace(b'"quantity":3',
                                                                       b'"quantity":1'))
    from copernica_sdk.licensing.usage_signing import UsageTrustError
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger, pytest.raises(UsageTrustError,
                                                                        match="SHA"):
        ledger.ingest_file(result.data_path)


def test_same_id_with_other_payload_is_a_conflict_not_an_overwrite(h: Harness,
                                                                   tmp_path: Path) -> None:
    result = export_period(h.state_path, PERIOD, tmp_path / "out", "jsonl")
    with PartnerLedger(tmp_path / "p.sqlite3") as ledger:
        ledger.ingest_file(result.data_path)
        event = ledger.events()[1]
        from dataclasses import replace
        report = ledger.ingest_events([replace(event, quantity=event.quantity + 100)])
        assert report.conflicts == [event.event_id]
        assert ledger.totals()["records_synced"] == 8
