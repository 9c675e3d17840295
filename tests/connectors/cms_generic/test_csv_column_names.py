"""A CSV stream's key column may be named as its header spells it, spaces and all."""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk.sync.errors import ConfigError

from ._helpers import connector, preset, read_all, write_csv


def _source(tmp_path: Path, primary_key: str) -> dict[str, object]:
    source = dict(preset("csv")["source"])
    stream = dict(source["streams"]["contacts"])  # type: ignore[index]
    stream.update(path=str(tmp_path / "contacts-*.csv"), primary_key=primary_key, columns={})
    stream.pop("types", None)
    stream.pop("incremental", None)
    source.update(streams={"contacts": stream}, ledger_path=str(tmp_path / "ledger.json"))
    return source


@pytest.mark.parametrize("primary_key", ["Contact ID", "['Contact ID']"])
def test_a_key_column_with_a_space_works_bare_or_quoted(tmp_path: Path, primary_key: str) -> None:
    write_csv(tmp_path / "contacts-1.csv", [(7, "a@example.com", "Ann", "A", "yes", "")])
    records = read_all(connector(_source(tmp_path, primary_key)), "contacts")
    assert [r["Contact ID"] for r in records] == ["7"]
    stream = next(s for s in connector(_source(tmp_path, primary_key)).streams())
    assert records[0][stream.primary_key] == "7"  # where the engine reads a record's id


def test_a_key_that_is_neither_a_column_nor_a_path_is_refused_with_its_key(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        connector(_source(tmp_path, "items[*].id"))
    assert any("source.streams.contacts.primary_key" in p for p in error.value.problems)
