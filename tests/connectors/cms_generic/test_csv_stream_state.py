"""The CSV source's processed files live in the stream's own state (Stream.state),
committed with the page's bookmark: a crash at a checkpoint boundary can neither
re-read nor skip a file, and the JSON ledger of older releases is taken over once."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, schema
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import RunReport, StreamReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import GenericCmsConnector, csv_source

from ._cli import invoke, write_config
from ._helpers import connector, preset, preset_source, write_csv


class _Crash(BaseException):
    """The process dying right after a page's checkpoint committed."""


class _CrashAfterPage:
    """A progress listener (called after each page's commit) that crashes at page ``n``."""

    def __init__(self, n: int) -> None:
        self.n, self.pages = n, 0

    def on_page(self, report: StreamReport) -> None:
        self.pages += 1
        if self.pages == self.n:
            raise _Crash


def _conn(tmp_path: Path, **stream: Any) -> GenericCmsConnector:
    config = preset_source("csv", ledger_path=str(tmp_path / "ledger.json"))
    contacts = {**config["streams"]["contacts"], "path": str(tmp_path / "contacts-*.csv"),
                **stream}
    config["streams"] = {"contacts": contacts}
    return connector(config)


def _run(tmp_path: Path, fake: FakeCopernica, conn: GenericCmsConnector, *,
         progress: Any = None, dry_run: bool = False) -> RunReport:
    target = parse_target(preset("csv")["target"], conn.default_mapping())
    client = CopernicaClient(fake.token, endpoint=fake.url)
    schema.apply(client, schema.plan(client, schema_for(target)))
    with StateStore(tmp_path / "state.sqlite3") as state:
        return SyncEngine(client, conn, target, state, job="csv", progress=progress,
                          options=SyncOptions(lookback=timedelta(0), dry_run=dry_run)).run()


def _files(tmp_path: Path) -> list[str]:
    with StateStore(tmp_path / "state.sqlite3") as state:
        entries = state.stream_state("contacts").get("files", {})
    return sorted(Path(e["path"]).name for e in entries.values())


def _three_files(tmp_path: Path) -> None:
    # Named in reading order; the first holds the newest rows, so the bookmark (the
    # highest value read) is past the second file's rows once it is committed.
    write_csv(tmp_path / "contacts-1.csv", [
        (1, "a@example.com", "Ann", "A", "yes", "2024-05-03 10:00:00"),
        (2, "b@example.com", "Bob", "B", "no", "2024-05-03 11:00:00")])
    write_csv(tmp_path / "contacts-2.csv", [
        (3, "c@example.com", "Cas", "C", "yes", "2024-05-01 10:00:00"),
        (4, "d@example.com", "Dee", "D", "no", "2024-05-01 11:00:00"),
        (5, "e@example.com", "Eve", "E", "no", "2024-05-01 12:00:00")])
    write_csv(tmp_path / "contacts-3.csv", [
        (6, "f@example.com", "Fay", "F", "yes", "2024-05-04 10:00:00")])


def test_a_crash_right_after_a_files_last_page_committed_neither_rereads_nor_skips_it(
        tmp_path: Path, copernica_fake: FakeCopernica,
        caplog: pytest.LogCaptureFixture) -> None:
    _three_files(tmp_path)
    sorted_stream = {"incremental": {"cursor_field": "updated_at", "sorted": True}}
    with pytest.raises(_Crash):
        # Dies after contacts-2.csv's page (the second) committed: where the JSON
        # ledger used to be written, after the commit.
        _run(tmp_path, copernica_fake, _conn(tmp_path, **sorted_stream),
             progress=_CrashAfterPage(2))
    caplog.set_level(logging.INFO, "copernica_sync.connectors.cms_generic")
    again = _run(tmp_path, copernica_fake, _conn(tmp_path, **sorted_stream))
    # contacts-2.csv is not read again; contacts-3.csv (never committed) is, once.
    # contacts-1.csv holds the bookmark's own value, which a run reads again by
    # design (its start is inclusive), and finds unchanged.
    assert "contacts-2.csv was already synced" in caplog.text
    assert again.streams[0].read == 3 and again.streams[0].written == 1
    assert _files(tmp_path) == ["contacts-1.csv", "contacts-2.csv", "contacts-3.csv"]
    assert len(copernica_fake.profiles("Customers")) == 6


