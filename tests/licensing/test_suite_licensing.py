"""The standard suite's licensing check, and the throwaway-license helper partners use."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from copernica_sdk.licensing.verify import State, verify_token
from copernica_sdk.testing._suite_harness import Harness
from copernica_sdk.testing.connector_suite import ConnectorSuite, Source
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.licenses import throwaway_license
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


class AcmeWoo(WooCommerceConnector):
    """A partner's licensed plugin: orders need the `orders` entitlement."""

    license_plugin_id: ClassVar[str | None] = "acme-woo"
    license_public_keys: ClassVar[Mapping[str, str]] = {}
    license_gates: ClassVar[Mapping[str, str]] = {"orders": "orders"}


class _Suite(ConnectorSuite):
    """Not collected (no Test prefix): the licensing test is called below."""

    connector_class = AcmeWoo


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with FakeShop(customers=6, orders=8, seed=3, now=NOW) as fake:
        yield fake


def _run(suite: ConnectorSuite, shop: FakeShop, tmp_path: Path, fake: FakeCopernica,
         monkeypatch: pytest.MonkeyPatch) -> None:
    source = Source(config=shop.source_config(per_page=5), mutate=lambda: None)
    harness = Harness(suite.make_connector, source.config, suite.target_overrides,
                      suite.sync_options, tmp_path)
    fixtures: dict[str, Any] = {"suite_harness": harness, "copernica_fake": fake,
                                "monkeypatch": monkeypatch}
    method = suite.test_license_gated_streams_are_skipped_visibly_and_nothing_else
    method(**{name: fixtures[name] for name in inspect.signature(method).parameters})


def test_the_suite_passes_a_plugin_whose_gates_behave_as_documented(
        shop: FakeShop, tmp_path: Path, copernica_fake: FakeCopernica,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _run(_Suite(), shop, tmp_path, copernica_fake, monkeypatch)


def test_the_suite_fails_a_gate_that_names_no_stream(
        shop: FakeShop, tmp_path: Path, copernica_fake: FakeCopernica,
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Typo(AcmeWoo):
        license_gates: ClassVar[Mapping[str, str]] = {"order": "orders"}

    suite = type("TypoSuite", (_Suite,), {"connector_class": Typo})()
    with pytest.raises(AssertionError, match="does not have"):
        _run(suite, shop, tmp_path, copernica_fake, monkeypatch)


def test_the_suite_fails_a_plugin_that_runs_a_gated_stream_anyway(
        shop: FakeShop, tmp_path: Path, copernica_fake: FakeCopernica,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from copernica_sdk.licensing.preflight import LicenseDecision

    # A wiring that ignores the gates (what the hook did before it reported skips).
    monkeypatch.setattr(LicenseDecision, "skipped", lambda self, names=None: {})
    with pytest.raises(AssertionError, match="must skip"):
        _run(_Suite(), shop, tmp_path, copernica_fake, monkeypatch)


def test_the_suite_skips_a_plugin_without_licensing(
        shop: FakeShop, tmp_path: Path, copernica_fake: FakeCopernica,
        monkeypatch: pytest.MonkeyPatch) -> None:
    suite = type("PlainSuite", (_Suite,), {"connector_class": WooCommerceConnector})()
    with pytest.raises(pytest.skip.Exception, match="not a licensed plugin"):
        _run(suite, shop, tmp_path, copernica_fake, monkeypatch)


def test_throwaway_license_verifies_with_its_own_key_only() -> None:
    lic = throwaway_license("acme-woo", entitlements=["orders"], customer="Test BV",
                            valid_for=timedelta(days=30))
    Pinned = lic.pin(AcmeWoo)
    assert issubclass(Pinned, AcmeWoo) and Pinned.license_public_keys == lic.public_keys
    from copernica_sdk.licensing.keys import KeyRing
    now = datetime.now(UTC)
    status = verify_token(lic.token, keyring=KeyRing(Pinned.license_public_keys),
                          plugin_id="acme-woo", now=now)
    assert status.state is State.VALID and status.claims is not None
    assert status.claims.entitlements == {"orders"} and status.days_left == 30
    other = throwaway_license("acme-woo")
    assert verify_token(other.token, keyring=KeyRing(lic.public_keys), plugin_id="acme-woo",
                        now=now).state is State.INVALID
    downgraded = lic.reissue(entitlements=frozenset())
    assert verify_token(downgraded.token, keyring=KeyRing(lic.public_keys),
                        plugin_id="acme-woo", now=now).claims.entitlements == frozenset()  # type: ignore[union-attr]
    assert lic.env() == {"COPERNICA_PLUGIN_LICENSE": lic.token}
