"""The standard connector suite, run against the WooCommerce connector and a fake shop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copernica_sdk.testing.connector_suite import ConnectorSuite, Source, SourceFixture
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop, ListingLies

from ._helpers import NOW


class TestWooCommerceConnector(ConnectorSuite):
    """Every standard test on a small shop: 12 customers (2 pages of 6) and 24 orders
    (4 pages), so the crash-and-resume test stays at a few seconds."""

    connector_class = WooCommerceConnector

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        # A frozen clock: every change mutate() makes is stamped an hour after
        # everything the first run read.
        with FakeShop(customers=12, orders=24, seed=11, now=NOW) as shop:

            def mutate() -> None:
                shop.advance(3600)
                processing = [o["id"] for o in shop.orders if o["status"] == "processing"]
                shop.update_order(processing[0], status="completed")
                shop.update_order(processing[1], billing={"city": "Utrecht"})
                shop.touch_orders(2)
                # Only the customers stream writes this field.  Names and addresses
                # are written by both streams (from the account and from each
                # order's billing address), so which value Copernica keeps depends
                # on which stream wrote last — an incremental run and a clean run
                # legitimately disagree on them.
                shop.update_customer(shop.customers[0]["id"], is_paying_customer=True)

            def lie(lies: ListingLies | None) -> None:
                shop.lies = lies

            # The answer for the second page of customers repeats the first.
            yield Source(config=shop.source_config(per_page=6), mutate=mutate,
                         lie=lambda: lie(ListingLies(endpoint="customers", repeat_at=6)),
                         honest=lambda: lie(None))

