"""cms_generic: users without an e-mail skipped and counted, unreadable cursors
dead-lettered, JSON nested too deep a clear source error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, schema
from copernica_sdk.sync.connector import Rejected, Skipped
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.errors import ConfigError, SourceError
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic.testing import FakeCms

from ._helpers import connector, preset, preset_source

TOKEN = "cms-accounting-token"
SKIP_REASON = "no email (skip_if_missing)"


@pytest.fixture
def cms() -> Iterator[FakeCms]:
    with FakeCms(contacts=8) as c:
        yield c


def _pages(cms_config: dict[str, Any], name: str) -> list[Any]:
    conn = connector(cms_config)
    stream = next(s for s in conn.streams() if s.name == name)
    return [item for page in stream.read(None, "2999-01-01T00:00:00") for item in page]


def _sync_wordpress(cms: FakeCms, state_path: Path, **stream: Any) -> RunReport:
    config = preset_source("wordpress", cms.url)
    config["streams"] = {"users": {**config["streams"]["users"], **stream}}
    conn = connector(config)
    target = parse_target(preset("wordpress")["target"], {})
    with FakeCopernica(tokens={TOKEN: "demo"}) as fake, \
            CopernicaClient(TOKEN, endpoint=fake.url) as client:
        schema.apply(client, schema.plan(client, schema_for(target)))
        with StateStore(state_path) as state:
            return SyncEngine(client, conn, target, state, job="wp",
                              options=SyncOptions(concurrency=2)).run()


def test_the_wordpress_preset_skips_and_counts_a_user_without_an_email(
        cms: FakeCms, tmp_path: Path) -> None:
    cms.contacts[2]["email"] = ""
    report = _sync_wordpress(cms, tmp_path / "wp.sqlite3")
    [users] = report.streams
    assert int(report.exit_code) == 0, users.summary()
    assert (users.read, users.written, users.skipped, users.dead_lettered) == (8, 7, 1, 0)
    assert users.skip_reasons == {SKIP_REASON: 1}
    assert f"skipped 1 (1 {SKIP_REASON})" in users.summary()


def test_without_skip_if_missing_the_user_is_dead_lettered(cms: FakeCms, tmp_path: Path) -> None:
    cms.contacts[2]["email"] = ""
    report = _sync_wordpress(cms, tmp_path / "wp.sqlite3", skip_if_missing=[])
    assert int(report.exit_code) == 1
    assert report.streams[0].dead_lettered == 1 and report.streams[0].skipped == 0


def test_skip_if_missing_treats_absent_null_and_blank_alike(cms: FakeCms) -> None:
    cms.contacts[0]["email"] = None
    cms.contacts[1]["email"] = "   "
    config = {"base_url": cms.url, "streams": {"contacts": {
        "path": "/api/single/contacts", "primary_key": "id",
        "skip_if_missing": ["email", "first_name"]}}}
    items = _pages(config, "contacts")
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [i.record["id"] for i in skipped] == [1, 2]
    assert {i.reason for i in skipped} == {SKIP_REASON}


def test_skip_if_missing_must_be_a_list_of_fields() -> None:
    with pytest.raises(ConfigError, match=r"source\.streams\.users\.skip_if_missing"):
        connector({"base_url": "https://cms.example", "streams": {"users": {
            "path": "/u", "primary_key": "id", "skip_if_missing": "email"}}})


def test_an_unreadable_cursor_dead_letters_the_record_naming_field_and_value(
        cms: FakeCms) -> None:
    cms.contacts[3]["modified"] = "garbage"
    config = {"base_url": cms.url, "streams": {"contacts": {
        "path": "/api/single/contacts", "primary_key": "id",
        "incremental": {"cursor_field": "modified"}}}}
    items = _pages(config, "contacts")
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [i.record["id"] for i in rejected] == [4]
    assert "modified = 'garbage'" in rejected[0].reason
    assert len(items) == 8


def test_a_record_nested_too_deep_is_dead_lettered_and_the_rest_of_the_list_read(
        cms: FakeCms) -> None:
    config = {"base_url": cms.url, "streams": {"contacts": {
        "path": "/api/deep/contacts", "primary_key": "id"}}}
    items = _pages(config, "contacts")
    assert [i["id"] for i in items if isinstance(i, dict)] == [1, 2, 3]
    [rejected] = [i for i in items if isinstance(i, Rejected)]
    assert rejected.record["id"] == 99 and rejected.record["email"] == "deep@example.com"
    assert "/api/deep/contacts" in rejected.reason and "nests deeper" in rejected.reason


def test_json_nested_too_deep_outside_a_list_is_a_source_error_naming_the_url(
        cms: FakeCms) -> None:
    config = {"base_url": cms.url, "streams": {"contacts": {
        "path": "/api/deep_object/contacts", "primary_key": "id", "records": "items"}}}
    with pytest.raises(SourceError, match=r"nested deeper than can be decoded for .*/api/deep_object/contacts"):
        _pages(config, "contacts")
