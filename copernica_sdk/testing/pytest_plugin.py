"""pytest plugin: the ``copernica_fake`` fixture (a started FakeCopernica per test).

Opt-in: installing copernica-sdk loads nothing into your pytest runs.  Enable it
in your top-level ``conftest.py``::

    pytest_plugins = ["copernica_sdk.testing.pytest_plugin"]

or for one run with ``pytest -p copernica_sdk.testing.pytest_plugin``.  Options
for one test come from a marker::

    @pytest.mark.copernica_fake(latency=0.01, updateprofiles_returns_items=False)
    def test_something(copernica_fake): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica

__all__ = ["MARKER", "copernica_fake", "started_fake"]

#: The marker whose keyword arguments configure a test's fake.
MARKER = "copernica_fake"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**kwargs): keyword arguments for the copernica_fake fixture's FakeCopernica",
    )


@contextmanager
def started_fake(request: pytest.FixtureRequest) -> Iterator[FakeCopernica]:
    """A FakeCopernica on 127.0.0.1 (ephemeral port) configured by the test's
    ``copernica_fake`` marker, stopped on exit."""
    marker = request.node.get_closest_marker(MARKER)
    kwargs = dict(marker.kwargs) if marker is not None else {}
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    with FakeCopernica(**kwargs) as fake:
        yield fake


@pytest.fixture
def copernica_fake(request: pytest.FixtureRequest) -> Iterator[FakeCopernica]:
    """A fresh FakeCopernica on 127.0.0.1 (ephemeral port), stopped after the test."""
    with started_fake(request) as fake:
        yield fake
