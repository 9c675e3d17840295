"""The fake shop itself, spoken to with plain requests: wire format, paging, filters,
errors, faults, generated data, mutation helpers, start modes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

import copernica_sync.connectors.woocommerce as package
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, iso

PROJECT_ROOT = Path(package.__file__).resolve().parents[2]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def get(shop: FakeShop, path: str, **params: Any) -> requests.Response:
    return requests.get(shop.api_url + path, params=params, auth=(shop.consumer_key, shop.consumer_secret), timeout=10)


# ---------------------------------------------------------------------- wire format

def test_orders_have_the_real_field_set_and_types(shop: FakeShop) -> None:
    order = get(shop, "orders", per_page=1).json()[0]
    for name in ("id", "parent_id", "number", "order_key", "status", "currency", "customer_id", "billing",
                 "shipping", "line_items", "coupon_lines", "refunds", "meta_data", "payment_method_title",
                 "date_paid", "date_completed", "_links"):
        assert name in order, name
    assert isinstance(order["id"], int) and isinstance(order["customer_id"], int)
    for name in ("date_created", "date_modified"):
        assert DATE.match(order[name]) and DATE.match(order[f"{name}_gmt"])
    assert all(MONEY.match(order[m]) for m in ("total", "total_tax", "shipping_total", "discount_total"))
    item = order["line_items"][0]
    assert isinstance(item["quantity"], int) and isinstance(item["price"], float) and MONEY.match(item["total"])


def test_local_dates_are_the_gmt_ones_shifted_by_the_site_offset(shop: FakeShop) -> None:
    order = get(shop, "orders", per_page=1).json()[0]
    from datetime import datetime

    local = datetime.fromisoformat(order["date_modified"])
    gmt = datetime.fromisoformat(order["date_modified_gmt"])
    assert local - gmt == timedelta(hours=2)


def test_customers_have_the_real_field_set(shop: FakeShop) -> None:
    customer = get(shop, "customers", role="all", per_page=1).json()[0]
    for name in ("id", "email", "first_name", "last_name", "role", "username", "billing", "shipping",
                 "is_paying_customer", "avatar_url", "meta_data", "date_created_gmt", "date_modified_gmt"):
        assert name in customer, name
    assert "email" in customer["billing"] and "email" not in customer["shipping"]


def test_fields_parameter_trims_records_including_nested_ones(shop: FakeShop) -> None:
    rows = get(shop, "customers", _fields="id,date_modified_gmt,billing.email", per_page=3).json()
    assert all(set(r) == {"id", "date_modified_gmt", "billing"} and set(r["billing"]) == {"email"} for r in rows)


# ----------------------------------------------------------------------- pagination

def test_pagination_headers_and_links_follow_wordpress(shop: FakeShop) -> None:
    answer = get(shop, "orders", per_page=25, page=2, status="any")
    total = sum(1 for o in shop.orders if o["status"] != "trash")
    assert answer.headers["X-WP-Total"] == str(total)
    assert answer.headers["X-WP-TotalPages"] == str(-(-total // 25))
    assert "page=3" in answer.links["next"]["url"] and "page=1" in answer.links["prev"]["url"]
    last = get(shop, "orders", per_page=25, page=-(-total // 25))
    assert "next" not in last.links


def test_offset_overrides_page(shop: FakeShop) -> None:
    ids = [o["id"] for o in get(shop, "orders", orderby="id", order="asc", per_page=10, offset=5, page=3).json()]
    expected = sorted(o["id"] for o in shop.orders if o["status"] != "trash")[5:15]
    assert ids == expected


def test_per_page_above_100_is_a_rest_invalid_param_error(shop: FakeShop) -> None:
    answer = get(shop, "orders", per_page=101)
    body = answer.json()
    assert answer.status_code == 400 and body["code"] == "rest_invalid_param"
    assert body["data"]["status"] == 400 and "per_page" in body["data"]["params"]


# -------------------------------------------------------------------------- filters

def test_modified_after_and_before_are_strict(shop: FakeShop) -> None:
    second = sorted(o["date_modified_gmt"] for o in shop.orders)[40]
    kwargs = {"dates_are_gmt": "true", "status": "any,trash", "per_page": 100}
    after = get(shop, "orders", modified_after=second, **kwargs).json()
    before = get(shop, "orders", modified_before=second, **kwargs).json()
    assert all(o["date_modified_gmt"] > second for o in after)
    assert all(o["date_modified_gmt"] < second for o in before)


def test_dates_are_gmt_false_compares_site_local_time(shop: FakeShop) -> None:
    orders = sorted(shop.orders, key=lambda o: o["date_modified_gmt"])
    bound = orders[10]["date_modified_gmt"]
    local = get(shop, "orders", modified_after=bound, status="any,trash", per_page=100).headers["X-WP-Total"]
    gmt = get(shop, "orders", modified_after=bound, dates_are_gmt="true", status="any,trash",
              per_page=100).headers["X-WP-Total"]
    # the same wall-clock bound read as site time (UTC+2) is two hours earlier in UTC
    assert int(local) > int(gmt)


def test_orderby_modified_breaks_ties_by_id_and_order_defaults_to_desc(shop: FakeShop) -> None:
    rows = get(shop, "orders", orderby="modified", order="asc", per_page=100, _fields="id,date_modified_gmt").json()
    keys = [(r["date_modified_gmt"], r["id"]) for r in rows]
    assert keys == sorted(keys)
    default = [r["id"] for r in get(shop, "orders", orderby="id", per_page=5).json()]
    assert default == sorted(default, reverse=True)


def test_status_any_hides_trash_which_status_trash_shows(shop: FakeShop) -> None:
    any_ids = {o["id"] for o in get(shop, "orders", status="any", per_page=100).json()}
    trash = get(shop, "orders", status="trash", per_page=100).json()
    assert trash and all(o["status"] == "trash" for o in trash)
    assert not any_ids & {o["id"] for o in trash}
    assert get(shop, "orders", status="bogus").status_code == 400


def test_include_exclude_and_customer_filters(shop: FakeShop) -> None:
    ids = sorted(o["id"] for o in shop.orders if o["status"] != "trash")[:4]
    got = get(shop, "orders", include=",".join(map(str, ids)), exclude=ids[0], orderby="id", order="asc").json()
    assert [o["id"] for o in got] == ids[1:]
    owner = next(o["customer_id"] for o in shop.orders if o["customer_id"])
    assert all(o["customer_id"] == owner for o in get(shop, "orders", customer=owner, per_page=100).json())


def test_customers_default_to_role_customer_unless_role_all(shop: FakeShop) -> None:
    default = get(shop, "customers", per_page=100).json()
    everyone = get(shop, "customers", role="all", per_page=100).json()
    assert {c["role"] for c in default} == {"customer"}
    assert len(everyone) == len(shop.customers) > len(default)
    assert get(shop, "customers", role="wizard").status_code == 400


def test_old_version_ignores_modified_filters_and_rejects_orderby_modified() -> None:
    with FakeShop(customers=5, orders=30, version="5.6.0", now=NOW) as shop:
        future = iso(NOW + timedelta(days=1))
        answer = get(shop, "orders", modified_after=future, dates_are_gmt="true")
        assert answer.status_code == 200 and int(answer.headers["X-WP-Total"]) > 0
        rejected = get(shop, "orders", orderby="modified")
        assert rejected.status_code == 400 and rejected.json()["code"] == "rest_invalid_param"


# --------------------------------------------------------------------------- errors

def test_errors_are_woocommerce_json(shop: FakeShop) -> None:
    missing = requests.get(shop.api_url + "orders", timeout=5)
    assert (missing.status_code, missing.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    wrong = requests.get(shop.api_url + "orders", auth=(shop.consumer_key, "nope"), timeout=5)
    assert wrong.json() == {"code": "woocommerce_rest_authentication_error", "message": "Consumer secret is invalid.",
                            "data": {"status": 401}}
    assert get(shop, "orders/1").json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert get(shop, "customers/999999").status_code == 404
    assert get(shop, "coupons").json()["code"] == "rest_no_route"
    order_id = shop.orders[0]["id"]
    assert get(shop, f"orders/{order_id}").json()["id"] == order_id


# --------------------------------------------------------------------------- faults

def test_scheduled_faults_hit_only_their_endpoint_and_are_counted(shop: FakeShop) -> None:
    shop.faults.schedule(["http502", None, "http429"], endpoint="orders")
    assert get(shop, "customers").status_code == 200
    assert get(shop, "orders").status_code == 502
    assert get(shop, "orders").status_code == 200
    limited = get(shop, "orders")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert shop.faults.injected == {"http502": 1, "http429": 1}
    assert shop.calls == {"customers": 1, "orders": 3}


def test_fault_rate_is_deterministic_for_a_seed(shop: FakeShop) -> None:
    def run() -> list[int]:
        shop.faults.set_rate(0.5, seed=42)
        return [get(shop, "customers", per_page=1).status_code for _ in range(12)]

    first = run()
    assert first == run() and set(first) - {200}


def test_request_log_leaves_credentials_out(shop: FakeShop) -> None:
    params = {"consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret, "per_page": "2"}
    requests.get(shop.api_url + "orders", params=params, timeout=5)
    record = shop.requests[-1]
    assert (record.endpoint, record.auth, record.status, record.params) == ("orders", "query", 200, {"per_page": "2"})


# ------------------------------------------------------------------- generated data

def test_generated_data_and_credentials_are_deterministic_per_seed() -> None:
    one, two, other = (FakeShop(customers=20, orders=50, seed=s, now=NOW) for s in (9, 9, 10))
    assert one.orders == two.orders and one.customers == two.customers
    assert (one.consumer_key, one.consumer_secret) == (two.consumer_key, two.consumer_secret)
    assert one.consumer_key.startswith("ck_fake") and one.consumer_secret.startswith("cs_fake")
    assert one.consumer_key != other.consumer_key and one.orders != other.orders


def test_generated_data_is_awkward_on_purpose() -> None:
    shop = FakeShop(customers=200, orders=400, seed=1, now=NOW)
    names = " ".join(f"{c['first_name']} {c['last_name']}" for c in shop.customers)
    assert "<script>" in names and "'" in names and "\u0007" in names and "🦄" in names and "محمد" in names
    seconds = [o["date_modified_gmt"] for o in shop.orders]
    assert max(seconds.count(s) for s in set(seconds)) >= 100
    assert any(o["status"] == "trash" for o in shop.orders)
    guests = [o for o in shop.orders if o["customer_id"] == 0]
    assert 0.2 < len(guests) / len(shop.orders) < 0.4
    registered = {str(c["email"]).strip().lower() for c in shop.customers}
    assert any(str(o["billing"]["email"]).strip().lower() in registered for o in guests)
    assert all(o["date_modified_gmt"] < iso(NOW) for o in shop.orders)


# ----------------------------------------------------------------- mutation helpers

def test_mutation_helpers_bump_the_modification_time(shop: FakeShop) -> None:
    shop.advance(60)
    stamp = iso(shop.now())
    touched = shop.touch_orders(3)
    assert len(touched) == 3 and all(shop.order(i)["date_modified_gmt"] == stamp for i in touched)
    order_id = next(o["id"] for o in shop.orders if o["status"] == "processing")
    completed = shop.update_order(order_id, status="completed", billing={"city": "Delft"})
    assert completed["date_completed_gmt"] == stamp and completed["billing"]["city"] == "Delft"
    assert completed["billing"]["email"]  # nested dicts are merged, not replaced
    assert shop.trash_order(order_id)["status"] == "trash"
    customer_id = shop.customers[0]["id"]
    changed = shop.change_email(customer_id, "new@example.com")
    assert (changed["email"], changed["billing"]["email"], changed["date_modified_gmt"]) == (
        "new@example.com", "new@example.com", stamp)
    new = shop.add_order(customer_id, status="pending")
    placed = shop.order(new)
    assert placed["customer_id"] == customer_id and placed["date_created_gmt"] == stamp
    assert new > max(o["id"] for o in shop.orders if o["id"] != new)
    guest = shop.order(shop.add_order(email="guest@example.com"))
    assert guest["customer_id"] == 0 and guest["billing"]["email"] == "guest@example.com"
    shop.delete_order(new)
    assert get(shop, f"orders/{new}").status_code == 404


# ---------------------------------------------------------------------- start modes

@pytest.mark.woocommerce_fake_shop(customers=3, orders=7, seed=2)
def test_pytest_fixture_serves_a_started_shop(woocommerce_fake_shop: FakeShop) -> None:
    assert get(woocommerce_fake_shop, "orders", status="any,trash").headers["X-WP-Total"] == "7"


def test_start_stop_and_url_before_start() -> None:
    shop = FakeShop(customers=1, orders=1)
    with pytest.raises(RuntimeError):
        _ = shop.url
    shop.start()
    try:
        assert get(shop, "customers", role="all").status_code == 200
    finally:
        shop.stop()


def test_module_cli_prints_url_and_credentials() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "copernica_sync.connectors.woocommerce.fake_shop", "--port", "0", "--customers", "5",
         "--orders", "9", "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        url = re.search(r"(http://127\.0\.0\.1:\d+)", lines[0])
        key = re.search(r"(ck_fake\w+)", lines[2])
        secret = re.search(r"(cs_fake\w+)", lines[3])
        assert url and key and secret, lines
        answer = requests.get(f"{url.group(1)}/wp-json/wc/v3/orders", params={"status": "any,trash"},
                              auth=(key.group(1), secret.group(1)), timeout=10)
        assert answer.headers["X-WP-Total"] == "9"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipes
