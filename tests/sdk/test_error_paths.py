"""How each kind of bad answer surfaces: one typed error, the right retry flag, no token."""

from __future__ import annotations

import socket

import pytest
import requests
import responses

from copernica_sdk import (
    APIError,
    AuthenticationError,
    ConnectError,
    CopernicaClient,
    HTTPStatusError,
    NotFoundError,
    RateLimitError,
    ReadError,
    ReadTimeout,
    ResponseParseError,
    RetryPolicy,
    ValidationError,
)

from .soapbuild import ENDPOINT, envelope, fault, page_xml, profile_xml


def add(rsps: responses.RequestsMock, body: bytes | Exception, status: int = 200,
        **kw: object) -> None:
    rsps.add(responses.POST, ENDPOINT, body=body, status=status, **kw)  # type: ignore[arg-type]


def test_a_soap_fault_about_the_token_is_an_authentication_error(client, rsps):
    add(rsps, fault("Invalid access token"), status=500, content_type="text/xml")
    with pytest.raises(AuthenticationError) as err:
        client.databases.find("Customers")
    assert err.value.operation == "Account_database"
    assert err.value.retryable is False


def test_not_logged_on_is_an_authentication_error(client, rsps):
    add(rsps, fault("Not logged on"), status=500, content_type="text/xml")
    with pytest.raises(AuthenticationError):
        client.databases.find("Customers")


def test_a_missing_object_fault_is_not_found(client, rsps):
    add(rsps, fault("No profile with id 42"), status=500, content_type="text/xml")
    with pytest.raises(NotFoundError, match="No profile with id 42"):
        client.profiles.get(42)


def test_an_invalid_parameter_fault_is_a_validation_error(client, rsps):
    add(rsps, fault("Invalid operator"), status=500, content_type="text/xml")
    with pytest.raises(ValidationError) as err:
        client.profiles.search(1, {"email": "a@b.nl"})
    assert err.value.fault_code == "SOAP-ENV:Client"


def test_a_server_fault_is_a_retryable_api_error(client, rsps, sleeps):
    for _ in range(4):
        add(rsps, fault("Internal server error", code="SOAP-ENV:Server"), status=500,
            content_type="text/xml")
    with pytest.raises(APIError) as err:
        client.profiles.search(1)
    assert type(err.value) is APIError and err.value.retryable
    assert err.value.attempts == 4


def test_a_429_with_retry_after_is_a_rate_limit_error_carrying_the_delay(client, rsps, sleeps):
    for _ in range(4):
        add(rsps, b"Too Many Requests", status=429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimitError) as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.retry_after == 7.0
    assert sleeps.delays and all(d >= 7.0 for d in sleeps.delays)


def test_a_429_without_body_or_header_is_still_a_rate_limit_error(client, rsps):
    for _ in range(4):
        add(rsps, b"", status=429)
    with pytest.raises(RateLimitError) as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.retry_after is None


def test_a_503_with_an_empty_body_is_an_http_status_error(client, rsps):
    for _ in range(4):
        add(rsps, b"", status=503)
    with pytest.raises(HTTPStatusError) as err:
        client.profiles.search(1)
    assert err.value.status_code == 503 and err.value.retryable


def test_a_502_page_that_is_well_formed_xml_is_not_mistaken_for_a_fault(client, rsps):
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    add(rsps, page, status=502, content_type="text/html")
    with pytest.raises(HTTPStatusError) as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.status_code == 502
    assert "502 Bad Gateway" in err.value.body_excerpt


def test_malformed_xml_is_a_response_parse_error(client, rsps):
    add(rsps, b"<SOAP-ENV:Envelope><unclosed>", content_type="text/xml")
    with pytest.raises(ResponseParseError, match="not well-formed"):
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")


def test_a_non_soap_200_answer_is_a_response_parse_error(client, rsps):
    add(rsps, b"<html><body>maintenance</body></html>", content_type="text/html")
    with pytest.raises(ResponseParseError, match="HTML page instead of SOAP"):
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")


def test_a_billion_laughs_response_is_refused_without_expanding_it(client, rsps):
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<x><result><value>&lol3;</value></result></x></SOAP-ENV:Body></SOAP-ENV:Envelope>"""
    add(rsps, bomb, content_type="text/xml")
    with pytest.raises(ResponseParseError, match="DTD"):
        client.profiles.update_fields(1, {"a": "b"})


def test_an_xxe_response_is_refused_and_the_file_is_never_read(client, rsps):
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<x><result><value>&xxe;</value></result></x></SOAP-ENV:Body></SOAP-ENV:Envelope>"""
    add(rsps, xxe, content_type="text/xml")
    with pytest.raises(ResponseParseError) as err:
        client.profiles.update_fields(1, {"a": "b"})
    assert "root:" not in str(err.value)


def test_a_read_timeout_is_a_read_timeout_that_says_the_call_may_have_run(client, rsps):
    add(rsps, requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(ReadTimeout, match="may have been processed") as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.request_sent


def test_a_refused_connection_is_a_connect_error_that_never_left():
    with socket.socket() as s:  # a port that was just free is (almost surely) closed now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = CopernicaClient("t", endpoint=f"http://127.0.0.1:{port}/",
                             retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(ConnectError) as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.request_sent is False


def test_a_connection_reset_after_sending_is_a_read_error(client, rsps):
    add(rsps, requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")))
    with pytest.raises(ReadError):
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")


def test_an_empty_result_page_is_an_empty_page(client, rsps):
    add(rsps, envelope("Database_searchProfiles", "<start>0</start><length>0</length>"
                       "<total>0</total><items/>"), content_type="text/xml")
    page = client.profiles.search(1)
    assert page.items == () and page.total == 0 and not page.has_more


def test_a_page_without_items_element_is_an_empty_page(client, rsps):
    add(rsps, envelope("Database_searchProfiles", "<start>0</start><length>0</length>"
                       "<total>0</total>"), content_type="text/xml")
    assert list(client.profiles.list(1)) == []


def test_a_one_item_page_is_a_list_of_one(client, rsps):
    add(rsps, envelope("Database_searchProfiles", page_xml([profile_xml(7, {"e": "x"})])),
        content_type="text/xml")
    profiles = list(client.profiles.list(1))
    assert [p.id for p in profiles] == [7]
    assert profiles[0].fields == {"e": "x"}


def test_the_token_never_appears_in_an_error_message(client, rsps):
    add(rsps, fault("Invalid access token secret-token-123"), status=500,
        content_type="text/xml")
    with pytest.raises(AuthenticationError) as err:
        client.databases.find("x")
    assert "secret-token-123" not in str(err.value)
    assert "REDACTED" in str(err.value)
