"""Never overwrite what must not be overwritten (issue 11), against the fake over loopback.

- a key field renamed after the field cache was filled: the write that matched
  every profile is a SafetyError (not a log line), the cache is never trusted
  longer than its max age, and ``fields.revalidate`` reads it again on demand;
- searches on an unknown field are refused before any request;
- values for unknown fields are refused (with a "did you mean"), unless the
  caller opts out with ``unknown_fields="ignore"``.
"""

from __future__ import annotations

from typing import Any

import pytest

from copernica_sdk import (
    CopernicaClient,
    RetryPolicy,
    SafetyError,
    UnknownFieldError,
)
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.report import ExitCode
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ..sync.engine_harness import Harness, h, seed

__all__ = ["h"]  # the engine harness fixture

NO_WAIT = RetryPolicy(max_attempts=2, sleep=lambda _: None)


@pytest.fixture
def fake(copernica_fake: FakeCopernica) -> FakeCopernica:
    copernica_fake.create_database(
        "Customers", {"customer_key": {"type": "text", "index": True}, "city": "text",
                      "firstname": "text"},
        {"Orders": {"order_id": {"type": "text", "index": True}, "status": "text"}})
    copernica_fake.create_database("Plain", {"email": "text"})
    return copernica_fake


def client_for(fake: FakeCopernica, **kw: Any) -> CopernicaClient:
    kw.setdefault("retry", NO_WAIT)
    return CopernicaClient(fake.token, endpoint=fake.url, **kw)


def _people(client: CopernicaClient, n: int = 3) -> None:
    db = client.databases.get("Customers")
    for i in range(1, n + 1):
        client.profiles.upsert(db, key={"customer_key": f"k{i}"}, fields={"city": f"C{i}"})


def _rename(fake: FakeCopernica, database: str, old: str, new: str, *,
            collection: str | None = None) -> None:
    """Rename a field from another client, as someone in Copernica's UI would."""
    with client_for(fake) as other:
        db = other.databases.get(database)
        if collection is None:
            other.fields.update(other.fields.get(old, database=db), name=new)
        else:
            coll = other.collections.get(db, collection)
            other.fields.update(other.fields.get(old, collection=coll), name=new,
                                in_collection=True)


# -- stale field cache -------------------------------------------------------------------


def test_an_upsert_that_touched_every_profile_after_a_key_rename_is_a_safety_error(fake):
    with client_for(fake) as client:
        _people(client)                           # fills the field cache
        _rename(fake, "Customers", "customer_key", "ckey")
        db = client.databases.get("Customers")
        with pytest.raises(SafetyError) as err:
            client.profiles.upsert(db, key={"customer_key": "k2"}, fields={"city": "WIPED"})
    assert err.value.touched == 3 and not err.value.retryable
    assert "SAFETY STOP" in str(err.value) and "customer_key" in str(err.value)


def test_a_field_list_older_than_its_max_age_is_read_again_before_a_write(fake):
    with client_for(fake, field_cache_max_age=0) as client:
        _people(client)
        _rename(fake, "Customers", "customer_key", "ckey")
        db = client.databases.get("Customers")
        with pytest.raises(UnknownFieldError, match="no field 'customer_key'"):
            client.profiles.upsert(db, key={"customer_key": "k2"}, fields={"city": "WIPED"})
    assert all(p["fields"]["city"] != "WIPED" for p in fake.profiles("Customers"))


def test_revalidate_reads_the_field_list_again_so_a_renamed_key_is_refused_before_writing(fake):
    with client_for(fake) as client:
        _people(client)
        _rename(fake, "Customers", "customer_key", "ckey")
        db = client.databases.get("Customers")
        assert "ckey" in client.fields.revalidate(database=db)
        with pytest.raises(UnknownFieldError):
            client.profiles.upsert(db, key={"customer_key": "k2"}, fields={"city": "WIPED"})
    assert all(p["fields"]["city"] != "WIPED" for p in fake.profiles("Customers"))


