"""A license's effect is visible: gated streams in `run` (text and JSON logs), `state show`
and `check`; which token is used when both COPERNICA_PLUGIN_LICENSE and [license] file are set."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.keys import KeyRing
from copernica_sdk.licensing.token import claims_for, sign_token
from copernica_sync.connectors.woocommerce import WooCommerceConnector

from .conftest import Project, describe, ok

SKIP_LINE = "orders: skipped (license lacks entitlement 'orders')"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ed25519PrivateKey]:
    """WooCommerce as a partner's licensed plugin with a gated `orders` stream."""
    key = Ed25519PrivateKey.generate()
    ring = KeyRing.of(key.public_key())
    pins = {kid: __import__("base64").b64encode(key.public_key().public_bytes_raw()).decode()
            for kid in ring.kids()}
    monkeypatch.setattr(WooCommerceConnector, "license_plugin_id", "acme-woo", raising=False)
    monkeypatch.setattr(WooCommerceConnector, "license_public_keys", pins, raising=False)
    monkeypatch.setattr(WooCommerceConnector, "license_gates", {"orders": "orders"},
                        raising=False)
    yield key


def token(key: Ed25519PrivateKey, *, days: int = 365, ent: tuple[str, ...] = ("customers",),
          start: int | None = None, shops: tuple[str, ...] = (), customer: str = "Shop BV"
          ) -> str:
    now = int(time.time()) if start is None else start
    return sign_token(claims_for(issuer="acme", plugin_id="acme-woo", customer=customer,
                                 customer_ref="cus_1", not_before=now,
                                 expires=now + days * 86400, grace_days=14,
                                 entitlements=ent, shops=shops), key)


def test_run_prints_the_gated_stream_in_text_and_json_logs(ready: Project,
                                                           key: Ed25519PrivateKey) -> None:
    env = {"COPERNICA_PLUGIN_LICENSE": token(key)}
    result = ok(ready.invoke("run", env=env))
    assert SKIP_LINE in result.stdout.splitlines(), describe(result)
    assert any(line.startswith("customers: read") for line in result.stdout.splitlines())
    assert not any(line.startswith("orders: read") for line in result.stdout.splitlines())
    as_json = ok(ready.invoke("--log-format", "json", "run", env=env))
    events = [json.loads(line) for line in as_json.stderr.splitlines() if line.startswith("{")]
    skipped = [e for e in events if e.get("event") == "stream_skipped"]
    assert skipped and skipped[0]["stream"] == "orders", as_json.stderr
    assert skipped[0]["reason"] == "license lacks entitlement 'orders'"


def test_state_show_names_the_gated_stream_and_the_license(ready: Project,
                                                           key: Ed25519PrivateKey) -> None:
    env = {"COPERNICA_PLUGIN_LICENSE": token(key)}
    ok(ready.invoke("run", env=env))
    shown = ok(ready.invoke("state", "show", env=env)).stdout
    assert f"  {SKIP_LINE}" in shown.splitlines(), shown
    assert "  license: valid until " in shown
    assert "bookmark orders" not in shown


def test_only_gated_streams_selected_runs_nothing(ready: Project, key: Ed25519PrivateKey) -> None:
    env = {"COPERNICA_PLUGIN_LICENSE": token(key)}
    ready.copernica.reset_calls()
    result = ok(ready.invoke("run", "--stream", "orders", env=env))
    assert result.stdout.splitlines() == [SKIP_LINE], describe(result)
    assert ready.copernica.write_calls() == 0


def test_check_reports_the_license_state(ready: Project, key: Ed25519PrivateKey) -> None:
    fresh = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE": token(key)})).stdout
    until = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%d")
    assert f"[default] license: valid until {until} (365 days left), Shop BV" in fresh, fresh
    assert f"[default] {SKIP_LINE}" in fresh
    start = int(time.time()) - 370 * 86400
    grace = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE":
                                          token(key, start=start)})).stdout
    assert "[default] license: grace: expired " in grace and "runs until" in grace, grace
    missing = ok(ready.invoke("check")).stdout
    assert "[default] license: missing: no license" in missing, missing
    ready.write(ready.tables(license={"shop_url": "https://another-shop.nl"}))
    wrong = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE":
                                          token(key, shops=("shop.example.nl",))})).stdout
    assert "[default] license: wrong shop: the license is for shop.example.nl" in wrong, wrong


def test_environment_variable_wins_over_the_license_file(ready: Project,
                                                         key: Ed25519PrivateKey) -> None:
    lic = ready.tmp / "acme.jwt"
    lic.write_text(token(key, customer="From File BV") + "\n")
    ready.write(ready.tables(license={"file": str(lic)}))
    from_file = ok(ready.invoke("check")).stdout
    assert "From File BV" in from_file and f"from file {lic}" in from_file, from_file
    env_token = token(key, customer="From Env BV")
    from_env = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE": env_token})).stdout
    assert "From Env BV" in from_env and "from COPERNICA_PLUGIN_LICENSE" in from_env, from_env
    # The variable may hold a path too; it still wins.
    other = ready.tmp / "other.jwt"
    other.write_text(token(key, customer="Env Path BV"))
    by_path = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE": str(other)})).stdout
    assert "Env Path BV" in by_path and f"file {other} (from COPERNICA_PLUGIN_LICENSE)" in by_path
    # An empty variable does not hide the file.
    empty = ok(ready.invoke("check", env={"COPERNICA_PLUGIN_LICENSE": ""})).stdout
    assert "From File BV" in empty
