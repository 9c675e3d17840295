"""One text-length default (255) for the SDK and the sync mapping; cuts warn or refuse."""

from __future__ import annotations

import warnings

import pytest

from copernica_sdk import (
    CopernicaClient,
    RetryPolicy,
    TruncationWarning,
    ValueTooLongError,
)
from copernica_sdk.models import DEFAULT_TEXT_LENGTH
from copernica_sdk.schema import DatabaseSchema, FieldSchema, apply, plan
from copernica_sdk.sync.mapping import FieldSpec
from copernica_sdk.testing.fake_copernica import FakeCopernica

NO_WAIT = RetryPolicy(max_attempts=3, sleep=lambda _: None)


def client_for(fake: FakeCopernica, **kw: object) -> CopernicaClient:
    return CopernicaClient(fake.token, endpoint=fake.url, retry=NO_WAIT,
                           **kw)  # type: ignore[arg-type]


def test_the_sdk_and_the_sync_mapping_share_one_default_of_255():
    assert DEFAULT_TEXT_LENGTH == 255
    assert FieldSpec("note", "x").length == DEFAULT_TEXT_LENGTH
    assert FieldSchema("note").effective_length == DEFAULT_TEXT_LENGTH
    assert FieldSchema("n", type="integer").effective_length is None


def test_a_schema_field_without_a_length_holds_255_characters(copernica_fake):
    with client_for(copernica_fake) as client:
        result = plan(client, DatabaseSchema("Customers", fields=[
            FieldSchema("customer_key", length=64, index=True), FieldSchema("note")]))
        assert "note (text, length 255)" in result.describe()
        apply(client, result)
        db = client.databases.get("Customers")
        assert client.fields.get("note", database=db).length == 255
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no cut, so no warning
            profile = client.profiles.upsert(db, key={"customer_key": "k"},
                                             fields={"note": "x" * 120})
    assert profile.fields["note"] == "x" * 120


def test_fields_create_without_a_length_sends_255(copernica_fake):
    copernica_fake.create_database("Customers")
    with client_for(copernica_fake) as client:
        db = client.databases.get("Customers")
        assert client.fields.create("note", database=db).length == 255
        assert client.fields.create("n", database=db, type="integer").type == "integer"


@pytest.fixture
def short(copernica_fake: FakeCopernica) -> FakeCopernica:
    """A database whose note field holds 50 characters (made elsewhere, e.g. in the UI)."""
    copernica_fake.create_database(
        "Customers", {"customer_key": {"type": "text", "length": 20, "index": True},
                      "note": {"type": "text", "length": 50}, "bio": "big"},
        {"Orders": {"order_id": {"type": "text", "index": True},
                    "status": {"type": "text", "length": 5}}})
    return copernica_fake


def test_a_cut_value_warns_and_stores_the_cut(short):
    with client_for(short) as client:
        db = client.databases.get("Customers")
        with pytest.warns(TruncationWarning, match=r"'note'.*50.*120"):
            profile = client.profiles.upsert(db, key={"customer_key": "k"},
                                             fields={"note": "y" * 120, "bio": "z" * 500})
    assert profile.fields["note"] == "y" * 50 and profile.fields["bio"] == "z" * 500


def test_strict_lengths_refuses_instead_and_sends_nothing(short):
    with client_for(short, strict_lengths=True) as client:
        db = client.databases.get("Customers")
        with pytest.raises(ValueTooLongError, match=r"'note'.*120.*50") as err:
            client.profiles.upsert(db, key={"customer_key": "k"}, fields={"note": "y" * 120})
    assert (err.value.length, err.value.limit) == (120, 50)
    assert short.profiles("Customers") == []


def test_a_key_longer_than_its_field_is_always_refused(short):
    with client_for(short) as client:
        db = client.databases.get("Customers")
        with pytest.raises(ValueTooLongError, match="never match again"):
            client.profiles.upsert(db, key={"customer_key": "k" * 21}, fields={})
    assert short.profiles("Customers") == []


def test_every_write_path_warns(short):
    with client_for(short) as client:
        db = client.databases.get("Customers")
        orders = client.collections.get(db, "Orders")
        with pytest.warns(TruncationWarning):
            profile = client.profiles.create(db, {"customer_key": "a", "note": "n" * 60})
        with pytest.warns(TruncationWarning):
            client.profiles.update_fields(profile.id, {"note": "m" * 60})
        with pytest.warns(TruncationWarning):
            sub = client.subprofiles.upsert(profile, orders, key={"order_id": "1"},
                                            fields={"status": "shipped"})
        assert sub.fields["status"] == "shipp"
        with pytest.warns(TruncationWarning):
            client.subprofiles.create(profile, orders, {"order_id": "2", "status": "cancelled"})
        with pytest.warns(TruncationWarning):
            client.subprofiles.update_fields(sub.id, {"status": "returned"})
        with pytest.warns(TruncationWarning):
            [result] = client.profiles.upsert_many(
                db, [{"customer_key": "b", "note": "q" * 51}], key_field="customer_key")
        assert result.ok and result.unwrap().fields["note"] == "q" * 50


def test_field_lengths_are_loaded_once_however_many_threads_ask():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from copernica_sdk._safety import FieldNameCache

    loads: list[int] = []
    gate = threading.Barrier(16)

    def load(kind: str, parent: int):
        loads.append(parent)
        return [("note", 50), "city"]

    cache = FieldNameCache(load)

    def ask(_: int):
        gate.wait()
        return dict(cache.limits("database", 1))

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(16)))
    assert answers == [{"note": 50}] * 16 and loads == [1]
