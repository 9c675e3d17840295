"""Every record the shop returns is accounted for: synced, unchanged, dead-lettered or
skipped with a reason — never dropped, and never fatal to the other records.

The fake shop serves hostile values for chosen records (``shop.faults.records``):
an unreadable ``date_modified_gmt``, none at all, one far in the future, and a
``meta_data`` value nested 5,000 levels deep.  Per stream the summary must add up:
``read == written + unchanged + dead_lettered + skipped``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient
from copernica_sdk.sync._bookmarks import parse_ts
from copernica_sdk.sync.connector import DEFERRED
from copernica_sdk.sync.engine import SyncEngine, SyncOptions
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.report import RunReport, StreamReport
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import TOKEN, CliJob, InProcessJob, describe, fast_retry, woo_connector

FAR_FUTURE = "2099-01-01T00:00:00"


def _adds_up(stream: StreamReport) -> bool:
    return stream.read == stream.written + stream.unchanged + stream.dead_lettered + stream.skipped


def _synced_order_ids(fake: FakeCopernica) -> set[int]:
    return {int(s["fields"]["order_id"]) for s in fake.subprofiles("Orders")}


def _letters(state_path: Path) -> dict[tuple[str, str], str]:
    with StateStore(state_path) as state:
        return {(d.stream, d.record_key): d.reason for d in state.dead_letters(status="open")}


def _bookmarks_before(state_path: Path, moment: datetime) -> None:
    with StateStore(state_path) as state:
        for stream, value in state.bookmarks().items():
            parsed = parse_ts(value)
            assert parsed is not None, (stream, value)
            assert parsed <= moment.replace(tzinfo=None), (stream, value)


def _pick(shop: FakeShop, n: int) -> tuple[list[int], list[int]]:
    return sorted(shop.store.orders)[:n * 3:3], sorted(shop.store.customers)[:n * 2:2]


def test_a_garbage_modification_date_dead_letters_that_record_and_the_rest_syncs(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    orders, customers = _pick(shop, 1)
    shop.faults.records.date("orders", orders[0], "garbage")
    shop.faults.records.date("customers", customers[0], "31-02-2024 25:61")
    job = CliJob.create(tmp_path, shop, copernica)
    started = datetime.now(UTC)
    result = job.run("run")
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr + result.stdout
    letters = _letters(job.state_path)
    assert set(letters) == {("orders", str(orders[0])), ("customers", str(customers[0]))}
    assert "date_modified_gmt" in letters[("orders", str(orders[0]))]
    assert "'garbage'" in letters[("orders", str(orders[0]))]
    assert "'31-02-2024 25:61'" in letters[("customers", str(customers[0]))]
    assert _synced_order_ids(copernica) == {o["id"] for o in shop.orders} - {orders[0]}
    # The bad value did not lift a bookmark past the run's start.
    _bookmarks_before(job.state_path, started + timedelta(seconds=1))
    again = job.run("run")
    assert again.returncode in (0, 1) and "Traceback" not in again.stderr, describe(again)


def test_null_and_far_future_dates_are_synced_and_counted(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    orders, customers = _pick(shop, 2)
    shop.faults.records.date("orders", orders[0], None)
    shop.faults.records.date("orders", orders[1], FAR_FUTURE)
    shop.faults.records.date("customers", customers[0], None)
    shop.faults.records.date("customers", customers[1], FAR_FUTURE)
    job = InProcessJob(shop, copernica, tmp_path / "state.sqlite3", fast_retry())
    started = datetime.now(UTC)
    report = job.run()
    assert int(report.exit_code) == 0, [s.summary() for s in report.streams]
    by_name = {s.stream: s for s in report.streams}
    assert by_name["orders"].read == len(shop.orders)
    assert by_name["customers"].read == len(shop.customers)
    assert all(_adds_up(s) for s in report.streams), [s.summary() for s in report.streams]
    assert set(orders[:2]) <= _synced_order_ids(copernica)
    _bookmarks_before(job.state_path, started + timedelta(seconds=1))
    # The far-future records are not parked until 2099: the next run reads them
    # again (unchanged) and the bookmark still never passes the run start.
    second = job.run()
    assert int(second.exit_code) == 0
    assert all(_adds_up(s) for s in second.streams), [s.summary() for s in second.streams]
    assert {s.stream: s.written for s in second.streams} == {"customers": 0, "orders": 0}
    _bookmarks_before(job.state_path, datetime.now(UTC) + timedelta(seconds=1))


def test_an_order_stored_with_a_far_future_date_is_synced_by_the_first_run(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    # Not only the answer: the shop's own data says 2099, so WooCommerce's
    # modified_before filter hides it from the run's window.
    order_id = sorted(shop.store.orders)[5]
    with shop.store.lock:
        shop.store.orders[order_id]["date_modified_gmt"] = FAR_FUTURE
        shop.store.generation += 1
    job = InProcessJob(shop, copernica, tmp_path / "state.sqlite3", fast_retry())
    started = datetime.now(UTC)
    report = job.run()
    assert int(report.exit_code) == 0, [s.summary() for s in report.streams]
    assert order_id in _synced_order_ids(copernica)
    assert all(_adds_up(s) for s in report.streams)
    _bookmarks_before(job.state_path, started + timedelta(seconds=1))


def test_a_record_changed_after_the_run_started_is_counted_as_deferred_and_synced_next_run(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    customer_id = sorted(shop.store.customers)[2]
    # The run "started" two hours ago; the customer changed an hour ago.
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    with shop.store.lock:
        shop.store.customers[customer_id]["date_modified_gmt"] = an_hour_ago
        shop.store.generation += 1
    email = shop.customer(customer_id)["email"].lower()
    connector = woo_connector(shop)
    target = parse_target({}, connector.default_mapping())
    state_path = tmp_path / "state.sqlite3"
    with CopernicaClient(TOKEN, endpoint=copernica.url, retry=fast_retry()) as client, \
            StateStore(state_path) as state:
        report: RunReport = SyncEngine(
            client, connector, target, state, job="rel", options=SyncOptions(concurrency=2),
            clock=lambda: datetime.now(UTC) - timedelta(hours=2)).run()
    connector.close()
    customers = next(s for s in report.streams if s.stream == "customers")
    assert customers.skip_reasons == {DEFERRED: 1}, customers.summary()
    assert customers.read == len(shop.customers) and _adds_up(customers)
    assert f"skipped 1 (1 {DEFERRED})" in customers.summary()
    assert email not in _profile_keys(copernica)
    with StateStore(state_path) as state:
        counts = state.runs(limit=1)[0].counts
        assert counts["skipped"] == 1 and counts[f"skipped: {DEFERRED}"] == 1
    later = InProcessJob(shop, copernica, state_path, fast_retry()).run()
    assert int(later.exit_code) == 0
    assert email in _profile_keys(copernica)


def _profile_keys(fake: FakeCopernica) -> set[str]:
    return {str(p["fields"]["customer_key"]) for p in fake.profiles("Customers")}


def test_meta_data_nested_5000_levels_deep_dead_letters_that_order_and_the_rest_syncs(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    order_id = sorted(shop.store.orders)[4]
    shop.faults.records.deep("orders", order_id, 5000)
    job = CliJob.create(tmp_path, shop, copernica)
    result = job.run("run")
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr + result.stdout
    assert "RecursionError" not in result.stderr + result.stdout
    letters = _letters(job.state_path)
    assert list(letters) == [("orders", str(order_id))]
    assert "nests deeper" in letters[("orders", str(order_id))]
    assert "/wp-json/wc/v3/orders" in letters[("orders", str(order_id))]
    assert _synced_order_ids(copernica) == {o["id"] for o in shop.orders} - {order_id}


def test_deep_meta_data_on_a_customer_does_not_stop_the_orders(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    customer_id = sorted(shop.store.customers)[1]
    shop.faults.records.deep("customers", customer_id, 5000)
    report = InProcessJob(shop, copernica, tmp_path / "state.sqlite3", fast_retry()).run()
    assert int(report.exit_code) == 1, [s.summary() for s in report.streams]
    assert {s.stream: s.dead_lettered for s in report.streams} == {"customers": 1, "orders": 0}
    assert _synced_order_ids(copernica) == {o["id"] for o in shop.orders}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_record_is_accounted_for_under_a_mix_of_hostile_values(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica, seed: int) -> None:
    rng = random.Random(seed)
    values = ["garbage", None, FAR_FUTURE, "", "2024-13-45T99:99:99", "0001-01-01T00:00:00+01:00",
              "deep"]
    bad: dict[str, set[int]] = {"orders": set(), "customers": set()}
    for kind, table in (("orders", shop.store.orders), ("customers", shop.store.customers)):
        for record_id in rng.sample(sorted(table), 4):
            value = rng.choice(values)
            if value == "deep":
                shop.faults.records.deep(kind, record_id, 3000 + rng.randrange(3000))
            else:
                shop.faults.records.date(kind, record_id, value)
            bad[kind].add(record_id)
    job = InProcessJob(shop, copernica, tmp_path / "state.sqlite3", fast_retry())
    for _ in range(2):
        report = job.run()
        assert int(report.exit_code) in (0, 1), [s.summary() for s in report.streams]
        assert all(_adds_up(s) for s in report.streams), [s.summary() for s in report.streams]
    by_name = {s.stream: s for s in job.run().streams}
    assert all(_adds_up(s) for s in by_name.values())
    # Every order is in Copernica or in the dead-letter table; none vanished.
    letters = {int(key) for stream, key in _letters(job.state_path) if stream == "orders"}
    assert _synced_order_ids(copernica) | letters == {o["id"] for o in shop.orders}
    assert letters <= bad["orders"]
