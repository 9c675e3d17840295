"""pytest plugin: the ``woocommerce_fake_shop`` fixture (a started FakeShop per test).

Opt-in (it imports requests, oauthlib and werkzeug): in your top-level
``conftest.py``::

    pytest_plugins = ["copernica_sync.connectors.woocommerce.testing"]

Options for one test come from a marker::

    @pytest.mark.woocommerce_fake_shop(customers=20, orders=300, tie_burst=250, version="5.6.0")
    def test_something(woocommerce_fake_shop): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

__all__ = ["woocommerce_fake_shop"]

MARKER = "woocommerce_fake_shop"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**kwargs): keyword arguments for the woocommerce_fake_shop fixture's FakeShop",
    )


@pytest.fixture
def woocommerce_fake_shop(request: pytest.FixtureRequest) -> Iterator[FakeShop]:
    """A fresh FakeShop on 127.0.0.1 (ephemeral port), stopped after the test."""
    marker = request.node.get_closest_marker(MARKER)
    kwargs = dict(marker.kwargs) if marker is not None else {}
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    with FakeShop(**kwargs) as shop:
        yield shop
