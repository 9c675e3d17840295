"""Upsert safety: a call that could update every profile never leaves the client."""

from __future__ import annotations

import pytest
import responses

from copernica_sdk import CopernicaError, InvalidRequirementError, UnsafeRequestError
from copernica_sdk.models import Requirement

from .soapbuild import ENDPOINT, envelope, fields_page, page_xml, profile_xml


def add(rsps, body):
    rsps.add(responses.POST, ENDPOINT, body=body, content_type="text/xml")


def test_a_requirement_on_an_unknown_field_is_refused_before_any_write(client, rsps):
    add(rsps, envelope("Database_fields", fields_page(["email"])))
    with pytest.raises(UnsafeRequestError, match="no field 'emial'"):
        client.profiles.upsert(1, key={"emial": "a@b.nl"}, fields={"name": "A"})
    sent = [c.request.headers["SOAPAction"] for c in rsps.calls]
    assert all("updateProfiles" not in s for s in sent)


def test_an_empty_key_is_refused_without_any_request(client, rsps):
    with pytest.raises(UnsafeRequestError, match="without requirements"):
        client.profiles.upsert(1, key={}, fields={"name": "A"})
    assert len(rsps.calls) == 0


def test_a_key_with_an_empty_value_is_refused(client, rsps):
    with pytest.raises(UnsafeRequestError, match="is empty"):
        client.profiles.upsert(1, key={"email": ""}, fields={"name": "A"})
    assert len(rsps.calls) == 0


def test_bulk_update_with_no_requirements_is_refused(client, rsps):
    with pytest.raises(UnsafeRequestError):
        client.profiles.update_many(1, [], {"name": "A"})
    assert len(rsps.calls) == 0


def test_subprofile_upsert_checks_the_collection_fields(client, rsps):
    add(rsps, envelope("Collection_fields", fields_page(["order_id"])))
    with pytest.raises(UnsafeRequestError, match="collection 5 has no field 'orderid'"):
        client.subprofiles.upsert(3, 5, key={"orderid": "1"}, fields={})


def test_field_names_are_cached_per_database(client, rsps):
    add(rsps, envelope("Database_fields", fields_page(["email"])))
    for pid in (1, 2):
        add(rsps, envelope("Database_updateProfiles", page_xml([profile_xml(pid)])))
    client.profiles.upsert(1, key={"email": "a@b.nl"}, fields={})
    client.profiles.upsert(1, key={"EMAIL": "b@b.nl"}, fields={})  # names are case-insensitive
    assert len(rsps.calls) == 3


def test_a_field_created_after_the_cache_was_filled_is_found_on_reload(client, rsps):
    add(rsps, envelope("Database_fields", fields_page(["email"])))
    add(rsps, envelope("Database_updateProfiles", page_xml([profile_xml(1)])))
    add(rsps, envelope("Database_fields", fields_page(["email", "customer_key"])))
    add(rsps, envelope("Database_updateProfiles", page_xml([profile_xml(2)])))
    client.profiles.upsert(1, key={"email": "a@b.nl"}, fields={})
    assert client.profiles.upsert(1, key={"customer_key": "k"}, fields={}).id == 2


def test_unknown_operators_are_refused_inside_the_copernica_error_tree(client, rsps):
    with pytest.raises(InvalidRequirementError, match="operator 'LIKE'") as err:
        client.profiles.search(1, [Requirement("age", "LIKE", "3")])  # type: ignore[arg-type]
    assert isinstance(err.value, CopernicaError) and not rsps.calls


def test_upsert_sends_the_key_fields_as_values_too(client, rsps):
    add(rsps, envelope("Database_fields", fields_page(["customer_key", "name"])))
    add(rsps, envelope("Database_updateProfiles", page_xml([profile_xml(1)])))
    client.profiles.upsert(1, key={"customer_key": "k1"}, fields={"name": "A"})
    body = rsps.calls[1].request.body.decode()
    assert "<create>true</create>" in body
    assert "<key>customer_key</key><value>k1</value>" in body
    assert "<casesensitive>true</casesensitive>" in body


def test_upsert_falls_back_to_a_search_when_the_service_returns_no_items(client, rsps):
    add(rsps, envelope("Database_fields", fields_page(["customer_key"])))
    add(rsps, envelope("Database_updateProfiles", page_xml([])))
    add(rsps, envelope("Database_searchProfiles", page_xml([profile_xml(44)])))
    assert client.profiles.upsert(1, key={"customer_key": "k1"}, fields={}).id == 44
