"""pytest plugin: the ``fake_shop`` fixture (a started FakeShop per test).

Options for one test come from a marker::

    @pytest.mark.fake_shop(customers=20, orders=300, tie_burst=250, version="5.6.0")
    def test_something(fake_shop): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.woocommerce.fake_shop import FakeShop

__all__ = ["fake_shop"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake_shop(**kwargs): keyword arguments for the fake_shop fixture's FakeShop"
    )


@pytest.fixture
def fake_shop(request: pytest.FixtureRequest) -> Iterator[FakeShop]:
    """A fresh FakeShop on 127.0.0.1 (ephemeral port), stopped after the test."""
    marker = request.node.get_closest_marker("fake_shop")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    with FakeShop(**kwargs) as shop:
        yield shop
