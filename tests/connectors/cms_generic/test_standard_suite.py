"""The standard connector suite, once per preset (WordPress, Drupal, CSV)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.sync.connector import Connector
from copernica_sdk.testing.connector_suite import ConnectorSuite, Source, SourceFixture
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic.testing import FakeCms, ListingLies

from ._helpers import NO_SLEEP, preset, preset_source, write_csv


def _lie(cms: FakeCms, lies: ListingLies | None) -> None:
    """The second page repeats the first (``repeat_at=5``, pages of 5), or honest."""
    cms.lies = lies


class _PresetSuite(ConnectorSuite):
    connector_class = GenericCmsConnector

    def make_connector(self, config: Mapping[str, Any]) -> Connector:
        return GenericCmsConnector(config, policy=NO_SLEEP)


class TestWordPressPreset(_PresetSuite):
    """WordPress users: page numbers with X-WP-TotalPages, Basic auth, no cursor."""

    target_overrides = preset("wordpress")["target"]

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        with FakeCms(contacts=12) as cms:
            config = preset_source("wordpress", cms.url)
            config["streams"] = {"users": {**config["streams"]["users"],
                                           "paginate": {**config["streams"]["users"]["paginate"],
                                                        "page_size": 5}}}
            yield Source(config=config, mutate=lambda: cms.touch(2),
                         lie=lambda: _lie(cms, ListingLies(repeat_at=5)),
                         honest=lambda: _lie(cms, None))


class TestDrupalPreset(_PresetSuite):
    """Drupal JSON:API users: links.next, server-side filter on changed, sorted."""

    target_overrides = preset("drupal")["target"]

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        with FakeCms(contacts=12) as cms:
            config = preset_source("drupal", cms.url)
            users = config["streams"]["users"]
            config["streams"] = {"users": {**users, "paginate": {**users["paginate"],
                                                                  "page_size": 5}}}
            yield Source(config=config, mutate=lambda: cms.touch(2),
                         lie=lambda: _lie(cms, ListingLies(repeat_at=5)),
                         honest=lambda: _lie(cms, None))


class TestCsvPreset(_PresetSuite):
    """A CSV export of contacts in two files, with a ledger in the test's directory."""

    target_overrides = preset("csv")["target"]

    @pytest.fixture
    def source(self, tmp_path: Path) -> Iterator[SourceFixture]:
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        rows = [(i, f"p{i}@example.com", f"First{i}", f"Last{i}", "yes" if i % 2 else "no",
                 (base + timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S")) for i in range(1, 13)]
        write_csv(tmp_path / "contacts-1.csv", rows[:6])
        write_csv(tmp_path / "contacts-2.csv", rows[6:])

        def mutate() -> None:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            changed = [(*r[:2], r[2] + "X", *r[3:5], now) if r[0] in (7, 8) else r
                       for r in rows[6:]]
            write_csv(tmp_path / "contacts-2.csv", changed)

        config = preset_source("csv", path=str(tmp_path / "contacts-*.csv"),
                               ledger_path=str(tmp_path / "ledger.json"))
        config["streams"] = {"contacts": {**config["streams"]["contacts"],
                                          "path": str(tmp_path / "contacts-*.csv")}}
        config.pop("path")
        yield Source(config=config, mutate=mutate)
