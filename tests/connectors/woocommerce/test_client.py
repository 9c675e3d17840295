"""WooClient against the fake shop: auth transports, errors, retries, page sizes, detection."""

from __future__ import annotations

import logging
import socket

import pytest
import responses

from copernica_sdk.sync.errors import (
    ConfigError,
    SourceAuthError,
    SourceError,
    SourceUnavailableError,
)
from copernica_sync.connectors.woocommerce import WooClient
from copernica_sync.connectors.woocommerce.auth import redact_text, redact_url
from copernica_sync.connectors.woocommerce.client import WOO_RETRY, WooHTTPError, parse_version
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import RecordedSleep, client_for


def _no_secret(text: str, shop: FakeShop) -> None:
    assert shop.consumer_secret not in text
    assert shop.consumer_key not in text


# ------------------------------------------------------------------ authentication

@pytest.mark.parametrize("mode", ["basic", "query", "oauth1"])
def test_each_auth_transport_is_accepted_by_the_shop(shop: FakeShop, mode: str) -> None:
    client = client_for(shop, auth=mode)
    page = client.get_page("orders", {"orderby": "id", "order": "asc"})
    assert len(page.records) == 100
    assert shop.requests[-1].auth == mode


def test_plain_http_store_is_signed_with_oauth1_by_default(shop: FakeShop) -> None:
    client = client_for(shop)
    assert client.auth_mode == "oauth1"
    client.get_page("customers", per_page=1)
    assert shop.requests[-1].auth == "oauth1"


def test_https_store_uses_basic_or_query_string_when_asked() -> None:
    assert WooClient("https://shop.example", "ck_x", "cs_y").auth_mode == "basic"
    assert WooClient("https://shop.example", "ck_x", "cs_y", query_string_auth=True).auth_mode == "query"


@pytest.mark.parametrize("kwargs", [{"query_string_auth": True}, {"auth": "basic"}, {"auth": "query"}])
def test_keys_in_clear_over_plain_http_to_a_remote_host_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        WooClient("http://shop.example", "ck_x", "cs_y", **kwargs)  # type: ignore[arg-type]
    assert "url:" in str(info.value)


def test_store_url_is_normalised_and_validated() -> None:
    client = WooClient("https://Shop.Example/nl/wp-json/wc/v3/", "ck_x", "cs_y")
    assert client.api_url == "https://shop.example/nl/wp-json/wc/v3/"
    for bad in ("shop.example", "ftp://shop.example", "https://u:p@shop.example", "https://shop.example/?a=1"):
        with pytest.raises(ConfigError):
            WooClient(bad, "ck_x", "cs_y")


@pytest.mark.parametrize("mode", ["basic", "query", "oauth1"])
def test_wrong_secret_raises_auth_error_a_shop_owner_understands(shop: FakeShop, mode: str) -> None:
    client = WooClient(shop.url, shop.consumer_key, "cs_wrong_secret_value", auth=mode, sleep=RecordedSleep())  # type: ignore[arg-type]
    with pytest.raises(SourceAuthError) as info:
        client.get_page("orders")
    message = str(info.value)
    assert message.startswith("WooCommerce refused the API key (HTTP 401 woocommerce_rest_authentication_error")
    assert "check the consumer key/secret and that the key has Read access" in message
    assert "/wp-json/wc/v3/orders" in message
    assert "cs_wrong_secret_value" not in message
    _no_secret(message, shop)


def test_stripped_authorization_header_suggests_query_string_auth(shop: FakeShop) -> None:
    shop.strip_authorization = True
    with pytest.raises(SourceAuthError) as info:
        client_for(shop, auth="basic").get_page("orders")
    assert "woocommerce_rest_cannot_view" in str(info.value)
    assert "query_string_auth = true" in str(info.value)
    client_for(shop, auth="query").get_page("orders")  # the workaround works


def test_reused_oauth_nonce_and_stale_timestamp_are_rejected(shop: FakeShop) -> None:
    import requests
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

    url = shop.api_url + "customers"
    stale = Client(shop.consumer_key, client_secret=shop.consumer_secret, signature_method=SIGNATURE_HMAC_SHA256,
                   signature_type=SIGNATURE_TYPE_QUERY, timestamp="1000000000", nonce="n1")
    answer = requests.get(stale.sign(url)[0], timeout=5)
    assert (answer.status_code, answer.json()["message"]) == (401, "Invalid timestamp.")
    import time

    fixed = Client(shop.consumer_key, client_secret=shop.consumer_secret, signature_method=SIGNATURE_HMAC_SHA256,
                   signature_type=SIGNATURE_TYPE_QUERY, timestamp=str(int(time.time())), nonce="n2")
    signed = fixed.sign(url)[0]
    assert requests.get(signed, timeout=5).status_code == 200
    again = requests.get(signed, timeout=5)
    assert (again.status_code, again.json()["message"]) == (401, "Invalid nonce - nonce has already been used.")


# ------------------------------------------------------------------------- retries

