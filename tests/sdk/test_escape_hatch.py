"""client.call: any WSDL operation by name, plain values in and out, the facade's guards."""

from __future__ import annotations

import pytest

from copernica_sdk import (
    AuthenticationError,
    ConfigurationError,
    CopernicaClient,
    Requirement,
    RetryPolicy,
    SafetyError,
    TruncationWarning,
    UnknownFieldError,
    UnsafeRequestError,
)
from copernica_sdk.testing.fake_copernica import FakeCopernica

NO_WAIT = RetryPolicy(max_attempts=3, sleep=lambda _: None)


@pytest.fixture
def world(copernica_fake: FakeCopernica):
    copernica_fake.create_database(
        "Customers", {"customer_key": {"type": "text", "index": True},
                      "firstname": {"type": "text", "length": 10}, "age": "integer"},
        {"Orders": {"order_id": {"type": "text", "index": True}, "status": "text"}})
    client = CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url, retry=NO_WAIT)
    db = client.databases.get("Customers")
    ann = client.profiles.upsert(db, key={"customer_key": "ann"}, fields={"firstname": "Ann"})
    yield client, db, ann
    client.close()


def test_an_entity_comes_back_as_a_plain_dict(world):
    client, db, _ = world
    found = client.call("Database_retrieve", id=db.id)
    assert found["id"] == db.id and found["name"] == "Customers"
    assert isinstance(found["id"], int)


def test_models_ids_maps_and_references_are_shaped_by_the_wsdl(world, copernica_fake):
    client, db, ann = world
    orders = client.collections.get(db, "Orders")
    sub = client.call("Profile_createSubProfile", id=ann, collection=orders,
                      fields={"order_id": 1001, "status": "paid"})
    assert sub["fields"] == {"order_id": "1001", "status": "paid"}
    client.call("Database_removeProfiles", id=db, ids=[ann.id])
    assert copernica_fake.profiles("Customers") == []


def test_a_paged_result_is_a_dict_with_a_list_of_items(world):
    client, db, ann = world
    page = client.call("Database_searchProfiles", id=db, requirements={"customer_key": "ann"},
                       allproperties=True)
    assert page["total"] == 1 and page["start"] == 0
    assert [p["id"] for p in page["items"]] == [ann.id]
    assert page["items"][0]["fields"]["firstname"] == "Ann"
    empty = client.call("Database_searchProfiles", id=db, requirements={"customer_key": "x"})
    assert empty["total"] == 0 and empty["items"] in ([], None)


def test_a_map_result_and_a_value_result(world):
    client, db, _ = world
    assert client.call("Database_setUnsubscribeValues", id=db,
                       fields={"firstname": "gone"}) == "1"
    assert client.call("Database_unsubscribeValues", id=db) == {"firstname": "gone"}


def test_requirements_on_unknown_fields_are_refused_before_sending(world, copernica_fake):
    client, db, _ = world
    with pytest.raises(UnknownFieldError, match="customer_ky"):
        client.call("Database_updateProfiles", id=db, requirements={"customer_ky": "ann"},
                    fields={"firstname": "Eve"})
    assert copernica_fake.profiles("Customers")[0]["fields"]["firstname"] == "Ann"


def test_a_write_without_requirements_is_refused(world):
    client, db, _ = world
    with pytest.raises(UnsafeRequestError, match="without requirements"):
        client.call("Database_updateProfiles", id=db, requirements=[],
                    fields={"firstname": "Eve"})


def test_a_create_without_an_equality_key_is_refused(world, copernica_fake):
    client, db, _ = world
    with pytest.raises(UnsafeRequestError, match="no '=' requirement"):
        client.call("Database_updateProfiles", id=db, create=True, fields={"firstname": "X"},
                    requirements=[Requirement("customer_key", "!=", "zzz")])
    assert len(copernica_fake.profiles("Customers")) == 1


def test_values_for_unknown_fields_are_refused(world):
    client, db, _ = world
    with pytest.raises(UnknownFieldError, match="lastname"):
        client.call("Database_createProfile", id=db, fields={"lastname": "X"})


def test_an_operation_whose_requirements_cannot_be_checked_is_refused(world):
    client, _, _ = world
    with pytest.raises(UnsafeRequestError, match="cannot tell whose fields"):
        client.call("View_updateProfiles", id=1, requirements={"customer_key": "ann"},
                    fields={"firstname": "Eve"})


def test_an_operation_the_wsdl_lacks_is_a_configuration_error(world):
    client, db, _ = world
    with pytest.raises(ConfigurationError, match="Database_views"):
        client.call("Database_views", id=db.id)


def test_requirement_objects_pass_through_with_their_operator(world):
    client, db, _ = world
    page = client.call("Database_searchProfiles", id=db,
                       requirements=[Requirement("age", "<", 1, unverified=True)])
    assert page["total"] == 1


def test_retries_apply(world, copernica_fake):
    client, db, _ = world
    copernica_fake.faults.schedule(["http503"], when="before")
    assert client.call("Database_retrieve", id=db)["name"] == "Customers"


def test_auth_errors_are_typed_and_redacted(world, copernica_fake):
    _, db, _ = world
    with (CopernicaClient("wrong-token-xyz", endpoint=copernica_fake.url, retry=NO_WAIT) as bad,
          pytest.raises(AuthenticationError) as err):
        bad.call("Database_retrieve", id=db.id)
    assert "wrong-token-xyz" not in str(err.value)


def test_long_text_is_cut_with_a_warning(world, copernica_fake):
    client, db, _ = world
    with pytest.warns(TruncationWarning, match="firstname"):
        client.call("Database_updateProfiles", id=db, requirements={"customer_key": "ann"},
                    fields={"firstname": "Annabel-Louise"})
    assert copernica_fake.profiles("Customers")[0]["fields"]["firstname"] == "Annabel-Lo"


@pytest.mark.copernica_fake(updateprofiles_returns_items=True)
def test_an_update_whose_answer_shows_an_ignored_requirement_stops(world, copernica_fake):
    client, db, _ = world
    client.profiles.upsert(db, key={"customer_key": "bob"}, fields={})
    client.field_names.has("database", db.id, "age")  # the check passes on this list…
    # …then another client renames the field (someone in Copernica's UI, say)
    with CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url) as other:
        other.fields.update(other.fields.get("age", database=db), name="age_years")
    with pytest.raises(SafetyError):
        client.call("Database_updateProfiles", id=db, requirements={"age": "0"},
                    fields={"firstname": "X"})
