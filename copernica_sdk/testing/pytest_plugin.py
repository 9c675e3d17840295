"""pytest plugin: the ``fake_copernica`` fixture.

Registered as a ``pytest11`` entry point, so installing copernica-sdk makes the
fixture available everywhere.  Options for one test come from a marker::

    @pytest.mark.fake_copernica(latency=0.01, updateprofiles_returns_items=False)
    def test_something(fake_copernica): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fake_copernica(**kwargs): keyword arguments for the fake_copernica fixture's FakeCopernica",
    )


@pytest.fixture
def fake_copernica(request: pytest.FixtureRequest) -> Iterator[FakeCopernica]:
    """A fresh FakeCopernica on 127.0.0.1 (ephemeral port), stopped after the test."""
    marker = request.node.get_closest_marker("fake_copernica")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    with FakeCopernica(**kwargs) as fake:
        yield fake
