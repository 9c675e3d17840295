"""Hostile or unusual requests get a SOAP fault (or work), never a traceback or a hang."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
import zeep

from copernica_sdk.testing.fake_copernica import FakeCopernica

ACTION = "http://soap.copernica.com/pom#Account_databases"


def test_malformed_xml_is_a_client_fault_bad_request(kit: Any) -> None:
    response = kit.post(b"<SOAP-ENV:Envelope><unclosed>")
    assert response.status_code == 500
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Bad Request")


def test_body_that_is_not_an_envelope_is_bad_request(kit: Any) -> None:
    response = kit.post(b"<html><body>hi</body></html>")
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Bad Request")


def test_empty_body_is_bad_request(kit: Any) -> None:
    assert kit.fault_of(kit.post(b"")) == ("SOAP-ENV:Client", "Bad Request")


def test_entity_expansion_is_not_performed(kit: Any) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + kit.envelope("Account_database", "<identifier>&b;</identifier>").split(b"?>", 1)[1]
    )
    response = kit.post(body)
    assert response.status_code in (200, 500)
    assert b"aaaaaaaaaa" not in response.content


def test_unknown_operation_is_procedure_not_present(kit: Any) -> None:
    response = kit.raw("Account_explode", "")
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Procedure 'Account_explode' not present")


def test_missing_required_parameter_is_named(kit: Any) -> None:
    response = kit.raw("Database_retrieve", "")
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Missing parameter 'id'")


def test_missing_nested_required_member_is_named(kit: Any) -> None:
    db = kit.seed_shop()
    response = kit.raw(
        "Database_searchProfiles",
        f"<id>{db}</id><requirements><requirement><value>x</value></requirement></requirements>",
    )
    assert kit.fault_of(response) == (
        "SOAP-ENV:Client",
        "Missing parameter 'requirements.requirement.fieldname'",
    )


def test_non_integer_for_int_parameter_is_named(kit: Any) -> None:
    response = kit.raw("Database_retrieve", "<id>seven</id>")
    assert kit.fault_of(response) == (
        "SOAP-ENV:Client",
        "Invalid value 'seven' for parameter 'id' (expected int)",
    )


def test_out_of_range_int_is_rejected(kit: Any) -> None:
    response = kit.raw("Database_retrieve", "<id>99999999999</id>")
    assert "parameter 'id'" in kit.fault_of(response)[1]


def test_non_boolean_for_boolean_parameter_is_named(kit: Any) -> None:
    response = kit.raw("Account_databases", "<allproperties>yes</allproperties>")
    assert kit.fault_of(response) == (
        "SOAP-ENV:Client",
        "Invalid value 'yes' for parameter 'allproperties' (expected boolean)",
    )


def test_boolean_accepts_one_and_zero(kit: Any) -> None:
    assert kit.raw("Account_databases", "<allproperties>1</allproperties>").status_code == 200
    assert kit.raw("Account_databases", "<allproperties>0</allproperties>").status_code == 200


@pytest.mark.copernica_fake(max_body_bytes=2000)
def test_oversized_body_is_413_with_client_fault(kit: Any) -> None:
    response = kit.post(b"<x>" + b"a" * 5000 + b"</x>")
    assert response.status_code == 413
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Request entity too large")


def test_gzip_bomb_is_413_after_inflating(kit: Any, fake: FakeCopernica) -> None:
    fake.max_body_bytes = 10_000
    body = gzip.compress(b"<x>" + b" " * 100_000 + b"</x>")
    response = kit.post(body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_connection_is_reusable_after_a_413(kit: Any, fake: FakeCopernica) -> None:
    fake.max_body_bytes = 1000
    assert kit.post(b"a" * 5000).status_code == 413
    assert kit.raw("Account_databases", "").status_code == 200


def test_gzip_request_body_is_accepted(kit: Any) -> None:
    body = gzip.compress(
        kit.envelope("Account_databases", f"<access_token>{kit.fake.token}</access_token>")
    )
    response = kit.post(body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert kit.result_of(response).findtext("total") == "0"


def test_corrupt_gzip_body_is_bad_request(kit: Any) -> None:
    response = kit.post(b"\x1f\x8b\x08garbage", headers={"Content-Encoding": "gzip"})
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Bad Request")


def test_response_is_gzipped_when_accepted(kit: Any) -> None:
    response = kit.raw("Account_databases", "", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert kit.result_of(response).findtext("total") == "0"


def test_response_is_plain_without_accept_encoding(kit: Any) -> None:
    response = kit.raw("Account_databases", "", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers


def test_application_soap_xml_content_type_is_accepted(kit: Any) -> None:
    response = kit.raw("Account_databases", "", content_type="application/soap+xml;charset=UTF-8")
    assert response.status_code == 200


@pytest.mark.parametrize("action", [f'"{ACTION}"', ACTION, "Account_databases", '""'])
def test_soap_action_with_or_without_quotes_is_accepted(kit: Any, action: str) -> None:
    assert kit.raw("Account_databases", "", action=action).status_code == 200


def test_mismatched_soap_action_is_a_client_fault(kit: Any) -> None:
    response = kit.raw(
        "Account_databases", "", action='"http://soap.copernica.com/pom#Profile_remove"'
    )
    assert kit.fault_of(response) == (
        "SOAP-ENV:Client",
        "SOAPAction 'Profile_remove' does not match operation 'Account_databases'",
    )


def test_qualified_parameter_children_are_matched_by_local_name(kit: Any) -> None:
    db = kit.seed_shop()
    body = kit.envelope(
        "Database_retrieve",
        f"<id>{db}</id><access_token>{kit.fake.token}</access_token>",
        qualified=True,
    )
    response = kit.post(body)
    assert response.status_code == 200
    assert kit.result_of(response).findtext("database/name") == "Shop"


def test_unknown_parameters_are_ignored(kit: Any) -> None:
    assert kit.raw("Account_databases", "<bogus>1</bogus>").status_code == 200


def test_get_of_unknown_path_is_404(kit: Any, fake: FakeCopernica) -> None:
    assert kit.session.get(fake.url + "nothing").status_code == 404


def test_put_is_method_not_allowed(kit: Any, fake: FakeCopernica) -> None:
    assert kit.session.put(fake.url, data=b"x").status_code == 405


def test_zeep_refuses_to_send_a_request_missing_a_required_member(kit: Any) -> None:
    # The WSDL marks required members minOccurs=1, so zeep validates before sending.
    with pytest.raises(zeep.exceptions.ValidationError):
        kit.call("Database_retrieve")
