"""A shop whose listing lies: the run notices, fails (exit 5), keeps its bookmark, and
a later honest run syncs everything — through the real ``copernica-sync`` command.

The shop has 25 customers, read 10 per request (``per_page``: what a live shop does
at 100 per page, at a tenth of the cost).  Each lie is one of the fake
shop's ``ListingLies`` knobs; the benign cases are what a live shop does while it
is read (customers registering or being edited mid-scan), which must not fail.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop, ListingLies

from .conftest import (
    CliJob,
    apply_schema,
    default_target,
    describe,
    duplicates,
    make_copernica,
    make_shop,
    reference_snapshot,
    snapshot,
)

CUSTOMERS = 25
PAGE = 10  # the job's per_page

#: (lie, what the failure message must say) — each hides or invents records.
LIES = {
    "repeated_page": (ListingLies(endpoint="customers", repeat_at=PAGE), "repeats"),
    "short_total_on_a_page_boundary": (ListingLies(endpoint="customers", total_delta=-5),
                                       "lower than what the source serves"),
    "short_total_inside_a_page": (ListingLies(endpoint="customers", total_delta=-PAGE),
                                  "lower than what the source serves"),
    "over_total": (ListingLies(endpoint="customers", total_delta=5), "before the announced"),
    "empty_page_mid_listing": (ListingLies(endpoint="customers", empty_at=PAGE), "empty page"),
    "backwards_ids": (ListingLies(endpoint="customers", reverse_at=PAGE), "backwards"),
}


@pytest.fixture
def big_shop() -> Iterator[FakeShop]:
    with make_shop(customers=CUSTOMERS, orders=20, seed=5) as shop:
        yield shop


@pytest.fixture
def copernica(big_shop: FakeShop) -> Iterator[FakeCopernica]:
    with make_copernica() as fake:
        apply_schema(fake, big_shop)
        yield fake


def paged_job(tmp: Path, shop: FakeShop, fake: FakeCopernica) -> CliJob:
    """The CLI job for ``shop``, reading ``PAGE`` records per request."""
    return CliJob.create(tmp, shop, fake, source={**shop.source_config(), "per_page": PAGE})


def _bookmarks(job: CliJob) -> dict[str, str]:
    if not job.state_path.exists():
        return {}
    with sqlite3.connect(job.state_path) as db:
        return {str(s): str(v) for s, v in db.execute("SELECT stream, value FROM bookmarks")}


def _assert_everything_synced(shop: FakeShop, fake: FakeCopernica, tmp: Path) -> None:
    """Copernica holds exactly what a clean sync of the shop gives, without duplicates."""
    expected = reference_snapshot(shop, tmp)
    actual = snapshot(fake)
    missing = sorted(set(expected["profiles"]) - set(actual["profiles"]))
    assert not missing, f"{len(missing)} customers never reached Copernica: {missing[:5]}"
    assert actual == expected
    assert duplicates(fake) == {}


@pytest.mark.parametrize("name", list(LIES))
def test_a_listing_that_lies_fails_the_run_and_an_honest_run_then_syncs_every_customer(
        tmp_path: Path, big_shop: FakeShop, copernica: FakeCopernica, name: str) -> None:
    lie, says = LIES[name]
    job = paged_job(tmp_path, big_shop, copernica)
    big_shop.lies = lie
    failed = job.run("run")
    assert failed.returncode == 5, describe(failed)
    output = failed.stdout + failed.stderr
    assert "customers listing is inconsistent" in output and says in output, describe(failed)
    assert "/wp-json/wc/v3/customers?" in output and "offset=" in output, describe(failed)
    assert "Traceback" not in output
    assert "customers" not in _bookmarks(job), "the bookmark moved over a listing that lied"

    big_shop.lies = None
    honest = job.run("run")
    assert honest.returncode == 0, describe(honest)
    _assert_everything_synced(big_shop, copernica, tmp_path)


@pytest.mark.parametrize("name", ["repeated_page", "short_total_on_a_page_boundary",
                                  "empty_page_mid_listing"])
def test_an_incremental_run_over_a_lying_listing_keeps_the_bookmark_and_loses_no_change(
        tmp_path: Path, big_shop: FakeShop, copernica: FakeCopernica, name: str) -> None:
    job = paged_job(tmp_path, big_shop, copernica)
    first = job.run("run")
    assert first.returncode == 0, describe(first)
    before = _bookmarks(job)
    assert "customers" in before
    big_shop.advance(3600)
    # Changed customers spread over the whole listing, most of them past the first page.
    changed = [c["id"] for c in big_shop.customers][::10]
    for customer_id in changed:
        big_shop.update_customer(customer_id, last_name="Changed")

    big_shop.lies = LIES[name][0]
    failed = job.run("run")
    assert failed.returncode == 5, describe(failed)
    assert _bookmarks(job).get("customers") == before["customers"], describe(failed)

    big_shop.lies = None
    honest = job.run("run")
    assert honest.returncode == 0, describe(honest)
    # Compared field by field: a clean sync would let the orders' billing names win.
    mapping = default_target(big_shop).streams["customers"]
    names = {p["fields"].get("customer_key"): p["fields"].get("lastname")
             for p in copernica.profiles("Customers")}
    keys = [mapping.apply(big_shop.customer(i), record_id=str(i)).profile.key for i in changed]
    stale = [key for key in keys if names.get(key) != "Changed"]
    assert not stale, f"{len(stale)} changes never synced: {stale[:5]}"
    assert duplicates(copernica) == {}


def _during_scan(shop: FakeShop, request: int, change: Callable[[], object]) -> None:
    """Run ``change`` once, inside the shop, just before it answers its
    ``request``-th ``/customers`` request (the latency hook runs before each one,
    under the app's lock, after the request was counted)."""
    done = threading.Event()

    def hook(_rng: object) -> float:
        if shop.app._calls["customers"] == request and not done.is_set():
            done.set()
            change()
        return 0.0

    shop.latency = hook


def test_customers_registering_while_the_listing_is_read_are_not_a_lie(
        tmp_path: Path, big_shop: FakeShop, copernica: FakeCopernica) -> None:
    # The total grows by three between the pages of the first run.
    job = paged_job(tmp_path, big_shop, copernica)
    _during_scan(big_shop, 3, lambda: [big_shop.add_customer(first_name=f"Late{i}")
                                       for i in range(3)])
    result = job.run("run")
    assert result.returncode == 0, describe(result)
    big_shop.latency = 0.0
    assert len(big_shop.customers) == CUSTOMERS + 3
    again = job.run("run")
    assert again.returncode == 0, describe(again)
    _assert_everything_synced(big_shop, copernica, tmp_path)


def test_customers_edited_while_the_listing_is_read_are_not_a_lie(
        tmp_path: Path, big_shop: FakeShop, copernica: FakeCopernica) -> None:
    job = paged_job(tmp_path, big_shop, copernica)
    ids = [c["id"] for c in big_shop.customers]
    _during_scan(big_shop, 3, lambda: [big_shop.update_customer(i, last_name="Edited")
                                       for i in (ids[1], ids[15], ids[24])])
    result = job.run("run")
    assert result.returncode == 0, describe(result)
    big_shop.latency = 0.0
    again = job.run("run")
    assert again.returncode == 0, describe(again)
    _assert_everything_synced(big_shop, copernica, tmp_path)


def test_an_exactly_full_last_page_of_an_honest_listing_is_not_a_lie(
        tmp_path: Path, copernica: FakeCopernica) -> None:
    # 20 customers in pages of 10: the probe past the end finds nothing.
    with make_shop(customers=2 * PAGE, orders=5, seed=6) as shop:
        job = paged_job(tmp_path, shop, copernica)
        result = job.run("run")
        assert result.returncode == 0, describe(result)
        _assert_everything_synced(shop, copernica, tmp_path)


ORDER_LIES = {
    "order_going_backwards": (ListingLies(endpoint="orders", reverse_at=0), "backwards"),
    "empty_page": (ListingLies(endpoint="orders", empty_at=0), "empty page"),
    "over_total": (ListingLies(endpoint="orders", total_delta=5), "before the announced"),
    "short_total": (ListingLies(endpoint="orders", total_delta=-5),
                    "lower than what the source serves"),
}


@pytest.mark.parametrize("name", list(ORDER_LIES))
def test_a_lying_sorted_orders_listing_fails_keeps_its_bookmark_and_loses_no_change(
        tmp_path: Path, copernica: FakeCopernica, name: str) -> None:
    # Orders are read by keyset (modified_after, orderby=modified): a sorted stream.
    lie, says = ORDER_LIES[name]
    with make_shop(customers=10, orders=60, seed=8) as shop:
        job = CliJob.create(tmp_path, shop, copernica)
        first = job.run("run")
        assert first.returncode == 0, describe(first)
        before = _bookmarks(job)["orders"]
        shop.advance(3600)
        shop.touch_orders(30)
        shop.lies = lie
        failed = job.run("run")
        assert failed.returncode == 5, describe(failed)
        output = failed.stdout + failed.stderr
        assert "orders (any) listing is inconsistent" in output and says in output, output
        assert "/wp-json/wc/v3/orders?" in output and "modified_after=" in output, output
        assert _bookmarks(job)["orders"] == before
        shop.lies = None
        honest = job.run("run")
        assert honest.returncode == 0, describe(honest)
        _assert_everything_synced(shop, copernica, tmp_path)
