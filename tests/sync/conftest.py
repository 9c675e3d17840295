"""Fixtures of the sync tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica

from .engine_harness import Harness


@pytest.fixture
def h(copernica_fake: FakeCopernica, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(copernica_fake, tmp_path / "state.sqlite3")
    yield harness
    harness.state.close()
    harness.client.close()
