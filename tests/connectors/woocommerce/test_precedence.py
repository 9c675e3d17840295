"""Whose data a shared profile holds, refunds and default roles — WooCommerce end to end.

The fake shop, the engine and the fake Copernica, all over loopback.  Orders placed
"now" in the shop fall within the lookback window, so every re-run reads them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import ExitCode, RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, connector_for


class Sync:
    def __init__(self, shop: FakeShop, fake: FakeCopernica, state_path: Path,
                 **config: Any) -> None:
        self.shop, self.fake = shop, fake
        self.connector = connector_for(shop, **config)
        self.target = parse_target({}, self.connector.default_mapping())
        self.client = CopernicaClient(fake.token, endpoint=fake.url,
                                      retry=RetryPolicy(max_attempts=2, sleep=lambda _: None))
        schema.apply(self.client, schema.plan(self.client, schema_for(self.target)))
        self.state = StateStore(state_path)

    def run(self, **options: Any) -> RunReport:
        self.fake.reset_calls()
        report = SyncEngine(self.client, self.connector, self.target, self.state, job="woo",
                            options=SyncOptions(concurrency=4, **options)).run()
        assert report.exit_code is ExitCode.OK, [s.summary() for s in report.streams]
        return report

    def profile(self, email: str) -> dict[str, str]:
        key = email.strip().lower()
        found = [p["fields"] for p in self.fake.profiles("Customers")
                 if p["fields"]["customer_key"] == key]
        assert len(found) == 1, f"{len(found)} profiles for {key}"
        return found[0]

    def profile_keys(self) -> set[str]:
        return {p["fields"]["customer_key"] for p in self.fake.profiles("Customers")}

    def close(self) -> None:
        self.state.close()
        self.client.close()


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with FakeShop(customers=12, orders=30, seed=11, now=NOW) as s:
        yield s


@pytest.fixture
def make(shop: FakeShop, copernica_fake: FakeCopernica, tmp_path: Path) -> Iterator[Any]:
    made: list[Sync] = []

    def build(**config: Any) -> Sync:
        sync = Sync(shop, copernica_fake, tmp_path / f"woo{len(made)}.sqlite3", **config)
        made.append(sync)
        return sync

    yield build
    for sync in made:
        sync.close()


def _registered(shop: FakeShop) -> dict[str, Any]:
    return next(c for c in shop.customers if c["role"] == "customer")


GUEST_BILLING = {"first_name": "Guest", "last_name": "Checkout", "city": "Guestville",
                 "address_1": "Elsewhere 1", "postcode": "9999 ZZ"}


@pytest.mark.parametrize("streams", [["customers", "orders"], ["orders", "customers"]])
def test_a_guest_order_with_a_registered_customers_email_never_overwrites_the_account(
        make: Any, shop: FakeShop, streams: list[str]) -> None:
    customer = _registered(shop)
    order_id = shop.add_order(email=f" {customer['email'].upper()} ",
                              billing=GUEST_BILLING)
    sync = make()
    for stream in streams:  # one stream per run, in both orders
        sync.run(streams=[stream])
    sync.run()
    profile = sync.profile(customer["email"])
    assert (profile["firstname"], profile["lastname"], profile["city"]) == (
        customer["first_name"], customer["last_name"], customer["billing"]["city"])
    orders = {s["fields"]["order_id"]: s for s in sync.fake.subprofiles("Orders")}
    ids = {p["fields"]["customer_key"]: p["id"] for p in sync.fake.profiles("Customers")}
    assert orders[str(order_id)]["profile"] == ids[customer["email"].strip().lower()]
    assert sync.fake.duplicates("Customers", "customer_key") == {}


def test_an_old_order_changed_later_does_not_bring_back_its_billing_address(
        make: Any, shop: FakeShop) -> None:
    email = "returning.guest@example.com"
    shop.advance(-3600)
    old = shop.add_order(email=email, billing={**GUEST_BILLING, "city": "Old town"})
    shop.advance(3600)
    shop.add_order(email=email, billing={**GUEST_BILLING, "city": "New town"})
    sync = make()
    sync.run()
    assert sync.profile(email)["city"] == "New town"
    shop.advance(10)
    shop.update_order(old, status="completed")  # modified after the newer order: read last
    sync.run()
    assert sync.profile(email)["city"] == "New town"


def test_a_registered_customers_old_order_does_not_replace_the_account_address(
        make: Any, shop: FakeShop) -> None:
    customer = _registered(shop)
    order_id = shop.add_order(customer["id"], billing={"city": "Where I lived in 2019"})
    sync = make()
    sync.run()
    shop.update_order(order_id, status="completed")
    sync.run()
    assert sync.profile(customer["email"])["city"] == customer["billing"]["city"]


def test_refunds_reach_the_order_and_total_spent_is_net_of_them(make: Any,
                                                                shop: FakeShop) -> None:
    email = "refunded.guest@example.com"
    kept = shop.add_order(email=email, status="completed")
    refunded = shop.add_order(email=email, status="completed")
    sync = make()
    sync.run()
    total = float(shop.order(refunded)["total"])
    shop.update_order(refunded, refunds=[
        {"id": 1, "reason": "Damaged", "total": "-5.00"},
        {"id": 2, "reason": "", "total": "-1.25"}])
    sync.run()
    orders = {s["fields"]["order_id"]: s["fields"] for s in sync.fake.subprofiles("Orders")}
    assert float(orders[str(refunded)]["refunded"]) == 6.25
    assert float(orders[str(refunded)]["net_total"]) == pytest.approx(total - 6.25)
    assert float(orders[str(kept)]["refunded"]) == 0
    profile = sync.profile(email)
    expected = float(shop.order(kept)["total"]) + total - 6.25
    assert float(profile["total_spent"]) == pytest.approx(expected)
    assert profile["orders_count"] == "2"


def test_the_generated_shop_has_partial_refunds_and_they_are_carried(make: Any,
                                                                     shop: FakeShop) -> None:
    partial = [o for o in shop.orders if o["refunds"] and o["status"] != "refunded"]
    assert partial, "the fake shop generates partially refunded orders"
    sync = make()
    sync.run()
    orders = {s["fields"]["order_id"]: s["fields"] for s in sync.fake.subprofiles("Orders")}
    for order in partial:
        refunded = sum(-float(r["total"]) for r in order["refunds"])
        assert float(orders[str(order["id"])]["refunded"]) == pytest.approx(refunded)


def test_unchanged_reruns_write_nothing_for_profiles_shared_across_pages_and_streams(
        make: Any, shop: FakeShop) -> None:
    customer = _registered(shop)
    email = customer["email"]
    # One person's orders spread over pages of two: registered, guest, guest again.
    shop.add_order(customer["id"])
    shop.add_order(email="filler.one@example.com")
    shop.add_order(email=email.upper(), billing=GUEST_BILLING)
    shop.add_order(email="filler.two@example.com")
    shop.add_order(email=f" {email} ", billing={**GUEST_BILLING, "first_name": "Other"})
    # A guest-only address with orders under two different names.
    shop.add_order(email="twice@example.com", billing={"first_name": "First"})
    shop.add_order(email="filler.three@example.com")
    shop.add_order(email="twice@example.com", billing={"first_name": "Second"})
    sync = make(per_page=2)
    sync.run()
    for _ in range(3):
        report = sync.run()
        assert report.streams[1].read >= 8  # the new orders were read again
        assert sync.fake.write_calls() == 0, [s.summary() for s in report.streams]
    assert sync.profile(email)["firstname"] == customer["first_name"]
    assert sync.profile("twice@example.com")["firstname"] == "Second"


def test_the_shops_administrator_is_not_synced_by_default_but_is_with_role_all(
        make: Any, shop: FakeShop) -> None:
    shop.add_customer(email="admin@shop.example", first_name="Site", last_name="Admin",
                      role="administrator")
    subscriber = next((c for c in shop.customers if c["role"] == "subscriber"), None)
    default = make()
    default.run()
    assert "admin@shop.example" not in default.profile_keys()
    assert _registered(shop)["email"].strip().lower() in default.profile_keys()
    if subscriber is not None:
        assert subscriber["email"].strip().lower() in default.profile_keys()
    everyone = make(role="all")
    everyone.run(full_refresh=True)
    assert "admin@shop.example" in everyone.profile_keys()
