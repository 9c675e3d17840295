"""Fixtures for the WooCommerce connector tests (all over loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, RecordedSleep

# The `woocommerce_fake_shop` fixture comes from the opt-in plugin
# copernica_sync.connectors.woocommerce.testing, enabled in tests/conftest.py.


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    """A small shop whose clock is frozen at NOW."""
    with FakeShop(customers=40, orders=120, seed=11, now=NOW) as s:
        yield s
