"""WooCommerce into Copernica end to end: the fake shop, the engine, the fake Copernica."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient, RetryPolicy, schema
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import ExitCode, RunReport
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, connector_for


class Sync:
    def __init__(self, shop: FakeShop, fake: FakeCopernica, state_path: Path) -> None:
        self.shop, self.fake = shop, fake
        self.connector = connector_for(shop)
        self.target = parse_target({}, self.connector.default_mapping())
        self.client = CopernicaClient(fake.token, endpoint=fake.url,
                                      retry=RetryPolicy(max_attempts=2, sleep=lambda _: None))
        schema.apply(self.client, schema.plan(self.client, schema_for(self.target)))
        self.state = StateStore(state_path)

    def run(self) -> RunReport:
        self.fake.reset_calls()
        return SyncEngine(self.client, self.connector, self.target, self.state, job="woo",
                          options=SyncOptions(concurrency=4)).run()

    def profile_ids(self) -> dict[str, int]:
        return {p["fields"]["customer_key"]: p["id"] for p in self.fake.profiles("Customers")}


@pytest.fixture
def sync(copernica_fake: FakeCopernica, tmp_path: Path) -> Iterator[Sync]:
    with FakeShop(customers=25, orders=80, seed=11, now=NOW) as shop:
        s = Sync(shop, copernica_fake, tmp_path / "woo.sqlite3")
        yield s
        s.state.close()


def test_the_initial_sync_brings_every_order_and_line_without_duplicates(sync: Sync) -> None:
    report = sync.run()
    assert report.exit_code is ExitCode.OK, [s.summary() for s in report.streams]
    orders = sync.shop.orders
    lines = sum(len(o["line_items"]) for o in orders)
    assert len(sync.fake.subprofiles("Orders")) == len(orders)
    assert len(sync.fake.subprofiles("OrderItems")) == lines
    assert sync.fake.duplicates("Customers", "customer_key") == {}
    assert sync.fake.subprofile_duplicates("OrderItems", "item_key") == {}


def test_a_second_run_without_changes_writes_nothing(sync: Sync) -> None:
    sync.run()
    sync.run()
    assert sync.fake.write_calls() == 0


def test_a_guest_order_and_a_registered_customer_with_one_address_share_a_profile(
        sync: Sync) -> None:
    customer = sync.shop.customers[0]
    sync.shop.add_order(email=customer["email"].upper())  # a guest, same person
    sync.run()
    key = customer["email"].strip().lower()
    keys = [p["fields"]["customer_key"] for p in sync.fake.profiles("Customers")]
    assert keys.count(key) == 1


def test_a_trashed_order_updates_its_status_in_copernica(sync: Sync) -> None:
    sync.run()
    live = next(o for o in sync.shop.orders if o["status"] == "processing")
    sync.shop.advance(60)
    sync.shop.trash_order(live["id"])
    sync.run()
    statuses = {s["fields"]["order_id"]: s["fields"]["status"]
                for s in sync.fake.subprofiles("Orders")}
    assert statuses[str(live["id"])] == "trash"


def test_an_email_change_updates_the_existing_profile(sync: Sync) -> None:
    sync.run()
    customer = sync.shop.customers[1]
    before = sync.profile_ids()[customer["email"].strip().lower()]
    sync.shop.advance(60)
    sync.shop.change_email(customer["id"], "brand.new@example.org")
    sync.run()
    after = sync.profile_ids()
    assert after["brand.new@example.org"] == before
    assert sync.fake.duplicates("Customers", "customer_key") == {}


def test_a_wrong_consumer_secret_ends_the_run_with_exit_4_and_no_secret_in_the_logs(
        copernica_fake: FakeCopernica, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeShop(customers=3, orders=3, seed=2, now=NOW) as shop:
        sync = Sync(shop, copernica_fake, tmp_path / "s.sqlite3")
        config = shop.source_config(consumer_secret="cs_wrong_secret_value")
        config.pop("connector")
        sync.connector = WooCommerceConnector(config)
        with caplog.at_level(logging.DEBUG):
            report = sync.run()
        sync.state.close()
    assert report.exit_code is ExitCode.AUTH
    assert "WooCommerce refused" in (report.streams[0].error or "")
    assert "cs_wrong_secret_value" not in caplog.text
    assert all("cs_wrong_secret_value" not in (s.error or "") for s in report.streams)


def test_every_paid_order_is_counted_once_in_some_profiles_orders_count(sync: Sync) -> None:
    sync.run()
    paid = [o for o in sync.shop.orders if o["status"] in ("completed", "processing", "on-hold")]
    profiles = sync.fake.profiles("Customers")
    assert sum(int(p["fields"].get("orders_count") or 0) for p in profiles) == len(paid)
    spent = sum(float(p["fields"].get("total_spent") or 0) for p in profiles)
    # total_spent is net of refunds (docs/connectors/woocommerce.md).
    refunded = sum(-float(r["total"]) for o in paid for r in o["refunds"])
    assert round(spent, 2) == round(sum(float(o["total"]) for o in paid) - refunded, 2)


def test_a_status_change_rewrites_the_order_but_not_its_unchanged_lines(sync: Sync) -> None:
    sync.run()
    order = next(o for o in sync.shop.orders
                 if o["status"] == "processing" and len(o["line_items"]) > 1)
    sync.shop.advance(60)
    sync.shop.update_order(order["id"], status="on-hold")  # still paid: aggregates unchanged
    sync.run()
    assert sync.fake.calls.get("Profile_updateSubProfiles") == 1
    assert sync.fake.calls.get("Database_updateProfiles") is None


@pytest.mark.parametrize("bad", [{"total": "1e400"}, {"total": "NaN"},
                                 {"refunds": [{"id": 1, "total": "-1e400"}]}])
def test_an_order_amount_beyond_any_price_is_that_orders_dead_letter(
        sync: Sync, bad: dict[str, object]) -> None:
    """An absurd total or refund ends in the order's dead letter, naming the value; the
    other orders sync (it crashed the run with a decimal.InvalidOperation traceback)."""
    order = sync.shop.orders[0]
    sync.shop.update_order(order["id"], **bad)
    report = sync.run()
    assert report.exit_code is ExitCode.DEAD_LETTERED, [s.summary() for s in report.streams]
    letters = sync.state.dead_letters(status="open")
    assert [d.record_key for d in letters] == [str(order["id"])]
    assert len(sync.fake.subprofiles("Orders")) == len(sync.shop.orders) - 1
