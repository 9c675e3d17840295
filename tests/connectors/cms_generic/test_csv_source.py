"""CSV streams: globbing, the processed-files ledger, dead-lettered bad rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, schema
from copernica_sdk.sync.connector import Rejected
from copernica_sdk.sync.engine import SyncEngine
from copernica_sdk.sync.errors import SourceError
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import ExitCode, RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import DeadLetter, StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import GenericCmsConnector, csv_source

from ._helpers import connector, preset, preset_source, read_all, write_csv

ROWS = [(1, "a@example.com", "Ann", "A", "yes", "2024-05-01 10:00:00"),
        (2, "b@example.com", "Bob", "B", "no", "2024-05-02 10:00:00"),
        (3, "c@example.com", "Cas", "C", "1", "2024-05-03T10:00:00Z")]


def _conn(tmp_path: Path) -> GenericCmsConnector:
    config = preset_source("csv", ledger_path=str(tmp_path / "ledger.json"))
    config["streams"] = {"contacts": {**config["streams"]["contacts"],
                                      "path": str(tmp_path / "contacts-*.csv")}}
    return connector(config)


def test_rows_become_records_with_renamed_columns_and_a_utc_cursor(tmp_path: Path) -> None:
    write_csv(tmp_path / "contacts-1.csv", ROWS)
    records = read_all(_conn(tmp_path), "contacts")
    assert [r["contact_id"] for r in records] == ["1", "2", "3"]
    assert records[0]["email"] == "a@example.com"
    assert [r["_cursor"] for r in records] == ["2024-05-01T10:00:00", "2024-05-02T10:00:00",
                                               "2024-05-03T10:00:00"]


def _sync(tmp_path: Path, fake: FakeCopernica, mapping: dict[str, Any]
          ) -> tuple[RunReport, list[DeadLetter]]:
    """One run of the CSV stream in ``tmp_path`` with ``mapping`` as ``[target]``."""
    conn = _conn(tmp_path)
    target = parse_target(mapping, conn.default_mapping())
    client = CopernicaClient(fake.token, endpoint=fake.url)
    schema.apply(client, schema.plan(client, schema_for(target)))
    with StateStore(tmp_path / "state.sqlite3") as state:
        return SyncEngine(client, conn, target, state, job="csv").run(), state.dead_letters()


def test_a_rerun_with_a_bookmark_skips_files_already_processed(tmp_path: Path) -> None:
    write_csv(tmp_path / "contacts-1.csv", ROWS)
    assert len(read_all(_conn(tmp_path), "contacts")) == 3
    # The next run starts at the bookmark: the processed file is not even parsed.
    assert read_all(_conn(tmp_path), "contacts", "2024-05-03T10:00:01") == []
    # A new export is read; the old one is still skipped.
    write_csv(tmp_path / "contacts-2.csv", [(4, "d@example.com", "Dee", "D", "no",
                                             "2024-06-01 09:00:00")])
    assert [r["contact_id"] for r in read_all(_conn(tmp_path), "contacts",
                                              "2024-05-03T10:00:01")] == ["4"]


def test_without_a_bookmark_the_ledger_is_ignored_so_a_fresh_state_resyncs(
        tmp_path: Path) -> None:
    write_csv(tmp_path / "contacts-1.csv", ROWS)
    read_all(_conn(tmp_path), "contacts")
    assert len(read_all(_conn(tmp_path), "contacts", None)) == 3


def test_a_changed_file_is_reread_in_full(tmp_path: Path) -> None:
    # Issue 18: rows older than the bookmark in a corrected export must not be dropped;
    # the engine skips the unchanged ones by their digest.
    path = write_csv(tmp_path / "contacts-1.csv", ROWS)
    read_all(_conn(tmp_path), "contacts")
    write_csv(path, [*ROWS[:2], (3, "c@example.com", "Cas", "C", "0", "2024-07-01 00:00:00")])
    again = read_all(_conn(tmp_path), "contacts", "2024-05-03T10:00:01")
    assert [(r["contact_id"], r["newsletter"]) for r in again] == [
        ("1", True), ("2", False), ("3", False)]


def test_a_file_is_recorded_only_after_its_last_page_was_handed_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_source, "PAGE_ROWS", 2)
    write_csv(tmp_path / "contacts-1.csv", ROWS)
    stream = _conn(tmp_path).streams()[0]
    pages = stream.read("2024-01-01T00:00:00", "2999-01-01T00:00:00")
    assert len(next(pages)) == 2  # not the file's last page
    pages.close()  # the run stopped before the engine asked for more
    assert stream.state["files"] == {}
    assert not (tmp_path / "ledger.json").exists()  # the JSON ledger is no longer written


def test_bad_rows_are_dead_lettered_with_their_line_number(tmp_path: Path) -> None:
    (tmp_path / "contacts-1.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;yes;2024-05-01 10:00:00\n"
        "2;b@example.com;Bob\n"
        ";c@example.com;Cas;C;no;2024-05-01 10:00:00\n"
        "4;d@example.com;Dee;D;no;yesterday\n", encoding="utf-8")
    records = read_all(_conn(tmp_path), "contacts")
    bad = [r for r in records if isinstance(r, Rejected)]
    assert [r.reason for r in bad] == [
        "contacts contacts-1.csv line 3: has 3 columns, the header 6: no value for "
        "'Last name', 'Newsletter', 'Updated'; fix the row in the file (a missing ';', or "
        "a line break inside an unquoted value)",
        "contacts contacts-1.csv line 4: column 'Contact ID' (contact_id) is empty; it is "
        "the stream's primary_key: give every row its key in the export",
        "contacts contacts-1.csv line 5: column 'Updated' (updated_at) "
        "(incremental.cursor_field): 'yesterday' is not a date/time in the stream's "
        "date_format (none configured) nor ISO-8601 (set date_format, e.g. "
        "\"%d-%m-%Y %H:%M\")",
    ]
    assert bad[1].record["contact_id"] == "contacts-1.csv line 4"


def test_a_missing_csv_file_fails_check_and_read(tmp_path: Path) -> None:
    conn = _conn(tmp_path)
    with pytest.raises(SourceError, match="no file matches"):
        conn.check()


def test_through_the_engine_bad_rows_land_in_dead_letters_and_the_rest_syncs(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    (tmp_path / "contacts-1.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;yes;2024-05-01 10:00:00\n"
        "2;b@example.com;Bob\n"
        "3;c@example.com;Cas;C;no;2024-05-02 10:00:00\n", encoding="utf-8")
    report, letters = _sync(tmp_path, copernica_fake, preset("csv")["target"])
    assert report.exit_code is ExitCode.DEAD_LETTERED
    assert [(d.stream, d.reason) for d in letters] == [
        ("contacts", "contacts contacts-1.csv line 3: has 3 columns, the header 6: no value "
                     "for 'Last name', 'Newsletter', 'Updated'; fix the row in the file (a "
                     "missing ';', or a line break inside an unquoted value)")]
    synced = sorted(p["fields"]["email"] for p in copernica_fake.profiles("Customers"))
    assert synced == ["a@example.com", "c@example.com"]
    assert report.totals()["written"] + report.totals()["dead_lettered"] == 3


def test_a_row_the_csv_parser_cannot_read_is_that_rows_dead_letter(tmp_path: Path) -> None:
    """A cell over the parser's 128 KiB limit failed the whole file (exit 5); it is one
    row's problem, and the rows after it are read."""
    (tmp_path / "contacts-1.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;yes;2024-05-01 10:00:00\n"
        f"2;b@example.com;{'x' * 200_000};B;no;2024-05-01 10:00:00\n"
        "3;c@example.com;Cas;C;no;2024-05-01 10:00:00\n", encoding="utf-8")
    records = read_all(_conn(tmp_path), "contacts")
    bad = [r for r in records if isinstance(r, Rejected)]
    assert [r["contact_id"] for r in records if not isinstance(r, Rejected)] == ["1", "3"]
    assert len(bad) == 1 and bad[0].reason.startswith(
        "contacts contacts-1.csv line 3: the row cannot be read as CSV (field larger")
    assert bad[0].reason.endswith("fix the row in the file (a quote left open, or a cell "
                                  "over 128 KiB)")


