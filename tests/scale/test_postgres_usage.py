"""The usage ledger on a PostgreSQL state: metered in the checkpoint's transaction,
rolled back with it, flushed once, exported — the same as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk._sql import job_location
from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.export import export_period
from copernica_sdk.licensing.flush import flush
from copernica_sdk.licensing.ledger import open_ledger, read_events
from copernica_sdk.licensing.sinks import HttpCollectorSink
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ..licensing.collector import running_collector
from ..licensing.conftest import T0, make_claims, partner_key
from ..licensing.harness import Harness, licensed_connector

__all__ = ["partner_key"]  # the licensing tests' session fixture


@pytest.fixture
def h(copernica_fake: FakeCopernica, postgres_url: str,
      partner_key: Ed25519PrivateKey) -> Iterator[Harness]:
    harness = Harness(copernica_fake, job_location(postgres_url, "t"),  # type: ignore[arg-type]
                      licensed_connector(partner_key), FixedClock(T0 + timedelta(days=1)))
    yield harness
    harness.close()


def total(location: str) -> dict[str, int]:
    with open_ledger(location) as conn:
        events = read_events(conn)
    out: dict[str, int] = {}
    for e in events:
        out[e.metric] = out.get(e.metric, 0) + e.quantity
    return out


def test_usage_on_postgres_is_counted_once_rolled_back_with_its_page_and_flushed_once(
        h: Harness, partner_key: Ed25519PrivateKey, tmp_path: Path) -> None:
    location = str(h.state_path)
    for i in range(7):
        h.source.put(id=i + 1, email=f"p{i}@example.com", name=f"Person {i}")
    decision = h.decide(sign_token(make_claims(), partner_key))
    report = h.run(decision)
    assert int(report.exit_code) == 0
    assert total(location) == {"install_month": 1, "records_synced": 7}
    # A checkpoint that fails leaves neither its bookmark nor its usage.
    meter = decision.hooks(h.clock)[0]
    with StateStore(location) as state:
        with pytest.raises(RuntimeError), state.checkpoint() as cp:
            cp.set_bookmark("people", "later")
            meter.on_checkpoint(cp, job="t", stream="people", records_synced=3)
            raise RuntimeError("crash before commit")
        assert state.bookmark("people") != "later"
    assert total(location) == {"install_month": 1, "records_synced": 7}
    h.run(decision)  # nothing new: nothing counted
    assert total(location) == {"install_month": 1, "records_synced": 7}
    with running_collector(tmp_path / "partner.sqlite3") as (url, ledger, _):
        first = flush(location, HttpCollectorSink(url))
        second = flush(location, HttpCollectorSink(url))
        assert first.delivered >= 2 and second.sent == 0
        assert ledger.totals() == {"install_month": 1, "records_synced": 7}
    period = (T0 + timedelta(days=1)).strftime("%Y-%m")
    exported = export_period(location, period, tmp_path / "out", "jsonl")
    assert exported.event_count >= 2


def test_an_install_on_postgres_keeps_one_signing_key_in_its_schema_for_every_worker(
        postgres_url: str) -> None:
    from copernica_sdk.licensing.usage_signing import install_key, public_text

    location = job_location(postgres_url, "keyed")
    StateStore(location).close()  # the job's schema, migrated
    assert install_key(location, create=False) is None
    first = install_key(location)
    assert first is not None
    # Another worker (another connection) signs as the same install; no file is made.
    again = install_key(location, create=False)
    assert again is not None and public_text(again) == public_text(first)
