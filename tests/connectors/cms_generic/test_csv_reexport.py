"""Issue 18: spreadsheet exports as Excel (Dutch locale) and phpMyAdmin write them,
through the CLI: a corrected export saved under the same name, stale dead letters,
locale settings, encodings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.sync.connector import Rejected
from copernica_sdk.sync.errors import SourceError
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ._cli import FIXTURES, invoke, write_config
from ._helpers import connector, preset, read_all

DUTCH = {"date_format": ["%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S"], "decimal_comma": True}


def _setup(tmp_path: Path, copernica: FakeCopernica, **stream: Any) -> Path:
    """The CSV preset on ``tmp_path/contacts.csv`` plus a ``total_spent`` column."""
    data = preset("csv")
    source = dict(data["source"])
    source["ledger_path"] = str(tmp_path / "ledger.json")
    contacts = dict(source["streams"]["contacts"])
    contacts["path"] = str(tmp_path / "contacts.csv")
    contacts["columns"] = {**contacts["columns"], "Total spent": "total_spent"}
    contacts["types"] = {**contacts["types"], "total_spent": "number"}
    contacts.update(stream)
    source["streams"] = {"contacts": contacts}
    target = data["target"]
    fields = dict(target["streams"]["contacts"]["profile"]["fields"])
    fields["total_spent"] = {"source": "total_spent | number:2", "type": "float"}
    target = {**target, "streams": {"contacts": {
        **target["streams"]["contacts"],
        "profile": {**target["streams"]["contacts"]["profile"], "fields": fields}}}}
    config = write_config(tmp_path / "copernica-sync.toml", copernica, source, target)
    invoke(config, "schema", "apply", code=0)
    return config


def _place(tmp_path: Path, fixture: str) -> None:
    shutil.copyfile(FIXTURES / fixture, tmp_path / "contacts.csv")


def _profiles(copernica: FakeCopernica) -> dict[str, dict[str, Any]]:
    return {p["fields"]["email"]: p["fields"] for p in copernica.profiles("Customers")}


def _open_letters(tmp_path: Path) -> list[str]:
    with StateStore(tmp_path / "state.sqlite3") as state:
        return sorted(d.record_key for d in state.dead_letters())


def test_a_corrected_export_saved_under_the_same_name_is_synced_in_full(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake)
    _place(tmp_path, "excel-nl-cp1252.csv")
    # Dutch dates without date_format: every row is dead-lettered, the run says so.
    first = invoke(config, "run", code=1)
    assert "24 record(s) could not be synced" in first.output + first.stderr
    assert _profiles(copernica_fake) == {}
    assert len(_open_letters(tmp_path)) == 24

    _place(tmp_path, "excel-iso-corrected.csv")  # same name, rows older than the bookmark
    invoke(config, "run", code=0)
    profiles = _profiles(copernica_fake)
    assert len(profiles) == 24
    assert profiles["klant3@example.nl"]["newsletter"] == "0"
    assert profiles["klant3@example.nl"]["updated"] == "2026-11-04 15:21:00"
    # The dead letters of rows that now synced are resolved.
    assert _open_letters(tmp_path) == []

    copernica_fake.reset_calls()
    invoke(config, "run", code=0)
    assert copernica_fake.write_calls() == 0


def test_fixing_the_date_format_rereads_a_file_whose_rows_failed(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake)
    _place(tmp_path, "excel-nl-cp1252.csv")
    invoke(config, "run", code=1)
    # The unchanged file was not marked processed: with the settings fixed it syncs.
    config = _setup(tmp_path, copernica_fake, **DUTCH)
    invoke(config, "run", code=0)
    assert len(_profiles(copernica_fake)) == 24
    assert _open_letters(tmp_path) == []


def test_dlq_retry_leaves_letters_of_a_changed_file_alone_and_points_to_run(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake)
    _place(tmp_path, "excel-nl-cp1252.csv")
    invoke(config, "run", code=1)
    _place(tmp_path, "excel-iso-corrected.csv")

    retry = invoke(config, "dlq", "retry", code=1)
    assert "holds newer data for the row" in retry.stderr
    assert "run `copernica-sync run` instead" in retry.stderr
    assert _profiles(copernica_fake) == {}  # the old, bad payloads were not resent
    assert len(_open_letters(tmp_path)) == 24

    invoke(config, "run", code=0)
    assert _open_letters(tmp_path) == []


@pytest.mark.parametrize("fixture", ["excel-nl-cp1252.csv", "excel-nl-utf8-bom.csv"])
def test_a_dutch_excel_export_reads_with_the_locale_settings(
        tmp_path: Path, copernica_fake: FakeCopernica, fixture: str) -> None:
    config = _setup(tmp_path, copernica_fake, **DUTCH)
    _place(tmp_path, fixture)
    invoke(config, "run", code=0)
    profiles = _profiles(copernica_fake)
    assert len(profiles) == 24
    tom = profiles["klant3@example.nl"]
    assert (tom["firstname"], tom["lastname"]) == ("Tom & Jerry", "O\u2019Brien")
    assert (tom["newsletter"], tom["updated"], tom["total_spent"]) == (
        "0", "2026-11-04 15:21:00", "309.75")
    assert profiles["klant1@example.nl"]["newsletter"] == "1"  # WAAR
    assert profiles["klant1@example.nl"]["lastname"] == "van 't Hof"
    assert profiles["klant10@example.nl"]["total_spent"] == "1032.50"  # 1.032,50
    assert profiles["klant2@example.nl"]["firstname"] == "Zoë"


def test_a_phpmyadmin_export_reads_null_as_empty(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake, delimiter=",", null_values=["NULL"])
    _place(tmp_path, "phpmyadmin.csv")
    invoke(config, "run", code=0)
    profiles = _profiles(copernica_fake)
    assert len(profiles) == 24
    assert profiles["klant5@example.nl"]["lastname"] == ""
    assert profiles["klant1@example.nl"]["updated"] == "2026-11-02 05:07:00"


def _stream_conn(tmp_path: Path, **stream: Any) -> Any:
    source = dict(preset("csv")["source"])
    source["ledger_path"] = str(tmp_path / "ledger.json")
    source["streams"] = {"contacts": {**source["streams"]["contacts"],
                                      "path": str(tmp_path / "contacts.csv"), **stream}}
    return connector(source)


def test_a_word_that_is_neither_yes_nor_no_is_dead_lettered_not_read_as_no(
        tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        "1;a@example.com;Ann;A;misschien;2024-05-01 10:00:00\n"
        "2;b@example.com;Bob;B;Ja;2024-05-01 10:00:00\n", encoding="utf-8")
    first, second = read_all(_stream_conn(tmp_path), "contacts")
    assert isinstance(first, Rejected)
    assert first.reason.startswith("contacts contacts.csv line 2: column 'Newsletter' "
                                   "(newsletter): 'misschien' is neither a true word")
    assert first.reason.endswith("fix the value in the export, or the column's type "
                                 "(types.newsletter = 'bool')")
    assert second["newsletter"] is True


def test_a_file_that_is_neither_utf8_nor_windows_1252_stops_the_stream_naming_the_line(
        tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_bytes(
        b"Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"
        b"1;a@example.com;Ann;A;yes;2024-05-01 10:00:00\n"
        b"2;b@example.com;B\x81b;B;no;2024-05-01 10:00:00\n")
    with pytest.raises(SourceError, match="line 3 is neither UTF-8 nor Windows-1252"):
        read_all(_stream_conn(tmp_path), "contacts")


def test_an_explicit_encoding_drops_a_byte_order_mark_and_stays_strict(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts with a BOM; with encoding = "utf-8" it must not end
    # up in the first column's name (which would lose the primary key).
    shutil.copyfile(FIXTURES / "excel-nl-utf8-bom.csv", tmp_path / "contacts.csv")
    records = read_all(_stream_conn(tmp_path, encoding="utf-8", **DUTCH), "contacts")
    assert [r["contact_id"] for r in records][:3] == ["1", "2", "3"]
    assert records[1]["first_name"] == "Zo\u00eb"
    shutil.copyfile(FIXTURES / "excel-nl-cp1252.csv", tmp_path / "contacts.csv")
    with pytest.raises(SourceError, match="line 2 is not utf-8"):
        read_all(_stream_conn(tmp_path, encoding="utf-8"), "contacts")
