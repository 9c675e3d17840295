"""Orders and customers streams: completeness, order, ties, incremental reads, fallbacks.

Window contract pinned here: ``read(start, until)`` yields records with
``start <= date_modified_gmt < until`` and never one changed at or after
``until`` (WooCommerce's ``modified_before`` is strict; the next run reads those).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from copernica_sdk.sync.errors import SourceError
from copernica_sync.connectors.woocommerce import Capabilities
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ._helpers import NOW, RecordedSleep, connector_for, iso, pair, read_all

UNTIL = iso(NOW)


def _orders_in_window(shop: FakeShop, start: str | None, until: str, *, trash: bool = True) -> list[tuple[str, int]]:
    return sorted(
        pair(o) for o in shop.orders
        if (trash or o["status"] != "trash")
        and (start is None or o["date_modified_gmt"] >= start) and o["date_modified_gmt"] < until
    )


# -------------------------------------------------------------------------- orders

def test_first_read_yields_every_order_once_trashed_included_in_ascending_modified(shop: FakeShop) -> None:
    stream = connector_for(shop).streams()[1]
    got = [pair(r) for r in read_all(stream, None, UNTIL)]
    assert got == sorted(got)
    assert got == _orders_in_window(shop, None, UNTIL)
    assert any(r["status"] == "trash" for r in shop.orders)
    assert stream.is_sorted is True


@pytest.mark.parametrize("per_page", [100, 7])
def test_250_orders_in_one_second_neither_duplicate_nor_vanish(per_page: int) -> None:
    with FakeShop(customers=20, orders=300, seed=5, tie_burst=250, trashed=0, now=NOW) as shop:
        seconds = [o["date_modified_gmt"] for o in shop.orders]
        assert max(seconds.count(s) for s in set(seconds)) >= 250
        stream = connector_for(shop, per_page=per_page).streams()[1]
        got = [pair(r) for r in read_all(stream, None, UNTIL)]
        assert len(got) == len(set(got)) == 300
        assert got == sorted(got) == _orders_in_window(shop, None, UNTIL)
        drains = [r for r in shop.requests if r.endpoint == "orders" and "offset" in r.params
                  and r.params.get("orderby") == "id"]
        assert drains, "the tied second is drained by offset"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_keyset_paging_with_small_pages_matches_the_shop(seed: int) -> None:
    with FakeShop(customers=30, orders=200, seed=seed, now=NOW) as shop:
        stream = connector_for(shop, per_page=9).streams()[1]
        got = [pair(r) for r in read_all(stream, None, UNTIL)]
        assert got == _orders_in_window(shop, None, UNTIL)


def test_incremental_read_returns_only_orders_changed_since_the_bookmark(shop: FakeShop) -> None:
    connector = connector_for(shop)
    stream = connector.streams()[1]
    read_all(stream, None, UNTIL)
    shop.advance(30)
    touched = set(shop.touch_orders(5))
    updated = next(o["id"] for o in shop.orders if o["id"] not in touched and o["status"] != "trash")
    shop.update_order(updated, status="completed")
    trashed = next(o["id"] for o in shop.orders if o["status"] == "completed" and o["id"] not in touched | {updated})
    shop.trash_order(trashed)
    new = shop.add_order(status="pending")
    shop.advance(1)
    until2 = iso(shop.now())
    got = read_all(stream, UNTIL, until2)
    assert {r["id"] for r in got} == touched | {updated, trashed, new}
    assert next(r for r in got if r["id"] == trashed)["status"] == "trash"
    assert [pair(r) for r in got] == sorted(pair(r) for r in got)


def test_start_is_inclusive_and_until_exclusive(shop: FakeShop) -> None:
    stream = connector_for(shop).streams()[1]
    everything = [pair(r) for r in read_all(stream, None, UNTIL)]
    middle = everything[len(everything) // 2][0]
    later = everything[-10][0]
    got = [pair(r) for r in read_all(stream, middle, later)]
    assert got == [p for p in everything if middle <= p[0] < later]
    assert got[0][0] == middle


def test_orders_changed_at_or_after_until_are_left_for_the_next_run(shop: FakeShop) -> None:
    stream = connector_for(shop).streams()[1]
    touched = set(shop.touch_orders(4))  # stamped at NOW == until
    got = {r["id"] for r in read_all(stream, None, UNTIL)}
    assert not got & touched
    shop.advance(1)
    assert {r["id"] for r in read_all(stream, UNTIL, iso(shop.now()))} == touched


def test_orders_modified_during_the_read_do_not_hide_others(shop: FakeShop) -> None:
    stream = connector_for(shop, per_page=10).streams()[1]
    before = {o["id"] for o in shop.orders}
    pages = stream.read(None, UNTIL)
    got = [r["id"] for r in next(pages)]
    shop.advance(5)
    moved = {got[0], got[1], *(o["id"] for o in shop.orders[-3:])}
    for order_id in moved:
        shop.update_order(order_id, customer_note="changed mid-run")
    for page in pages:
        got.extend(r["id"] for r in page)
    assert len(got) == len(set(got))
    assert before - moved <= set(got)


def test_trash_pass_can_be_switched_off(shop: FakeShop) -> None:
    stream = connector_for(shop, include_trash=False).streams()[1]
    got = [pair(r) for r in read_all(stream, None, UNTIL)]
    assert got == _orders_in_window(shop, None, UNTIL, trash=False)
    assert not any(r.params.get("status") == "trash" for r in shop.requests)


def test_old_store_falls_back_to_a_full_unsorted_scan_with_the_same_result() -> None:
    with FakeShop(customers=30, orders=150, seed=4, version="5.6.0", now=NOW) as shop:
        stream = connector_for(shop).streams()[1]
        assert stream.is_sorted is False
        got = sorted(pair(r) for r in read_all(stream, None, UNTIL))
        assert got == _orders_in_window(shop, None, UNTIL)
        start = _orders_in_window(shop, None, UNTIL)[100][0]
        shop.reset_calls()
        got = sorted(pair(r) for r in read_all(stream, start, UNTIL))
        assert got == _orders_in_window(shop, start, UNTIL)
        listing = [r for r in shop.requests if r.endpoint == "orders"]
        assert all(r.params["orderby"] == "id" for r in listing)
        # every order is fetched: the old store cannot filter by modification date
        assert sum(1 for r in listing) >= 2


def test_store_with_filters_but_no_orderby_modified_filters_server_side_unsorted() -> None:
    with FakeShop(customers=10, orders=120, seed=6, orderby_modified=False, now=NOW) as shop:
        stream = connector_for(shop).streams()[1]
        assert stream.is_sorted is False
        start = _orders_in_window(shop, None, UNTIL)[60][0]
        got = sorted(pair(r) for r in read_all(stream, start, UNTIL))
        assert got == _orders_in_window(shop, start, UNTIL)
        assert all("modified_after" in r.params for r in shop.requests
                   if r.endpoint == "orders" and r.params.get("orderby") == "id")


def test_store_that_ignores_modified_after_fails_instead_of_looping() -> None:
    with FakeShop(customers=5, orders=60, seed=2, version="5.6.0", orderby_modified=True, now=NOW) as shop:
        connector = connector_for(shop, per_page=10)
        connector.client._capabilities = Capabilities("8.9.0", True, True)  # what the store claims
        with pytest.raises(SourceError, match="ignored modified_after"):
            read_all(connector.streams()[1], None, UNTIL)


def test_start_date_limits_the_first_read(shop: FakeShop) -> None:
    start = iso(NOW - timedelta(days=90))
    stream = connector_for(shop, start_date=start[:10]).streams()[1]
    got = [pair(r) for r in read_all(stream, None, UNTIL)]
    assert got == _orders_in_window(shop, start[:10] + "T00:00:00", UNTIL)


def test_guest_orders_come_through_with_customer_id_zero(shop: FakeShop) -> None:
    got = read_all(connector_for(shop).streams()[1], None, UNTIL)
    guests = [r for r in got if r["customer_id"] == 0]
    assert guests and all(r["billing"]["email"] for r in guests)


def test_transient_failures_mid_read_still_yield_everything(shop: FakeShop, sleeps: RecordedSleep) -> None:
    connector = connector_for(shop, sleeps)
    connector.check()
    shop.faults.set_rate(0.3, kinds=["http500", "http503", "http429", "reset"], seed=3)
    got = [pair(r) for r in read_all(connector.streams()[1], None, UNTIL)]
    assert got == _orders_in_window(shop, None, UNTIL)
    assert sleeps.delays


# ----------------------------------------------------------------------- customers

def test_first_customer_read_fetches_every_customer_of_every_role(shop: FakeShop) -> None:
    got = read_all(connector_for(shop).streams()[0], None, UNTIL)
    assert sorted(r["id"] for r in got) == [c["id"] for c in shop.customers]
    assert {r["role"] for r in got} == {"customer", "subscriber"}
    assert all(r["date_modified_gmt"] for r in got)


def test_never_modified_customers_carry_their_creation_date_as_replication_value() -> None:
    with FakeShop(customers=60, orders=0, seed=2, null_modified_ratio=0.5, now=NOW) as shop:
        never = {c["id"]: c["date_created_gmt"] for c in shop.customers if c["date_modified_gmt"] is None}
        assert never
        got = {r["id"]: r for r in read_all(connector_for(shop).streams()[0], None, UNTIL)}
        assert all(got[i]["date_modified_gmt"] == created for i, created in never.items())


def test_incremental_customer_read_scans_cheaply_then_fetches_changed_by_include() -> None:
    with FakeShop(customers=250, orders=0, seed=8, now=NOW) as shop:
        stream = connector_for(shop).streams()[0]
        read_all(stream, None, UNTIL)
        shop.advance(10)
        ids = [c["id"] for c in shop.customers[5:8]]
        for customer_id in ids:
            shop.update_customer(customer_id, first_name="Changed")
        shop.advance(1)
        shop.reset_calls()
        got = read_all(stream, UNTIL, iso(shop.now()))
        assert sorted(r["id"] for r in got) == ids
        assert all(r["first_name"] == "Changed" and "billing" in r for r in got)
        requests = [r for r in shop.requests if r.endpoint == "customers"]
        scans = [r for r in requests if "_fields" in r.params]
        fetches = [r for r in requests if "include" in r.params]
        assert len(scans) == 3 and all(r.params["_fields"] == "id,date_created_gmt,date_modified_gmt" for r in scans)
        assert len(fetches) == 1 and fetches[0].params["include"] == ",".join(map(str, ids))
        assert len(requests) == 4


def test_customer_role_setting_is_sent_to_the_shop(shop: FakeShop) -> None:
    got = read_all(connector_for(shop, role="customer").streams()[0], None, UNTIL)
    assert {r["role"] for r in got} == {"customer"}


def test_changed_email_reaches_the_customers_stream(shop: FakeShop) -> None:
    stream = connector_for(shop).streams()[0]
    customer_id = shop.customers[0]["id"]
    shop.advance(1)
    shop.change_email(customer_id, "Moved@Example.com")
    shop.advance(1)
    got = read_all(stream, UNTIL, iso(shop.now()))
    assert [(r["id"], r["email"], r["billing"]["email"]) for r in got] == [
        (customer_id, "Moved@Example.com", "Moved@Example.com")
    ]


# ------------------------------------------------------- hostile replication values

@pytest.mark.parametrize("per_page", [3, 4, 100])
def test_orders_with_unreadable_or_missing_dates_are_each_yielded_once_between_the_others(
        shop: FakeShop, per_page: int) -> None:
    stream = connector_for(shop, per_page=per_page).streams()[1]
    ids = [pair[1] for pair in _orders_in_window(shop, None, UNTIL)]
    # A run of bad values across page boundaries, more than a page long for small pages.
    hostile = {ids[2]: "garbage", ids[3]: None, ids[4]: "", ids[5]: "2024-13-45T99:99:99",
               ids[6]: "garbage", ids[-1]: "nope"}
    for order_id, value in hostile.items():
        shop.faults.records.date("orders", order_id, value)
    got = [r["id"] for r in read_all(stream, None, UNTIL)]
    assert sorted(got) == sorted(ids) and len(got) == len(set(got))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_runs_of_bad_dates_in_tie_heavy_shops_lose_and_repeat_no_order(seed: int) -> None:
    import random

    rng = random.Random(seed)
    with FakeShop(customers=20, orders=150, seed=seed, tie_burst=30, now=NOW) as shop:
        stream = connector_for(shop, per_page=rng.choice([3, 5, 7])).streams()[1]
        ids = [pair[1] for pair in _orders_in_window(shop, None, UNTIL)]
        start = rng.randrange(len(ids) - 12)
        for order_id in ids[start:start + rng.randrange(3, 12)] + rng.sample(ids, 10):
            shop.faults.records.date("orders", order_id, rng.choice(["garbage", None, "", "2024-01-01Tgarbage!"]))
        got = [r["id"] for r in read_all(stream, None, UNTIL)]
        assert sorted(got) == sorted(ids) and len(got) == len(set(got))


@pytest.mark.parametrize("kwargs", [{}, {"version": "5.6.0"}, {"orderby_modified": False}])
def test_an_order_stored_with_a_far_future_date_is_read_by_every_read_path(
        kwargs: dict[str, object]) -> None:
    with FakeShop(customers=10, orders=40, seed=6, now=NOW, **kwargs) as shop:  # type: ignore[arg-type]
        order_id = shop.orders[7]["id"]
        with shop.store.lock:
            shop.store.orders[order_id]["date_modified_gmt"] = "2099-01-01T00:00:00"
            shop.store.generation += 1
        stream = connector_for(shop).streams()[1]
        assert order_id in {r["id"] for r in read_all(stream, None, UNTIL)}
        shop.advance(60)
        later = iso(shop.now())
        assert [r["id"] for r in read_all(stream, UNTIL, later)] == [order_id]


def test_orders_whose_id_is_not_a_number_do_not_break_the_keyset_merge() -> None:
    """A plugin that sends `"id": [7]` or `"id": "x"`: the passes' merge and the seen
    sets take them (they raised TypeError); the engine dead-letters them."""
    import heapq

    from copernica_sync.connectors.woocommerce.streams import _order_key, _pair

    when = "2024-05-01T10:00:00"
    a = [{"id": 1, "date_modified_gmt": when}, {"id": [7], "date_modified_gmt": when}]
    b = [{"id": "x", "date_modified_gmt": when}, {"id": 2, "date_modified_gmt": when}]
    merged = list(heapq.merge(sorted(a, key=_order_key), sorted(b, key=_order_key),
                              key=_order_key))
    assert [r["id"] for r in merged if isinstance(r["id"], int)] == [1, 2]
    assert len({_pair(r) for r in merged}) == 4
