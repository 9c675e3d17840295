"""Fixtures for the WooCommerce connector tests (all over loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, RecordedSleep

# The `fake_shop` fixture comes from the plugin connectors.woocommerce.testing,
# registered as a pytest11 entry point in pyproject.toml.


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    """A small shop whose clock is frozen at NOW."""
    with FakeShop(customers=40, orders=120, seed=11, now=NOW) as s:
        yield s
