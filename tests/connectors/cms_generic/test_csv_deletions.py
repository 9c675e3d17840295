"""Issue 18: rows that leave a full CSV export can be marked deleted in Copernica
(``mark_missing_as_deleted``), opt-in, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copernica_sdk.testing.fake_copernica import FakeCopernica

from ._cli import FIXTURES, invoke, write_config
from ._helpers import preset

LINES = (FIXTURES / "excel-iso-corrected.csv").read_text(encoding="utf-8").splitlines()


def _export(tmp_path: Path, ids: set[int]) -> None:
    rows = [line for line in LINES[1:] if int(line.split(";")[0]) in ids]
    (tmp_path / "contacts.csv").write_text("\n".join([LINES[0], *rows]) + "\n", encoding="utf-8")


def _setup(tmp_path: Path, copernica: FakeCopernica, *, deletions: bool = True) -> Path:
    data = preset("csv")
    source = dict(data["source"])
    source["ledger_path"] = str(tmp_path / "ledger.json")
    source["streams"] = {"contacts": {**source["streams"]["contacts"],
                                      "path": str(tmp_path / "contacts.csv"),
                                      "mark_missing_as_deleted": deletions}}
    target = data["target"]
    profile = target["streams"]["contacts"]["profile"]
    fields = {**profile["fields"],
              "deleted_at": {"source": "_deleted_at | datetime", "type": "empty_datetime"}}
    target = {**target, "streams": {"contacts": {"profile": {**profile, "fields": fields}}}}
    config = write_config(tmp_path / "copernica-sync.toml", copernica, source, target)
    invoke(config, "schema", "apply", code=0)
    return config


def _deleted(copernica: FakeCopernica) -> dict[str, Any]:
    return {p["fields"]["email"]: p["fields"]["deleted_at"] for p in copernica.profiles("Customers")}


def test_rows_missing_from_the_next_full_export_are_marked_deleted_once(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake)
    _export(tmp_path, set(range(1, 25)))
    invoke(config, "run", code=0)
    assert set(_deleted(copernica_fake).values()) == {""}

    _export(tmp_path, set(range(1, 21)))  # 21 to 24 were deleted in the CMS
    invoke(config, "run", code=0)
    marks = _deleted(copernica_fake)
    assert len(marks) == 24  # profiles are kept, only marked
    assert sorted(k for k, v in marks.items() if v) == [
        f"klant{i}@example.nl" for i in (21, 22, 23, 24)]

    copernica_fake.reset_calls()
    invoke(config, "run", code=0)
    assert copernica_fake.write_calls() == 0

    _export(tmp_path, {*range(1, 21), 22})  # 22 came back
    invoke(config, "run", code=0)
    assert _deleted(copernica_fake)["klant22@example.nl"] == ""
    assert _deleted(copernica_fake)["klant23@example.nl"] != ""


def test_an_empty_export_marks_nobody_deleted(tmp_path: Path,
                                             copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake)
    _export(tmp_path, set(range(1, 25)))
    invoke(config, "run", code=0)
    _export(tmp_path, set())
    invoke(config, "run", code=0)
    assert set(_deleted(copernica_fake).values()) == {""}


def test_without_the_option_deleted_rows_keep_their_profile_unmarked(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    config = _setup(tmp_path, copernica_fake, deletions=False)
    _export(tmp_path, set(range(1, 25)))
    invoke(config, "run", code=0)
    _export(tmp_path, set(range(1, 21)))
    invoke(config, "run", code=0)
    assert len(_deleted(copernica_fake)) == 24
    assert set(_deleted(copernica_fake).values()) == {""}
