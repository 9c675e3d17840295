"""One scenario per client method and error path, run against the fake to record
and against the recordings to replay.

A scenario gets a client, the ids of the seeded world and — when recording — the
fake, to inject faults.  Its assertions run in both modes, so a replay checks the
SDK reads the recorded answers exactly as it read the live ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from copernica_sdk import (
    AuthenticationError,
    ConstraintError,
    CopernicaClient,
    HTTPStatusError,
    NotFoundError,
    RateLimitError,
    ReadError,
    ReadTimeout,
    Requirement,
    UnsafeRequestError,
)
from copernica_sdk.testing.fake_copernica import FakeCopernica


@dataclass(frozen=True)
class World:
    """Ids of what :func:`seed` creates; the fake numbers deterministically."""

    database: int
    collection: int
    profile: int
    other_profile: int
    subprofile: int
    int_field: int


def seed(client: CopernicaClient) -> World:
    db = client.databases.create("Customers", description="contract fixtures")
    client.fields.create("customer_key", database=db, length=64, index=True)
    client.fields.create("firstname", database=db)
    age = client.fields.create("age", database=db, type="integer")
    orders = client.collections.create(db, "Orders")
    client.fields.create("order_id", collection=orders, index=True)
    client.fields.create("status", collection=orders)
    ann = client.profiles.upsert(db, key={"customer_key": "ann@example.com"},
                                 fields={"firstname": "Ann", "age": 41})
    bob = client.profiles.upsert(db, key={"customer_key": "bob@example.com"},
                                 fields={"firstname": "Bob"})
    for n in range(3):
        client.profiles.upsert(db, key={"customer_key": f"c{n}@example.com"},
                               fields={"firstname": f"C{n}"})
    order = client.subprofiles.upsert(ann, orders, key={"order_id": "1001"},
                                      fields={"status": "processing"})
    return World(db.id, orders.id, ann.id, bob.id, order.id, age.id)


Scenario = Callable[[CopernicaClient, World, FakeCopernica | None], Any]
SCENARIOS: dict[str, Scenario] = {}


def scenario(func: Scenario) -> Scenario:
    SCENARIOS[func.__name__] = func
    return func


def faults(fake: FakeCopernica | None, *entries: Any) -> None:
    if fake is not None:
        fake.faults.schedule(list(entries), when="before")


# -- databases ------------------------------------------------------------------------

@scenario
def databases_list(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert [d.name for d in c.databases.list()] == ["Customers"]


@scenario
def databases_get(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    db = c.databases.get("Customers")
    assert db.id == w.database and db.description == "contract fixtures"


@scenario
def databases_get_missing(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    with pytest.raises(NotFoundError):
        c.databases.get("Nope")


@scenario
def databases_create(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert c.databases.create("Newsletter").name == "Newsletter"


@scenario
def databases_unsubscribe_values(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.databases.set_unsubscribe_values(w.database, {"firstname": "unsubscribed"})
    assert c.databases.unsubscribe_values(w.database) == {"firstname": "unsubscribed"}


@scenario
def databases_callbacks(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.databases.create_callback(w.database, "https://hooks.example.com/copernica")
    assert [cb.url for cb in c.databases.callbacks(w.database)] == [
        "https://hooks.example.com/copernica"]


# -- fields and collections -------------------------------------------------------------

@scenario
def fields_list(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    fields = c.fields.list(database=w.database)
    assert [f.name for f in fields] == ["customer_key", "firstname", "age"]
    assert fields[0].index and fields[0].length == 64 and fields[2].type == "integer"


@scenario
def fields_find_missing(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert c.fields.find("nope", database=w.database) is None


@scenario
def fields_create(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    field = c.fields.create("city", database=w.database, length=100)
    assert field.name == "city" and field.length == 100


@scenario
def fields_update(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.fields.update(w.int_field, index=True)
    assert c.fields.get("age", database=w.database).index


@scenario
def collection_fields(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.fields.create("total", collection=w.collection, type="float")
    names = [f.name for f in c.fields.list(collection=w.collection)]
    assert names == ["order_id", "status", "total"]
    assert c.fields.get("order_id", collection=w.collection).index


@scenario
def collections_list_get_create(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert [x.name for x in c.collections.list(w.database)] == ["Orders"]
    assert c.collections.get(w.database, "Orders").id == w.collection
    assert c.collections.find(w.database, "Nope") is None
    assert c.collections.create(w.database, "OrderItems").name == "OrderItems"


# -- profiles -----------------------------------------------------------------------------

@scenario
def profiles_upsert_updates_the_same_profile(c: CopernicaClient, w: World,
                                             fake: FakeCopernica | None) -> None:
    again = c.profiles.upsert(w.database, key={"customer_key": "ann@example.com"},
                              fields={"firstname": "Anne"})
    assert again.id == w.profile and again.fields["firstname"] == "Anne"


@scenario
def profiles_upsert_creates(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    new = c.profiles.upsert(w.database, key={"customer_key": "new@example.com"},
                            fields={"firstname": "New"})
    assert new.id not in (w.profile, w.other_profile)
    assert new.fields["customer_key"] == "new@example.com"


@scenario
def profiles_search_one_item_page(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    page = c.profiles.search(w.database, {"customer_key": "bob@example.com"})
    assert [p.id for p in page.items] == [w.other_profile] and page.total == 1


@scenario
def profiles_search_empty_page(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    page = c.profiles.search(w.database, {"customer_key": "nobody@example.com"})
    assert page.items == () and page.total == 0


@scenario
def profiles_list_pages(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    profiles = list(c.profiles.list(w.database, page_size=2))
    assert len(profiles) == 5 and len({p.id for p in profiles}) == 5


@scenario
def profiles_get(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    profile = c.profiles.get(w.profile)
    assert profile.fields["firstname"] == "Ann" and profile.fields["age"] == "41"


@scenario
def profiles_get_missing(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    with pytest.raises(NotFoundError):
        c.profiles.get(999999)


@scenario
def profiles_update_fields(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.profiles.update_fields(w.other_profile, {"firstname": "Robert", "age": 50})


@scenario
def profiles_update_fields_constraint(c: CopernicaClient, w: World,
                                      fake: FakeCopernica | None) -> None:
    with pytest.raises(ConstraintError):
        c.profiles.update_fields(w.other_profile, {"age": "not a number"})


@scenario
def profiles_create_and_remove(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    created = c.profiles.create(w.database, {"customer_key": "tmp@example.com"})
    c.profiles.remove(created)
    c.profiles.remove_many(w.database, [w.other_profile])


@scenario
def profiles_merge(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    c.profiles.merge(w.other_profile, w.profile)
    assert [s.id for s in c.subprofiles.list(w.other_profile, w.collection)] == [w.subprofile]


# -- subprofiles --------------------------------------------------------------------------

@scenario
def subprofiles_upsert(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    same = c.subprofiles.upsert(w.profile, w.collection, key={"order_id": "1001"},
                                fields={"status": "completed"})
    assert same.id == w.subprofile and same.fields["status"] == "completed"


@scenario
def subprofiles_list_and_get(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert [s.id for s in c.subprofiles.list(w.profile, w.collection)] == [w.subprofile]
    assert [s.id for s in c.subprofiles.list_collection(w.collection)] == [w.subprofile]
    assert c.subprofiles.get(w.collection, w.subprofile).fields["order_id"] == "1001"


@scenario
def subprofiles_create_update_move_remove(c: CopernicaClient, w: World,
                                          fake: FakeCopernica | None) -> None:
    created = c.subprofiles.create(w.profile, w.collection, {"order_id": "2002"})
    c.subprofiles.update_fields(created, {"status": "cancelled"})
    c.subprofiles.move(created, w.other_profile)
    c.subprofiles.remove(created)
    c.subprofiles.remove_many(w.collection, [w.subprofile])


# -- search operators (docs/sdk.md, "Search operators"): one scenario per operator -------
# The world: Ann (age 41), Bob, C0, C1, C2 (no age: 0).

def _keys(c: CopernicaClient, w: World, requirement: Requirement) -> set[str]:
    page = c.profiles.search(w.database, [requirement])
    assert page.total == len(page.items)
    return {p.fields["customer_key"].split("@")[0] for p in page.items}


@scenario
def requirement_operator_eq(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "=", "Bob")) == {"bob"}


@scenario
def requirement_operator_eq_rest(c: CopernicaClient, w: World,
                                 fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "==", "Bob")) == {"bob"}


@scenario
def requirement_operator_ne(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "!=", "Ann")) == {"bob", "c0", "c1", "c2"}


@scenario
def requirement_operator_ne_rest(c: CopernicaClient, w: World,
                                 fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "<>", "Ann")) == {"bob", "c0", "c1", "c2"}


@scenario
def requirement_operator_lt(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("age", "<", 41, unverified=True)) == {
        "bob", "c0", "c1", "c2"}


@scenario
def requirement_operator_gt(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("age", ">", 9, unverified=True)) == {"ann"}


@scenario
def requirement_operator_le(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("age", "<=", 40, unverified=True)) == {
        "bob", "c0", "c1", "c2"}


@scenario
def requirement_operator_ge(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("age", ">=", 41, unverified=True)) == {"ann"}


@scenario
def requirement_operator_like(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "=~", "C%", unverified=True)) == {
        "c0", "c1", "c2"}


@scenario
def requirement_operator_not_like(c: CopernicaClient, w: World,
                                  fake: FakeCopernica | None) -> None:
    assert _keys(c, w, Requirement("firstname", "!~", "C%", unverified=True)) == {"ann", "bob"}


# -- operations added with the operation table (docs/sdk.md) ------------------------------

@scenario
def databases_retrieve_update_remove(c: CopernicaClient, w: World,
                                     fake: FakeCopernica | None) -> None:
    c.databases.update(w.database, description="updated", unsubscribe_behavior="remove")
    db = c.databases.retrieve(w.database)
    assert db.description == "updated" and db.unsubscribe_behavior == "remove"
    with pytest.raises(UnsafeRequestError, match="named 'Customers'"):
        c.databases.remove(w.database, confirm_name="Customer")
    c.databases.remove(w.database, confirm_name="Customers")
    assert c.databases.find("Customers") is None


@scenario
def collections_retrieve(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert c.collections.retrieve(w.collection).name == "Orders"


@scenario
def subprofiles_retrieve_and_unsubscribe(c: CopernicaClient, w: World,
                                         fake: FakeCopernica | None) -> None:
    assert c.subprofiles.retrieve(w.subprofile).fields["order_id"] == "1001"
    c.subprofiles.unsubscribe(w.collection, w.subprofile)


@scenario
def profiles_distinct(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    ages = sorted(p.fields["age"] for p in c.profiles.distinct(w.database, ["age"]))
    assert ages == ["0", "41"]


@scenario
def profiles_upsert_with_interests(c: CopernicaClient, w: World,
                                   fake: FakeCopernica | None) -> None:
    ann = c.profiles.upsert(w.database, key={"customer_key": "ann@example.com"}, fields={},
                            interests={"newsletter": True})
    assert ann.interests == {"newsletter": "1"}


@scenario
def profiles_upsert_many(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    items = [{"customer_key": "ann@example.com", "firstname": "Anne"},
             {"customer_key": "dan@example.com", "firstname": "Dan"},
             {"customer_key": "eve@example.com", "nickname": "unknown field"}]
    results = c.profiles.upsert_many(w.database, items, key_field="customer_key",
                                     concurrency=1)  # one at a time: a replayable order
    assert [r.ok for r in results] == [True, True, False]
    assert results[0].unwrap().id == w.profile


@scenario
def subprofiles_upsert_many(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    results = c.subprofiles.upsert_many(
        w.collection, [(w.profile, {"order_id": "1001", "status": "shipped"}),
                       (w.other_profile, {"order_id": "2001", "status": "new"})],
        key_field="order_id", concurrency=1)
    assert results[0].unwrap().id == w.subprofile and results[1].ok


@scenario
def call_escape_hatch(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    assert c.call("Database_retrieve", id=w.database)["name"] == "Customers"
    page = c.call("Database_searchProfiles", id=w.database,
                  requirements={"customer_key": "bob@example.com"})
    assert page["total"] == 1 and page["items"][0]["id"] == w.other_profile


# -- error paths --------------------------------------------------------------------------

@scenario
def error_invalid_token(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    bad = CopernicaClient("wrong-token", endpoint=c.endpoint, session=c._session)
    with pytest.raises(AuthenticationError, match="Invalid access token"):
        bad.databases.find("Customers")


@scenario
def error_503_then_success(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    faults(fake, "http503")
    assert c.databases.get("Customers").id == w.database


@scenario
def error_429_with_retry_after(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    faults(fake, "http429", "http429", "http429")
    with pytest.raises(RateLimitError) as err:
        c.databases.get("Customers")
    assert err.value.retry_after == 1


@scenario
def error_502_html_page(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    faults(fake, "http502", "http502", "http502")
    with pytest.raises(HTTPStatusError) as err:
        c.databases.get("Customers")
    assert err.value.status_code == 502 and err.value.attempts == 3


@scenario
def error_server_fault_then_success(c: CopernicaClient, w: World,
                                    fake: FakeCopernica | None) -> None:
    c.fields.revalidate(database=w.database)  # the search's field check, before the fault
    faults(fake, "fault")
    assert c.profiles.search(w.database, {"customer_key": "ann@example.com"}).total == 1


@scenario
def error_truncated_body(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    faults(fake, "truncated", "truncated", "truncated")
    with pytest.raises(ReadError):
        c.databases.get("Customers")


@scenario
def error_connection_reset(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    faults(fake, "reset", "reset", "reset")
    with pytest.raises(ReadError):
        c.databases.get("Customers")


@scenario
def error_read_timeout(c: CopernicaClient, w: World, fake: FakeCopernica | None) -> None:
    if fake is not None:
        fake.faults.timeout_seconds = 1.0
    faults(fake, "timeout", "timeout", "timeout")
    with pytest.raises(ReadTimeout):
        c.databases.get("Customers")
