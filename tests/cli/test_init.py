"""``copernica-sync init`` writes a commented config to start from."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from copernica_sync.cli.main import main

from .conftest import TOKEN, Project, describe, ok


def test_init_writes_a_commented_config_for_the_connector(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "new.toml"
    result = project.invoke("--config", str(target), "init", "--connector", "woocommerce")
    ok(result)
    assert f"wrote {target}" in result.stdout
    assert "copernica-sync check" in result.stdout
    data = tomllib.loads(target.read_text(encoding="utf-8"))
    assert data["copernica"]["access_token"] == "${COPERNICA_ACCESS_TOKEN}"
    assert data["source"]["connector"] == "woocommerce"
    # Secrets are never written into the file, only references to the environment.
    assert data["source"]["consumer_key"] == "${WOOCOMMERCE_CONSUMER_KEY}"
    assert data["source"]["consumer_secret"] == "${WOOCOMMERCE_CONSUMER_SECRET}"
    assert "# concurrency = 8" in target.read_text(encoding="utf-8")


def test_init_without_config_writes_copernica_sync_toml_in_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ok(CliRunner().invoke(main, ["init"]))
    assert (tmp_path / "copernica-sync.toml").exists()


def test_init_honours_the_config_environment_variable(tmp_path: Path) -> None:
    target = tmp_path / "from-env.toml"
    ok(CliRunner().invoke(main, ["init"], env={"COPERNICA_SYNC_CONFIG": str(target)}))
    assert target.exists()


def test_config_written_by_init_loads_once_its_variables_are_set(project: Project,
                                                                 tmp_path: Path) -> None:
    target = tmp_path / "fresh.toml"
    ok(project.invoke("--config", str(target), "init"))

    missing = project.invoke("--config", str(target), "config", "show")
    assert missing.exit_code == 2, describe(missing)
    for var in ("COPERNICA_ACCESS_TOKEN", "WOOCOMMERCE_CONSUMER_KEY",
                "WOOCOMMERCE_CONSUMER_SECRET"):
        assert var in missing.stderr

    env = {"COPERNICA_ACCESS_TOKEN": TOKEN,
           "WOOCOMMERCE_CONSUMER_KEY": project.shop.consumer_key,
           "WOOCOMMERCE_CONSUMER_SECRET": project.shop.consumer_secret,
           # the template leaves the shop's address empty: the connector requires it
           "COPERNICA_SYNC__SOURCE__URL": project.shop.url}
    shown = ok(project.invoke("--config", str(target), "config", "show", env=env))
    assert "source.connector = 'woocommerce'" in shown.stdout
    assert TOKEN not in shown.output and project.shop.consumer_secret not in shown.output


def test_config_written_by_init_passes_check_once_filled_in(project: Project,
                                                            tmp_path: Path) -> None:
    """The whole first-time sequence on the generated file: settings the file leaves
    empty come from COPERNICA_SYNC__SECTION__KEY overrides."""
    target = tmp_path / "fresh.toml"
    ok(project.invoke("--config", str(target), "init"))
    env = {"COPERNICA_ACCESS_TOKEN": TOKEN,
           "WOOCOMMERCE_CONSUMER_KEY": project.shop.consumer_key,
           "WOOCOMMERCE_CONSUMER_SECRET": project.shop.consumer_secret,
           "COPERNICA_SYNC__SOURCE__URL": project.shop.url,
           "COPERNICA_SYNC__COPERNICA__ENDPOINT": project.copernica.url,
           "COPERNICA_SYNC__SYNC__STATE_PATH": str(tmp_path / "fresh.sqlite3")}
    checked = ok(project.invoke("--config", str(target), "check", env=env))
    assert "[default] source (woocommerce): ok" in checked.stdout
    ok(project.invoke("--config", str(target), "schema", "apply", env=env))
    ok(project.invoke("--config", str(target), "run", env=env))


def test_init_refuses_to_overwrite_an_existing_file(project: Project) -> None:
    before = project.config.read_text(encoding="utf-8")
    result = project.invoke("init")
    assert result.exit_code != 0, describe(result)
    assert "exists" in result.stderr and "--force" in result.stderr
    assert project.config.read_text(encoding="utf-8") == before


def test_init_refusing_to_overwrite_exits_with_the_config_error_code(project: Project) -> None:
    assert project.invoke("init").exit_code == 2


def test_init_force_overwrites(project: Project) -> None:
    ok(project.invoke("init", "--force"))
    assert "${COPERNICA_ACCESS_TOKEN}" in project.config.read_text(encoding="utf-8")


def test_init_with_an_unknown_connector_names_the_installed_ones(project: Project,
                                                                 tmp_path: Path) -> None:
    result = project.invoke("--config", str(tmp_path / "x.toml"), "init", "--connector", "shopify")
    assert result.exit_code == 2, describe(result)
    assert "'shopify'" in result.stderr and "woocommerce" in result.stderr
    assert not (tmp_path / "x.toml").exists()
