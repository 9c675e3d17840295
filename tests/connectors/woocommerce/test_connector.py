"""WooCommerceConnector: settings, check(), streams and the default mapping."""

from __future__ import annotations

from typing import Any

import pytest

from copernica_sdk.sync.errors import ConfigError, SourceAuthError
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import connector_for

BASE = {"url": "https://shop.example", "consumer_key": "ck_abc123", "consumer_secret": "cs_def456"}


def test_config_defaults_are_filled_in() -> None:
    connector = WooCommerceConnector(BASE)
    cfg = connector.config
    assert (cfg["query_string_auth"], cfg["timeout"], cfg["per_page"], cfg["role"]) == (False, 60, 100, "customer,subscriber")
    assert (cfg["newsletter_meta_key"], cfg["include_trash"], cfg["start_date"]) == ("newsletter_opt_in", True, None)
    assert connector.client.auth_mode == "basic"
    assert connector.client.timeout == 60.0
    assert sorted(connector.secrets()) == ["ck_abc123", "cs_def456"]


def test_every_config_problem_is_reported_at_once_with_its_key() -> None:
    with pytest.raises(ConfigError) as info:
        WooCommerceConnector({**BASE, "per_page": 500, "timeout": 0, "start_date": "yesterday",
                              "shop_id": "it's", "newsletter_meta_key": "a]b"})
    problems = info.value.problems
    for key in ("per_page", "timeout", "start_date", "shop_id", "newsletter_meta_key"):
        assert any(p.startswith(f"source.{key}:") for p in problems), key


def test_missing_keys_are_required_and_secrets_never_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        WooCommerceConnector({"url": "https://shop.example", "consumer_key": 123})
    text = str(info.value)
    assert "source.consumer_secret: required" in text and "(hidden)" in text


def test_query_string_auth_over_remote_plain_http_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        WooCommerceConnector({**BASE, "url": "http://shop.example", "query_string_auth": True})
    assert info.value.problems[0].startswith("source.url:")


@pytest.mark.parametrize(("url", "shop_id"), [
    ("https://www.Shop.example/", "shop.example"),
    ("https://shop.example/nl/wp-json/wc/v3", "shop.example/nl"),
])
def test_shop_id_defaults_to_the_url_host(url: str, shop_id: str) -> None:
    assert WooCommerceConnector({**BASE, "url": url}).shop_id == shop_id


def test_check_reads_system_status_and_detects_capabilities(shop: FakeShop) -> None:
    connector = connector_for(shop)
    connector.check()
    assert shop.calls["system_status"] == 1
    assert connector.client.capabilities().sorted_orders


def test_check_falls_back_to_customers_when_system_status_is_forbidden(shop: FakeShop) -> None:
    shop.system_status_forbidden = True
    connector = connector_for(shop)
    connector.check()
    assert shop.calls["customers"] == 1
    assert connector.streams()[1].is_sorted


def test_check_with_a_wrong_key_says_so_without_the_secret(shop: FakeShop) -> None:
    connector = WooCommerceConnector(shop.source_config(consumer_secret="cs_not_the_secret"))
    with pytest.raises(SourceAuthError) as info:
        connector.check()
    assert "WooCommerce refused the API key" in str(info.value)
    assert "cs_not_the_secret" not in str(info.value) and shop.consumer_key not in str(info.value)


def test_orders_is_sorted_is_decided_lazily_from_the_store(shop: FakeShop) -> None:
    connector = connector_for(shop)
    assert shop.calls == {}
    assert connector.streams()[1].is_sorted is True
    assert connector.streams()[0].is_sorted is False
    assert shop.calls["system_status"] == 1


def test_streams_are_customers_then_orders_with_their_keys() -> None:
    streams = WooCommerceConnector(BASE).streams()
    assert [(s.name, s.primary_key, s.replication_key) for s in streams] == [
        ("customers", "id", "date_modified_gmt"), ("orders", "id", "date_modified_gmt")]


def test_default_mapping_keys_people_by_normalised_email_with_orders_as_collections() -> None:
    mapping: dict[str, Any] = dict(WooCommerceConnector(
        {**BASE, "shop_id": "nl-shop", "newsletter_meta_key": "mailpoet_opt_in"}).default_mapping())
    assert (mapping["database"], mapping["profile_key"]) == ("Customers", "customer_key")
    customers = mapping["streams"]["customers"]["profile"]
    orders = mapping["streams"]["orders"]
    assert customers["key"] == "email | normalize_email"
    assert customers["fields"]["newsletter"] == {
        "source": "meta_data[key=mailpoet_opt_in].value | bool", "if_missing": "keep"}
    assert customers["fields"]["shop_id"] == "'nl-shop'"
    assert orders["profile"]["key"] == "billing.email | normalize_email"
    assert orders["profile"]["source_id"] == "customer_id"
    assert set(orders["collections"]) == {"Orders", "OrderItems"}
    assert orders["collections"]["Orders"]["fields"]["total"] == {"source": "total | number:2", "type": "float"}
    items = orders["collections"]["OrderItems"]
    assert (items["each"], items["key_field"], items["fields"]["item_key"]) == ("line_items", "item_key",
                                                                                "{$parent.id}-{id}")


def test_default_mapping_parses_and_maps_every_generated_record() -> None:
    mapping_module = pytest.importorskip("copernica_sdk.sync.mapping")
    connector = WooCommerceConnector({**BASE, "url": "https://www.shop.example"})
    target = mapping_module.parse_target({}, connector.default_mapping())
    shop = FakeShop(customers=60, orders=200, seed=4)
    for stream, rows in (("customers", shop.customers), ("orders", shop.orders)):
        for row in rows:
            mapped = target.streams[stream].apply(row, record_id=row["id"])
            email = row["email"] if stream == "customers" else row["billing"]["email"]
            assert mapped.profile.key == str(email).strip().lower()
            assert mapped.profile.fields["shop_id"] == "shop.example"