def test_429_is_retried_after_exactly_the_retry_after_delay(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.retry_after = "3"
    shop.faults.schedule(["http429", "http429"], endpoint="orders")
    client_for(shop, sleeps).get_page("orders")
    assert sleeps.delays == [3.0, 3.0]
    assert shop.calls["orders"] == 3


def test_backoff_grows_exponentially_with_jitter(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["http500", "http502", "http504"], endpoint="customers")
    client_for(shop, sleeps).get_page("customers", per_page=5)
    assert len(sleeps.delays) == 3
    for delay, ceiling in zip(sleeps.delays, (1.0, 2.0, 4.0), strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_exhausted_retries_raise_unavailable_naming_the_url_without_secrets(
    shop: FakeShop, sleeps: RecordedSleep
) -> None:
    shop.faults.schedule(["http503"] * 5, endpoint="orders")
    client = client_for(shop, sleeps, auth="query", retry=WOO_RETRY.with_(max_attempts=5))
    with pytest.raises(SourceUnavailableError) as info:
        client.get_page("orders", per_page=10)
    assert info.value.attempts == 5
    assert len(sleeps.delays) == 4
    message = str(info.value)
    assert "HTTP 503" in message and "/wp-json/wc/v3/orders?" in message and "per_page=10" in message
    _no_secret(message, shop)
    assert "consumer_" not in message


def test_retry_after_beyond_the_cap_fails_at_once(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["maintenance"])
    with pytest.raises(SourceUnavailableError) as info:
        client_for(shop, sleeps).get("system_status")
    assert "asked to wait 600 s" in str(info.value)
    assert sleeps.delays == []


def test_unreachable_store_raises_unavailable_after_bounded_attempts(sleeps: RecordedSleep) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = WooClient(f"http://127.0.0.1:{port}", "ck_fake1", "cs_fake1", auth="query", sleep=sleeps,
                       retry=WOO_RETRY.with_(max_attempts=3))
    with pytest.raises(SourceUnavailableError) as info:
        client.get_page("orders")
    assert f"127.0.0.1:{port}/wp-json/wc/v3/orders" in str(info.value)
    assert "cs_fake1" not in str(info.value) and info.value.__cause__ is None
    assert len(sleeps.delays) == 2


def test_connection_reset_is_retried(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["reset"], endpoint="orders")
    assert client_for(shop, sleeps).get_page("orders").records
    assert len(sleeps.delays) == 1


# ---------------------------------------------------------------------- page sizes

def test_per_page_halves_after_a_503_and_stays_halved(shop: FakeShop, sleeps: RecordedSleep) -> None:
    client = client_for(shop, sleeps)
    shop.faults.schedule(["http503"], endpoint="orders")
    page = client.get_page("orders", {"orderby": "id"})
    assert (page.per_page, len(page.records)) == (50, 50)
    client.get_page("customers")
    sizes = [r.params.get("per_page") for r in shop.requests]
    assert sizes == ["100", "50", "50"]


def test_per_page_halves_after_a_read_timeout(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.timeout_seconds = 1.0
    shop.faults.schedule(["timeout"], endpoint="orders")
    client = client_for(shop, sleeps, timeout=0.3)
    page = client.get_page("orders")
    assert page.per_page == 50
    assert len(sleeps.delays) == 1


def test_per_page_never_drops_below_ten(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["http500"] * 6, endpoint="orders")
    client = client_for(shop, sleeps, retry=WOO_RETRY.with_(max_attempts=8))
    assert client.get_page("orders").per_page == 10
    assert [r.params["per_page"] for r in shop.requests] == ["100", "50", "25", "12", "10", "10", "10"]


def test_429_does_not_shrink_pages(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["http429"], endpoint="orders")
    assert client_for(shop, sleeps).get_page("orders").per_page == 100


# ----------------------------------------------------------------- broken answers

def test_php_notice_instead_of_json_names_url_and_status(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["php_notice"], endpoint="orders")
    with pytest.raises(SourceError) as info:
        client_for(shop, sleeps, auth="query").get_page("orders")
    message = str(info.value)
    assert "HTTP 200 with text/html that is not valid JSON" in message
    assert "/wp-json/wc/v3/orders" in message and "Notice" in message
    _no_secret(message, shop)
    assert sleeps.delays == []


def test_truncated_json_is_a_source_error(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["truncated_json"], endpoint="customers")
    with pytest.raises(SourceError, match="application/json that is not valid JSON"):
        client_for(shop, sleeps).get_page("customers")


def test_5xx_html_page_after_retries_is_unavailable_not_a_parse_error(shop: FakeShop, sleeps: RecordedSleep) -> None:
    shop.faults.schedule(["http500"] * 5)
    with pytest.raises(SourceUnavailableError, match="HTTP 500"):
        client_for(shop, sleeps).get("system_status")


def test_woocommerce_json_errors_are_quoted(shop: FakeShop) -> None:
    with pytest.raises(WooHTTPError) as info:
        client_for(shop).get_page("orders", per_page=101)
    assert info.value.status_code == 400 and info.value.code == "rest_invalid_param"
    assert 'rest_invalid_param: "Invalid parameter(s): per_page"' in str(info.value)


def test_unknown_route_hints_at_url_and_permalinks(shop: FakeShop) -> None:
    with pytest.raises(WooHTTPError) as info:
        client_for(shop).get("products/reviews/nope")
    assert "rest_no_route" in str(info.value) and "permalinks" in str(info.value)


def test_html_error_page_names_url_status_and_hint_without_secrets(shop: FakeShop) -> None:
    client = WooClient(f"{shop.url}/blog", shop.consumer_key, shop.consumer_secret, auth="query")
    with pytest.raises(WooHTTPError) as info:
        client.get_page("orders")
    message = str(info.value)
    assert message.startswith("WooCommerce answered HTTP 404 (non-JSON body: '<!DOCTYPE html>")
    assert f"{shop.url}/blog/wp-json/wc/v3/orders" in message and "permalinks" in message
    _no_secret(message, shop)


def test_retry_after_may_be_an_http_date() -> None:
    from datetime import UTC, datetime

    from copernica_sync.connectors.woocommerce._responses import parse_retry_after

    now = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sat, 01 Jun 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("soon", now) is None


@responses.activate
def test_redirect_is_a_config_error_naming_the_final_address() -> None:
    responses.get("https://shop.example/wp-json/wc/v3/orders", status=301,
                  headers={"Location": "https://www.shop.example/wp-json/wc/v3/orders?consumer_key=ck_abcdef123"})
    client = WooClient("https://shop.example", "ck_abcdef123", "cs_abcdef456", query_string_auth=True)
    with pytest.raises(ConfigError) as info:
        client.get_page("orders")
    assert "https://www.shop.example/wp-json/wc/v3/orders" in str(info.value)
    assert "ck_abcdef123" not in str(info.value)


# ----------------------------------------------------------------------- detection

def test_current_store_version_and_orderby_modified_are_detected(shop: FakeShop) -> None:
    caps = client_for(shop).capabilities()
    assert (caps.version, caps.modified_filters, caps.orderby_modified) == ("8.9.0", True, True)
    assert caps.sorted_orders


def test_old_store_lacks_modified_filters_and_rejects_orderby_modified() -> None:
    with FakeShop(customers=3, orders=10, version="5.6.0") as old:
        caps = client_for(old).capabilities()
        assert (caps.version, caps.modified_filters, caps.orderby_modified) == ("5.6.0", False, False)
        probe = [r for r in old.requests if r.params.get("orderby") == "modified"]
        assert len(probe) == 1 and probe[0].status == 400 and probe[0].params["per_page"] == "1"


@pytest.mark.parametrize(("version", "expected"), [("8.9.0", True), ("5.6.0", False)])
def test_hidden_version_is_replaced_by_a_probe_of_the_filter(version: str, expected: bool) -> None:
    with FakeShop(customers=3, orders=10, version=version, system_status_forbidden=True) as s:
        client = client_for(s)
        caps = client.capabilities()
        assert caps.version is None and caps.modified_filters is expected
        client.capabilities()
        assert s.calls["system_status"] == 1


def test_parse_version_ignores_suffixes() -> None:
    assert parse_version("8.9.1-rc.2") == (8, 9, 1)
    assert parse_version("10.1") == (10, 1)
    assert parse_version("trunk") == ()


# -------------------------------------------------------------- paging and secrets

def test_pagination_headers_are_read_and_link_urls_redacted(shop: FakeShop) -> None:
    page = client_for(shop, auth="query").get_page("orders", {"page": 2, "orderby": "id"}, per_page=10)
    total = len([o for o in shop.orders if o["status"] != "trash"])
    assert page.total == total and page.total_pages == -(-total // 10)
    assert page.next_url is not None and "page=3" in page.next_url
    assert page.prev_url is not None and "page=1" in page.prev_url
    assert "consumer" not in page.next_url and shop.consumer_secret not in page.next_url


def test_scan_does_not_skip_when_read_records_leave_the_listing(shop: FakeShop) -> None:
    client = client_for(shop, per_page=10)
    pages = client.scan("orders", {"orderby": "id", "order": "asc", "status": "any"})
    got = [r["id"] for r in next(pages).records]
    for order_id in got[:3]:
        shop.trash_order(order_id)  # three records already read drop out
    for page in pages:
        got.extend(r["id"] for r in page.records)
    expected = sorted(o["id"] for o in shop.orders if o["status"] != "trash") + got[:3]
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set(got))


def test_redact_url_drops_credentials_and_signatures() -> None:
    url = ("https://u:p@shop.example/wp-json/wc/v3/orders?page=2&consumer_key=ck_1&consumer_secret=cs_2"
           "&oauth_signature=abc&oauth_nonce=n")
    assert redact_url(url) == "https://shop.example/wp-json/wc/v3/orders?page=2"
    assert redact_text("('oauth_consumer_key', 'ck_live123')") == "('oauth_consumer_key', '***')"
    assert "cs_0123456789" not in redact_text("secret cs_0123456789abcdef in text")


def test_debug_logs_of_urllib3_and_oauthlib_carry_no_secrets(shop: FakeShop, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        client_for(shop, auth="query").get_page("orders", per_page=1)
        client_for(shop, auth="oauth1").get_page("orders", per_page=1)
    assert "GET" in caplog.text
    _no_secret(caplog.text, shop)