def test_a_row_with_more_cells_than_the_header_names_the_last_column_and_the_fix(
        tmp_path: Path) -> None:
    (tmp_path / "contacts-1.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;yes;2024-05-01 10:00:00;extra\n", encoding="utf-8")
    [bad] = read_all(_conn(tmp_path), "contacts")
    assert isinstance(bad, Rejected)
    assert bad.reason == ("contacts contacts-1.csv line 2: has 7 columns, the header 6: the "
                          "cells after 'Updated' have no column; quote values that contain "
                          "';', or check the stream's delimiter")


def test_a_rejected_row_is_dead_lettered_even_when_the_mapping_reads_only_its_key(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    """A BadRow raised only when the mapping read a field other than the key and the
    cursor: a mapping keyed by the contact id wrote the bad row's stand-in key."""
    (tmp_path / "contacts-1.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;yes;2024-05-01 10:00:00\n"
        ";b@example.com;Bob;B;no;2024-05-01 10:00:00\n", encoding="utf-8")
    report, letters = _sync(tmp_path, copernica_fake, {
        "database": "Customers", "streams": {"contacts": {"profile": {
            "key": "contact_id", "fields": {"synced": "_cursor | datetime"}}}}})
    assert report.exit_code is ExitCode.DEAD_LETTERED
    assert [(d.record_key, d.reason) for d in letters] == [
        ("contacts-1.csv line 3", "contacts contacts-1.csv line 3: column 'Contact ID' "
         "(contact_id) is empty; it is the stream's primary_key: give every row its key in "
         "the export")]
    assert [p["fields"]["customer_key"] for p in copernica_fake.profiles("Customers")] == ["1"]