def test_a_file_is_entered_in_the_stream_state_with_its_last_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_source, "PAGE_ROWS", 2)
    write_csv(tmp_path / "contacts-1.csv", [
        (i, f"p{i}@example.com", "P", "Q", "no", f"2024-05-0{i} 10:00:00") for i in (1, 2, 3, 4)])
    stream = _conn(tmp_path).streams()[0]
    pages = stream.read(None, "2999-01-01T00:00:00")
    assert len(next(pages)) == 2 and stream.state["files"] == {}
    assert len(next(pages)) == 2  # the file's last page: it carries the file's entry
    assert [e["path"] for e in stream.state["files"].values()] == [
        str(tmp_path / "contacts-1.csv")]
    assert next(pages, None) is None


def test_a_dry_run_does_not_write_the_stream_state(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    _three_files(tmp_path)
    _run(tmp_path, copernica_fake, _conn(tmp_path), dry_run=True)
    assert _files(tmp_path) == []
    _run(tmp_path, copernica_fake, _conn(tmp_path))
    assert _files(tmp_path) == ["contacts-1.csv", "contacts-2.csv", "contacts-3.csv"]


def test_the_json_ledger_of_older_releases_is_taken_over_once(
        tmp_path: Path, copernica_fake: FakeCopernica,
        caplog: pytest.LogCaptureFixture) -> None:
    _three_files(tmp_path)
    _run(tmp_path, copernica_fake, _conn(tmp_path))
    with StateStore(tmp_path / "state.sqlite3") as state:
        files = state.stream_state("contacts")["files"]
        # What an older release left behind: the ledger file, and no stream state.
        (tmp_path / "ledger.json").write_text(json.dumps({"contacts": files}),
                                              encoding="utf-8")
        state.reset(hashes=False)
        with state.checkpoint() as cp:
            cp.set_bookmark("contacts", "2024-05-04T10:00:00")
    caplog.set_level(logging.INFO, "copernica_sync.connectors.cms_generic")
    taken = _run(tmp_path, copernica_fake, _conn(tmp_path))
    assert "took over 3 processed file(s)" in caplog.text
    # Files the ledger knew, older than the bookmark, are skipped as before.
    assert caplog.text.count("was already synced") == 2
    assert taken.streams[0].read == 1  # contacts-3.csv holds the bookmark's value
    assert _files(tmp_path) == ["contacts-1.csv", "contacts-2.csv", "contacts-3.csv"]
    # Once taken over, the file is not read again: emptying it changes nothing.
    (tmp_path / "ledger.json").write_text("{}", encoding="utf-8")
    caplog.clear()
    _run(tmp_path, copernica_fake, _conn(tmp_path))
    assert "took over" not in caplog.text
    assert caplog.text.count("was already synced") == 2


def test_state_reset_of_the_stream_forgets_its_processed_files(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    source = preset_source("csv", ledger_path=str(tmp_path / "ledger.json"))
    source["streams"] = {"contacts": {**source["streams"]["contacts"],
                                      "path": str(tmp_path / "contacts-*.csv")}}
    config = write_config(tmp_path / "copernica-sync.toml", copernica_fake, source,
                          preset("csv")["target"])
    invoke(config, "schema", "apply", code=0)
    _three_files(tmp_path)
    invoke(config, "run", code=0)
    state_file = next(tmp_path.rglob("*.sqlite3"))
    with StateStore(state_file) as state:
        assert len(state.stream_state("contacts")["files"]) == 3
    invoke(config, "state", "reset", "--stream", "contacts", "--yes", code=0)
    with StateStore(state_file) as state:
        assert state.stream_state("contacts") == {}
