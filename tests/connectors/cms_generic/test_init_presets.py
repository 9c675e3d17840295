"""Issue 18: ``copernica-sync init --connector cms_generic --preset NAME`` writes a
config that ``check`` accepts once the address and the credentials are filled in."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import testing as fake
from copernica_sync.connectors.cms_generic.testing import FakeCms

from ._cli import FIXTURES, invoke

CREDENTIALS = {
    "wordpress": {"WP_USER": fake.USER, "WP_APP_PASSWORD": fake.PASSWORD},
    "drupal": {"DRUPAL_USER": fake.USER, "DRUPAL_PASSWORD": fake.PASSWORD},
    "csv": {},
}


@pytest.mark.parametrize("name", ["wordpress", "drupal", "csv"])
def test_init_with_a_preset_writes_a_config_that_check_accepts_once_filled_in(
        tmp_path: Path, copernica_fake: FakeCopernica, name: str) -> None:
    config = tmp_path / "copernica-sync.toml"
    written = invoke(config, "init", "--connector", "cms_generic", "--preset", name, code=0)
    assert f"from the {name} preset" in written.stdout
    text = config.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["source"]["connector"] == "cms_generic"
    assert data["source"]["streams"], "the preset's streams are in the file"
    assert data["target"]["streams"], "and its mapping"
    assert data["copernica"]["access_token"] == "${COPERNICA_ACCESS_TOKEN}"

    # Fill in what a site owner fills in: the address (or the export's path) and
    # the credentials' variables.
    if name == "csv":
        shutil.copyfile(FIXTURES / "excel-iso-corrected.csv", tmp_path / "contacts-1.csv")
        text = text.replace("/srv/exports/contacts-*.csv", str(tmp_path / "contacts-*.csv"))
        text = text.replace("/var/lib/copernica-sync/contacts-ledger.json",
                            str(tmp_path / "ledger.json"))
        config.write_text(text, encoding="utf-8")
    with FakeCms(5) as cms:
        env = {"COPERNICA_ACCESS_TOKEN": copernica_fake.token,
               "COPERNICA_SYNC__COPERNICA__ENDPOINT": copernica_fake.url,
               "COPERNICA_SYNC__SYNC__STATE_PATH": str(tmp_path / "state.sqlite3"),
               **CREDENTIALS[name]}
        if name != "csv":
            env["COPERNICA_SYNC__SOURCE__BASE_URL"] = cms.url
        checked = invoke(config, "check", env=env, code=0)
        assert "source (cms_generic): ok" in checked.stdout
        invoke(config, "schema", "apply", env=env, code=0)
        invoke(config, "run", env=env, code=0)
    assert len(copernica_fake.profiles("Customers")) == (24 if name == "csv" else 5)


def test_init_without_a_preset_offers_them_and_writes_no_empty_streams(tmp_path: Path) -> None:
    config = tmp_path / "copernica-sync.toml"
    invoke(config, "init", "--connector", "cms_generic", code=0)
    text = config.read_text(encoding="utf-8")
    assert "--preset csv|drupal|wordpress" in text
    assert 'streams = ""' not in text
    assert "streams" not in tomllib.loads(text)["source"]


def test_init_with_an_unknown_preset_names_the_ones_offered(tmp_path: Path) -> None:
    result = invoke(tmp_path / "c.toml", "init", "--preset", "joomla", code=2)
    assert "csv, drupal, wordpress" in result.stderr
    assert not (tmp_path / "c.toml").exists()
