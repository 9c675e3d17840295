"""Shared fixtures: a partner key pair (fast: no encryption needed in memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.keys import KeyRing
from copernica_sdk.licensing.token import Claims, claims_for, sign_token

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
#: The day the metered runs of the tests happen, and its usage period.
RUN_DAY = T0 + timedelta(days=1)
PERIOD = RUN_DAY.strftime("%Y-%m")
NBF = int(T0.timestamp())
EXP = NBF + 365 * 86400
PLUGIN = "acme-woo"


@pytest.fixture(scope="session")
def partner_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def keyring(partner_key: Ed25519PrivateKey) -> KeyRing:
    return KeyRing.of(partner_key.public_key())


def make_claims(**overrides: object) -> Claims:
    base: dict[str, object] = dict(lid="01JTEST0000000000000000000", issuer="acme",
                                   plugin_id=PLUGIN, customer="Shop BV", customer_ref="cus_123",
                                   shops=["shop.example.nl"], not_before=NBF, expires=EXP,
                                   grace_days=14, entitlements=["orders", "products"])
    base.update(overrides)
    return claims_for(**base)  # type: ignore[arg-type]


@pytest.fixture
def token(partner_key: Ed25519PrivateKey) -> str:
    return sign_token(make_claims(), partner_key)
