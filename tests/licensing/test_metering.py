"""Preflight, enforcement and the usage meter against the real SyncEngine."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.errors import CopernicaError
from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.errors import LicenseRefusedError
from copernica_sdk.licensing.policy import Mode, decide, effective_mode
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.licensing.verify import LicenseStatus, State
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .conftest import EXP, T0, make_claims
from .harness import Harness, licensed_connector

EXPIRED_AT = T0 + timedelta(days=365 + 30)


@pytest.fixture
def h(copernica_fake: FakeCopernica, tmp_path: Path,
      partner_key: Ed25519PrivateKey) -> Iterator[Harness]:
    harness = Harness(copernica_fake, tmp_path / "state.sqlite3",
                      licensed_connector(partner_key), FixedClock(T0 + timedelta(days=1)))
    yield harness
    harness.close()


def seed(h: Harness, n: int = 7) -> None:
    for i in range(n):
        h.source.put(id=i + 1, email=f"p{i}@example.com", name=f"Person {i}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the license state and mode table of docs/licensing.md -----------------------

MATRIX = {
    # state: (observe, warn, enforce) → allow_run
    State.VALID: (True, True, True),
    State.GRACE: (True, True, True),
    State.EXPIRED: (True, True, False),
    State.MISSING: (True, True, False),
    State.INVALID: (True, True, False),
    State.WRONG_PRODUCT: (True, True, False),
    State.NOT_YET_VALID: (True, True, False),
    State.WRONG_SHOP: (True, True, True),
}


@pytest.mark.parametrize("state", list(MATRIX))
@pytest.mark.parametrize("mode", list(Mode))
def test_enforcement_matrix(state: State, mode: Mode) -> None:
    claims = make_claims() if state not in (State.MISSING, State.INVALID) else None
    verdict = decide(LicenseStatus(state, claims=claims, reasons=("r",)), mode, now=T0)
    assert verdict.allow_run is MATRIX[state][list(Mode).index(mode)]
    if mode is Mode.OBSERVE:
        assert verdict.warnings == ()
    elif state is not State.VALID:
        assert verdict.warnings


def test_wrong_shop_refuses_only_with_strict_binding_in_enforce() -> None:
    strict = make_claims(strict_binding=True)
    assert not decide(LicenseStatus(State.WRONG_SHOP, claims=strict), Mode.ENFORCE,
                      now=T0).allow_run
    assert decide(LicenseStatus(State.WRONG_SHOP, claims=strict), Mode.WARN, now=T0).allow_run


def test_missing_license_runs_during_trial_then_refuses_in_enforce() -> None:
    status = LicenseStatus(State.MISSING)
    first = T0
    assert decide(status, Mode.ENFORCE, now=T0 + timedelta(days=13), first_run_at=first,
                  trial_days=14).allow_run
    assert not decide(status, Mode.ENFORCE, now=T0 + timedelta(days=14), first_run_at=first,
                      trial_days=14).allow_run


def test_token_enforce_overrides_looser_config() -> None:
    assert effective_mode("warn", "enforce") is Mode.ENFORCE
    assert effective_mode("enforce", "observe") is Mode.ENFORCE
    assert effective_mode("observe", None) is Mode.OBSERVE


def test_token_minimum_mode_beats_config_in_preflight(h: Harness,
                                                      partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(enforce="enforce"), partner_key)
    h.clock.set(EXPIRED_AT)
    decision = h.decide(token, {"mode": "observe"})
    assert decision.mode is Mode.ENFORCE and not decision.allow_run


def test_bad_license_table_is_a_config_error(h: Harness) -> None:
    with pytest.raises(ConfigError):
        h.decide(None, {"mode": "lenient"})
    with pytest.raises(ConfigError):
        h.decide(None, {"colour": "red"})


# -- enforce refuses to start, and only that --------------------------------------------

def test_enforce_refuses_to_start_and_leaves_state_untouched(h: Harness,
                                                             partner_key: Ed25519PrivateKey
                                                             ) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h)
    h.run(h.decide(token))
    before = digest(h.state_path)
    h.source.put(id=99, email="new@example.com", name="New")
    h.clock.set(EXPIRED_AT)
    decision = h.decide(token, {"mode": "enforce"})
    assert decision.status.state is State.EXPIRED and decision.exit_code == 3
    with pytest.raises(LicenseRefusedError) as err:
        h.run(decision)
    assert isinstance(err.value, CopernicaError)
    assert "nothing was changed" in str(err.value) and "usage export" in str(err.value)
    assert digest(h.state_path) == before
    assert decision.hooks() == []


def test_expiry_mid_run_never_aborts_the_run(h: Harness, partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 9)
    h.clock.set(T0 + timedelta(seconds=EXP - T0.timestamp() - 1))  # 1 s before expiry
    decision = h.decide(token, {"mode": "enforce"})
    assert decision.allow_run
    h.clock.set(EXPIRED_AT)   # the license expires while the run is going
    report = h.run(decision)
    assert report.exit_code == 0 and h.total() == 9
    assert {row[4] for row in h.usage()} == {"valid"}  # frozen at preflight


def test_entitlements_gate_optional_streams(h: Harness, partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(entitlements=["orders"]), partner_key)
    decision = h.decide(token)
    object.__setattr__(decision, "gates", {"people": "customers", "orders": "orders"})
    assert decision.skipped_streams(["people", "orders"]) == ["people"]
    assert decision.allows("orders") and not decision.allows("customers")


# -- usage rows commit with the bookmark ----------------------------------------------------

def test_usage_rows_commit_with_the_bookmark(h: Harness, partner_key: Ed25519PrivateKey) -> None:
    seed(h, 7)
    h.run(h.decide(sign_token(make_claims(), partner_key)))
    rows = h.usage()
    assert [r[2] for r in rows] == [3, 3, 1] and [r[3] for r in rows] == [0, 1, 2]
    assert all(r[0].startswith("cpe1_") and len(r[0]) == 45 for r in rows)
    assert len(h.usage("install_month")) == 1
    with StateStore(h.state_path) as state:
        assert state.bookmark("people") is not None


def test_a_failing_checkpoint_leaves_neither_bookmark_nor_usage(h: Harness,
                                                                partner_key: Ed25519PrivateKey
                                                                ) -> None:
    seed(h, 3)
    decision = h.decide(sign_token(make_claims(), partner_key))
    meter = decision.hooks(h.clock)[0]
    with StateStore(h.state_path) as state:
        run = state.start_run("t")
        with pytest.raises(RuntimeError), state.checkpoint() as cp:
            cp.set_bookmark("people", "2024-01-01T00:00:03")
            meter.on_checkpoint(cp, job="t", stream="people", records_synced=3)
            raise RuntimeError("crash before commit")
        assert state.bookmark("people") is None
        state.finish_run(run, 5, {})
    conn = sqlite3.connect(h.state_path)
    # The usage rows rolled back with the bookmark (the tables are the state's own,
    # from its versioned migrations).
    assert conn.execute("SELECT count(*) FROM usage_events").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM license_runs").fetchone()[0] == 0
    conn.close()


def test_replayed_page_after_source_crash_counts_once(h: Harness,
                                                      partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 9)
    h.source.fail_after_pages = 1           # page 1 commits; page 2 blows up before commit
    with pytest.raises(RuntimeError):
        h.run(h.decide(token))
    assert h.total() == 3
    h.source.fail_after_pages = None
    h.run(h.decide(token))                  # resumes from the bookmark (with lookback)
    h.run(h.decide(token))                  # nothing changed: nothing counted
    assert h.total() == 9
    assert len(h.usage("install_month")) == 1


def test_install_month_is_unique_per_month_by_constraint(h: Harness,
                                                         partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 2)
    h.run(h.decide(token))
    h.source.put(id=1, email="p0@example.com", name="Renamed")
    h.run(h.decide(token))
    assert len(h.usage("install_month")) == 1
    conn = sqlite3.connect(h.state_path)
    row = conn.execute("SELECT * FROM usage_events WHERE metric = 'install_month'").fetchone()
    with pytest.raises(sqlite3.IntegrityError):   # even a bypassing insert is refused
        conn.execute("INSERT INTO usage_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     ("cpe1_other", *row[1:]))
    conn.close()
    h.clock.set(h.clock.now() + timedelta(days=31))
    h.source.put(id=2, email="p1@example.com", name="Renamed too")
    h.run(h.decide(token))
    assert len(h.usage("install_month")) == 2


def test_install_id_is_stable_across_runs(h: Harness, partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 2)
    first = h.decide(token)
    h.run(first)
    second = h.decide(token)
    assert second.install.install_id == first.install.install_id
    assert second.install.created_at is not None


def test_unlicensed_usage_is_recorded_and_flagged_in_warn_mode(h: Harness) -> None:
    seed(h, 4)
    decision = h.decide(None)
    assert decision.allow_run and decision.unlicensed and decision.warnings
    h.run(decision)
    assert h.total() == 4 and {r[4] for r in h.usage()} == {"missing"}


def test_clock_rollback_is_flagged_in_usage_rows(h: Harness,
                                                 partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 2)
    h.clock.set(T0 + timedelta(days=10))
    h.run(h.decide(token))
    h.clock.set(T0 + timedelta(days=7))
    h.source.put(id=1, email="p0@example.com", name="Back in time")
    decision = h.decide(token)
    assert decision.status.state is State.VALID and "clock_suspect" in decision.status.flags
    h.run(decision)
    conn = sqlite3.connect(h.state_path)
    flags = [r[0] for r in conn.execute("SELECT flags FROM usage_events ORDER BY run_id")]
    conn.close()
    assert flags[-1] == "clock_suspect"


def test_future_clock_cannot_poison_later_runs(h: Harness, partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    seed(h, 2)
    h.clock.set(T0 + timedelta(days=3000))   # wildly wrong: far past expiry
    h.run(h.decide(token, {"mode": "warn"}))
    h.clock.set(T0 + timedelta(days=2))
    assert "clock_suspect" not in h.decide(token).status.flags   # expired runs never move it
    h.clock.set(T0 + timedelta(days=370))      # in grace: moves the mark, capped at exp+grace+1d
    h.source.put(id=1, email="p0@example.com", name="x")
    h.run(h.decide(token))
    h.clock.set(T0 + timedelta(days=5))
    assert "clock_suspect" in h.decide(token).status.flags
