"""upsert_many: concurrent upserts, results in input order, errors per item, progress."""

from __future__ import annotations

import threading

import pytest
import requests

from copernica_sdk import (
    BulkResult,
    CopernicaClient,
    RetryPolicy,
    SafetyError,
    UnknownFieldError,
    UnsafeRequestError,
)
from copernica_sdk.testing.fake_copernica import FakeCopernica

NO_WAIT = RetryPolicy(max_attempts=3, sleep=lambda _: None)


@pytest.fixture
def fake(copernica_fake: FakeCopernica) -> FakeCopernica:
    copernica_fake.create_database(
        "Customers", {"customer_key": {"type": "text", "index": True}, "firstname": "text"},
        {"Orders": {"order_id": {"type": "text", "index": True}, "status": "text"}})
    return copernica_fake


def client_for(fake: FakeCopernica, **kw: object) -> CopernicaClient:
    kw.setdefault("retry", NO_WAIT)
    return CopernicaClient(fake.token, endpoint=fake.url, **kw)  # type: ignore[arg-type]


def test_results_come_back_in_input_order_with_each_profile(fake):
    items = [{"customer_key": f"k{n}", "firstname": f"N{n}"} for n in range(40)]
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        results = client.profiles.upsert_many(db, items, key_field="customer_key",
                                              concurrency=8)
        assert [r.index for r in results] == list(range(40))
        assert all(r.ok for r in results)
        assert [r.unwrap().fields["customer_key"] for r in results] == [
            f"k{n}" for n in range(40)]
        found = {p.fields["customer_key"]: p.id for p in client.profiles.list(db)}
    assert [r.unwrap().id for r in results] == [found[f"k{n}"] for n in range(40)]


def test_errors_are_collected_per_item_and_the_rest_still_runs(fake):
    items = [{"customer_key": "a", "firstname": "A"},
             {"customer_key": "b", "lastname": "no such field"},
             {"firstname": "no key"},
             {"customer_key": "", "firstname": "empty key"},
             {"customer_key": "e", "firstname": "E"}]
    with client_for(fake) as client:
        results = client.profiles.upsert_many(client.databases.get("Customers"), items,
                                              key_field="customer_key")
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert isinstance(results[1].error, UnknownFieldError)
    assert isinstance(results[2].error, UnsafeRequestError)
    assert "customer_key" in str(results[2].error)
    assert isinstance(results[3].error, UnsafeRequestError)
    with pytest.raises(UnknownFieldError):
        results[1].unwrap()
    assert sorted(p["fields"]["customer_key"] for p in fake.profiles("Customers")) == ["a", "e"]


def test_items_with_the_same_key_run_in_order_and_the_last_wins(fake):
    items = [{"customer_key": f"k{n % 5}", "firstname": f"v{n}"} for n in range(50)]
    with client_for(fake) as client:
        results = client.profiles.upsert_many(client.databases.get("Customers"), items,
                                              key_field="customer_key", concurrency=16)
    assert all(r.ok for r in results)
    assert fake.duplicates("Customers", "customer_key") == {}
    final = {p["fields"]["customer_key"]: p["fields"]["firstname"]
             for p in fake.profiles("Customers")}
    assert final == {f"k{k}": f"v{45 + k}" for k in range(5)}


def test_sixteen_threads_write_without_duplicates(fake):
    items = [{"customer_key": f"k{n % 100}", "firstname": str(n)} for n in range(400)]
    with client_for(fake, max_connections=16) as client:
        assert client.max_connections == 16
        results = client.profiles.upsert_many(client.databases.get("Customers"), items,
                                              key_field="customer_key")
    assert all(r.ok for r in results)
    assert len(fake.profiles("Customers")) == 100
    assert fake.duplicates("Customers", "customer_key") == {}


def test_calls_run_on_at_most_concurrency_threads_through_the_clients_pool(fake):
    threads: set[str] = set()
    session = requests.Session()
    session.hooks["response"].append(
        lambda r, *a, **k: threads.add(threading.current_thread().name))
    with client_for(fake, session=session, max_connections=4) as client:
        db = client.databases.get("Customers")
        client.fields.revalidate(database=db)
        threads.clear()
        client.profiles.upsert_many(db, [{"customer_key": f"k{n}"} for n in range(30)],
                                    key_field="customer_key")
    assert threads and len(threads) <= 4
    assert all(name.startswith("copernica-bulk") for name in threads)


def test_progress_is_reported_after_every_item_in_the_calling_thread(fake):
    seen: list[tuple[int, int, int]] = []
    with client_for(fake) as client:
        client.profiles.upsert_many(
            client.databases.get("Customers"),
            [{"customer_key": f"k{n}"} for n in range(12)] + [{"nokey": "x"}],
            key_field="customer_key", concurrency=4,
            on_progress=lambda done, total: seen.append((done, total, threading.get_ident())))
    assert [(d, t) for d, t, _ in seen] == [(n, 13) for n in range(1, 14)]
    assert {ident for _, _, ident in seen} == {threading.get_ident()}


def test_a_safety_error_stops_everything_not_yet_sent(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        for _ in range(2):  # duplicates: the key now matches two profiles
            client.profiles.create(db, {"customer_key": "dup"})
        items = [{"customer_key": "dup", "firstname": "X"}] + [
            {"customer_key": f"k{n}"} for n in range(5)]
        results = client.profiles.upsert_many(db, items, key_field="customer_key",
                                              concurrency=1)
    assert isinstance(results[0].error, SafetyError)
    assert all(isinstance(r.error, UnsafeRequestError) and "not sent" in str(r.error)
               for r in results[1:])
    assert len(fake.profiles("Customers")) == 2


def test_subprofiles_upsert_many_keys_per_profile(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        orders = client.collections.get(db, "Orders")
        ann = client.profiles.upsert(db, key={"customer_key": "ann"}, fields={})
        bob = client.profiles.upsert(db, key={"customer_key": "bob"}, fields={})
        items = [(ann, {"order_id": "1", "status": "new"}),
                 (bob, {"order_id": "1", "status": "new"}),
                 (ann, {"order_id": "2", "status": "new"}),
                 (ann, {"order_id": "1", "status": "paid"}),
                 (bob, {"status": "no key"})]
        results = client.subprofiles.upsert_many(orders, items, key_field="order_id")
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert isinstance(results[0], BulkResult)
    assert results[0].unwrap().id == results[3].unwrap().id
    assert results[3].unwrap().fields["status"] == "paid"
    subs = fake.subprofiles("Orders")
    assert len(subs) == 3 and fake.subprofile_duplicates("Orders", "order_id") == {}


def test_a_bad_concurrency_is_a_configuration_error(fake):
    from copernica_sdk import ConfigurationError
    with client_for(fake) as client, pytest.raises(ConfigurationError, match="concurrency"):
        client.profiles.upsert_many(1, [{"customer_key": "a"}], key_field="customer_key",
                                    concurrency=0)
