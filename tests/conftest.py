"""Suite-wide options: ``--record`` re-records the SOAP fixtures from the fake service."""

from __future__ import annotations

import os
import sys

import pytest

# Cached bytecode and pytest's assertion-rewrite cache let each xdist worker and each
# `copernica-sync` subprocess start without recompiling; PYTHONDONTWRITEBYTECODE, set
# in some containers, turns both off.  __pycache__ is git-ignored.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# The fixture plugins are opt-in (no pytest11 entry points): this suite enables them.
pytest_plugins = ["copernica_sdk.testing.pytest_plugin", "copernica_sync.connectors.woocommerce.testing",
                  "copernica_sdk.testing.servers"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record", action="store_true", default=False,
                     help="re-record tests/fixtures/soap from the bundled fake Copernica")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (set in pyproject's addopts): two workers per core.  About half of
    the suite's time is waiting — for a ``copernica-sync`` subprocess, a fake's
    latency, a retry's back-off — so one worker per core leaves the cores idle."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``--record`` rewrites shared fixture files (world.json): in one process only."""
    if config.getoption("--record") and hasattr(config.option, "numprocesses"):
        config.option.numprocesses = 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("COPERNICA_ACCESS_TOKEN"):
        return
    skip = pytest.mark.skip(reason="live smoke tests need COPERNICA_ACCESS_TOKEN")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
