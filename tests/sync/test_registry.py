"""Connector discovery through entry points; a broken plugin never breaks the others."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import pytest

from copernica_sdk.sync import registry
from copernica_sdk.sync.errors import ConfigError


def fake_entry_points(*eps: EntryPoint):  # type: ignore[no-untyped-def]
    return lambda group: [ep for ep in eps if ep.group == group]


GOOD = EntryPoint("woocommerce", "copernica_sync.connectors.woocommerce:WooCommerceConnector",
                  registry.ENTRY_POINT_GROUP)
BROKEN = EntryPoint("broken", "no_such_module_anywhere:Connector", registry.ENTRY_POINT_GROUP)
NOT_A_CONNECTOR = EntryPoint("wrong", "json:dumps", registry.ENTRY_POINT_GROUP)


def test_the_built_in_connector_is_registered() -> None:
    found = registry.discover(env={})
    assert found["woocommerce"].connector is not None
    assert found["woocommerce"].distribution == "copernica-sdk"


def test_a_broken_plugin_is_listed_with_its_error_and_warned_about(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(registry, "entry_points", fake_entry_points(GOOD, BROKEN, NOT_A_CONNECTOR))
    with caplog.at_level(logging.WARNING):
        found = registry.discover(env={})
    assert found["woocommerce"].connector is not None
    assert found["broken"].connector is None and "ModuleNotFoundError" in str(found["broken"].error)
    assert "not a Connector subclass" in str(found["wrong"].error)
    assert "'broken'" in caplog.text


def test_loading_a_broken_plugin_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", fake_entry_points(BROKEN))
    with pytest.raises(ConfigError, match=r"'broken'.*is broken"):
        registry.load_connector("broken", env={})


def test_an_unknown_connector_lists_the_installed_ones() -> None:
    with pytest.raises(ConfigError, match=r"no connector named 'shopify' \(installed: .*woocommerce"):
        registry.load_connector("shopify", env={})


def test_plugins_can_be_disabled_by_name() -> None:
    assert "woocommerce" not in registry.discover(
        env={"COPERNICA_SYNC_DISABLE_PLUGINS": "woocommerce"})


def test_loading_one_connector_imports_no_other_plugin(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(registry, "entry_points", fake_entry_points(BROKEN, GOOD, NOT_A_CONNECTOR))
    with caplog.at_level(logging.WARNING):
        connector = registry.load_connector("woocommerce", env={})
    assert connector.__name__ == "WooCommerceConnector"
    assert "'broken'" not in caplog.text and "'wrong'" not in caplog.text


def test_a_disabled_connector_is_not_loaded_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", fake_entry_points(GOOD))
    with pytest.raises(ConfigError, match=r"no connector named 'woocommerce'"):
        registry.load_connector("woocommerce", env={"COPERNICA_SYNC_DISABLE_PLUGINS": "woocommerce"})
