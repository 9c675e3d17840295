"""Suite-wide options: ``--record`` re-records the SOAP fixtures from the fake service."""

from __future__ import annotations

import os

import pytest

# The fixture plugins are opt-in (no pytest11 entry points): this suite enables them.
pytest_plugins = ["copernica_sdk.testing.pytest_plugin", "connectors.woocommerce.testing"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record", action="store_true", default=False,
                     help="re-record tests/fixtures/soap from the bundled fake Copernica")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("COPERNICA_ACCESS_TOKEN"):
        return
    skip = pytest.mark.skip(reason="live smoke tests need COPERNICA_ACCESS_TOKEN")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