def test_a_subprofile_upsert_that_touched_several_after_a_key_rename_is_a_safety_error(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        orders = client.collections.get(db, "Orders")
        profile = client.profiles.upsert(db, key={"customer_key": "k1"}, fields={})
        for n in ("1", "2"):
            client.subprofiles.upsert(profile, orders, key={"order_id": n}, fields={})
        _rename(fake, "Customers", "order_id", "oid", collection="Orders")
        with pytest.raises(SafetyError):
            client.subprofiles.upsert(profile, orders, key={"order_id": "1"},
                                      fields={"status": "WIPED"})


def test_update_many_whose_answer_lacks_the_requirement_field_is_a_safety_error(fake):
    with client_for(fake) as client:
        _people(client)
        _rename(fake, "Customers", "city", "town")
        db = client.databases.get("Customers")
        with pytest.raises(SafetyError, match="no field 'city'"):
            client.profiles.update_many(db, {"city": "C1"}, {"firstname": "X"},
                                        unknown_fields="ignore")


def test_update_many_by_a_unique_key_that_touched_several_is_a_safety_error(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        for _ in range(2):  # a duplicate key, made the way an old import would
            client.profiles.create(db, {"customer_key": "dup"})
        with pytest.raises(SafetyError, match="duplicates"):
            client.profiles.update_many(db, {"customer_key": "dup"}, {"city": "X"}, unique=True)


# -- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize("read", ["list", "search", "find_one"])
def test_a_search_on_an_unknown_field_is_refused_before_any_request(fake, read):
    with client_for(fake) as client:
        db = client.databases.get("Plain")
        client.profiles.create(db, {"email": "a@b.nl"})
        client.fields.revalidate(database=db)
        fake.reset_calls()
        with pytest.raises(UnknownFieldError, match="no field 'city'"):
            if read == "list":
                list(client.profiles.list(db, {"city": "Utrecht"}))
            elif read == "search":
                client.profiles.search(db, {"city": "Utrecht"})
            else:
                client.profiles.find_one(db, {"city": "Utrecht"})
    assert "Database_searchProfiles" not in fake.calls


def test_subprofile_searches_on_an_unknown_field_are_refused(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        orders = client.collections.get(db, "Orders")
        profile = client.profiles.upsert(db, key={"customer_key": "k1"}, fields={})
        with pytest.raises(UnknownFieldError):
            client.subprofiles.search(profile, orders, {"orderid": "1"})
        with pytest.raises(UnknownFieldError):
            list(client.subprofiles.list(profile, orders, {"orderid": "1"}))
        with pytest.raises(UnknownFieldError):
            list(client.subprofiles.list_collection(orders, {"orderid": "1"}))
    assert "Profile_searchSubProfiles" not in fake.calls
    assert "Collection_searchSubProfiles" not in fake.calls


def test_a_search_on_existing_fields_still_works(fake):
    with client_for(fake) as client:
        _people(client)
        db = client.databases.get("Customers")
        assert [p.fields["customer_key"] for p in client.profiles.list(db, {"city": "C2"})] \
            == ["k2"]


# -- unknown fields in fields= ----------------------------------------------------------


def test_a_misspelt_field_in_an_upsert_is_refused_with_a_suggestion(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        with pytest.raises(UnknownFieldError) as err:
            client.profiles.upsert(db, key={"customer_key": "k1"}, fields={"citty": "Utrecht"})
    assert err.value.field == "citty" and err.value.suggestion == "city"
    assert "did you mean 'city'" in str(err.value) and "customer_key" in str(err.value)
    assert fake.profiles("Customers") == []


@pytest.mark.parametrize("call", ["create", "update_fields", "subprofile_upsert",
                                  "subprofile_create", "subprofile_update_fields"])
def test_every_write_of_values_refuses_unknown_fields(fake, call):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        orders = client.collections.get(db, "Orders")
        profile = client.profiles.upsert(db, key={"customer_key": "k1"}, fields={})
        sub = client.subprofiles.upsert(profile, orders, key={"order_id": "1"}, fields={})
        with pytest.raises(UnknownFieldError):
            if call == "create":
                client.profiles.create(db, {"customer_key": "k9", "citty": "U"})
            elif call == "update_fields":
                client.profiles.update_fields(profile.id, {"citty": "U"})
            elif call == "subprofile_upsert":
                client.subprofiles.upsert(profile, orders, key={"order_id": "1"},
                                          fields={"statuss": "x"})
            elif call == "subprofile_create":
                client.subprofiles.create(profile, orders, {"statuss": "x"})
            else:
                client.subprofiles.update_fields(sub.id, {"statuss": "x"})


def test_unknown_fields_ignore_sends_the_values_as_the_service_expects(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        profile = client.profiles.upsert(db, key={"customer_key": "k1"},
                                         fields={"citty": "U", "city": "Delft"},
                                         unknown_fields="ignore")
    assert profile.fields["city"] == "Delft"


# -- the engine -------------------------------------------------------------------------


def test_a_run_refuses_to_start_when_a_mapped_key_field_was_renamed_since_the_last_run(
        h: Harness) -> None:
    seed(h, people=4, orders=0)
    assert h.run().exit_code is ExitCode.OK
    before = sorted(h.profiles())
    # The same long-lived client (its field cache filled by the first run) runs again.
    _rename(h.fake, "Customers", "customer_key", "ckey")
    h.source.put("people", id=1, name="Changed")
    with pytest.raises(ConfigError, match="no field 'customer_key'"):
        h.run()
    assert sorted(p["fields"]["ckey"] for p in h.fake.profiles("Customers")) == before
    assert all(p["fields"]["name"] != "Changed" for p in h.fake.profiles("Customers"))


def test_a_safety_error_stops_the_run_at_once_with_exit_5_and_no_dead_letter(
        h: Harness) -> None:
    seed(h, people=6, orders=0)
    db = h.client.databases.get("Customers")
    for _ in range(2):  # a duplicate of one person's key, as an old import may leave
        h.client.profiles.create(db, {"customer_key": "p0@example.com"})
    report = h.run(concurrency=1)
    assert report.exit_code is ExitCode.UNAVAILABLE
    stream = report.streams[0]
    assert stream.error is not None and "SAFETY STOP" in stream.error, stream.error
    assert stream.dead_lettered == 0
    assert h.state.bookmark("people") is None  # nothing of the page was committed
    assert h.state.dead_letters(status="open") == []
