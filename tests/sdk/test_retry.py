"""Retry policy: exact attempt counts, safe-to-repeat rules, waits."""

from __future__ import annotations

import random

import pytest
import requests
import responses

from copernica_sdk import ConnectError, ReadTimeout, ValidationError
from copernica_sdk.errors import APIError, HTTPStatusError, RateLimitError, ReadError
from copernica_sdk.retry import OPERATION_KINDS, CallKind, RetryPolicy, kind_of

from .soapbuild import ENDPOINT, envelope, fault, page_xml, profile_xml

OK_SEARCH = envelope("Database_searchProfiles", page_xml([profile_xml(1)]))


def add(rsps, body, status=200):
    rsps.add(responses.POST, ENDPOINT, body=body, status=status, content_type="text/xml")


def test_a_read_is_retried_through_timeout_and_503_then_succeeds(client, rsps, sleeps):
    add(rsps, requests.exceptions.ConnectTimeout("connect timed out"))
    add(rsps, b"", status=503)
    add(rsps, OK_SEARCH)
    assert [p.id for p in client.profiles.search(1).items] == [1]
    assert len(rsps.calls) == 3 and len(sleeps.delays) == 2


def test_a_read_stops_after_max_attempts(client, rsps, sleeps):
    for _ in range(4):
        add(rsps, requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ReadTimeout) as err:
        client.profiles.search(1)
    assert err.value.attempts == 4 and len(rsps.calls) == 4


def test_a_client_fault_is_never_retried(client, rsps, sleeps):
    add(rsps, fault("Invalid operator"), status=500)
    with pytest.raises(ValidationError) as err:
        client.profiles.search(1)
    assert err.value.attempts == 1 and sleeps.delays == []


def test_a_create_is_not_retried_after_a_read_timeout(client, rsps, sleeps):
    # The service may have created the profile already: a retry could duplicate it.
    add(rsps, requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ReadTimeout) as err:
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert err.value.attempts == 1 and len(rsps.calls) == 1


def test_a_create_is_not_retried_after_a_502(client, rsps):
    add(rsps, b"<html/>", status=502)
    with pytest.raises(HTTPStatusError):
        client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore")
    assert len(rsps.calls) == 1


def test_a_create_is_retried_when_the_request_never_left(client, rsps):
    add(rsps, requests.exceptions.ConnectTimeout("connect timed out"))
    add(rsps, envelope("Database_createProfile", profile_xml(5)))
    assert client.profiles.create(1, {"email": "a@b.nl"}, unknown_fields="ignore").id == 5
    assert len(rsps.calls) == 2


def test_a_keyed_upsert_is_retried_after_a_lost_answer(client, rsps):
    add(rsps, envelope("Database_fields",
                       page_xml(["<field><id>1</id><name>customer_key</name></field>"])))
    add(rsps, requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")))
    add(rsps, envelope("Database_updateProfiles", page_xml([profile_xml(9)])))
    profile = client.profiles.upsert(1, key={"customer_key": "k"}, fields={})
    assert profile.id == 9 and len(rsps.calls) == 3


def test_rate_limit_waits_at_least_retry_after_but_no_more_than_the_cap():
    policy = RetryPolicy(max_retry_after=30, rng=random.Random(1))
    assert policy.backoff(1, RateLimitError("x", retry_after=12)) == 12
    assert policy.backoff(1, RateLimitError("x", retry_after=3600)) == 30


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=8, rng=random.Random(3))
    for attempt, base in [(1, 0.5), (2, 1), (3, 2), (4, 4), (5, 8), (9, 8)]:
        assert base / 2 <= policy.backoff(attempt, None) <= base


@pytest.mark.parametrize(("error", "kind", "expected"), [
    (ConnectError("x"), CallKind.WRITE, True),
    (ReadError("x"), CallKind.WRITE, False),
    (ReadError("x"), CallKind.IDEMPOTENT_WRITE, True),
    (ReadTimeout("x"), CallKind.READ, True),
    (RateLimitError("x"), CallKind.WRITE, True),
    (HTTPStatusError("x", status_code=503), CallKind.WRITE, False),
    (HTTPStatusError("x", status_code=503), CallKind.READ, True),
    (HTTPStatusError("x", status_code=404), CallKind.READ, False),
    (APIError("x", retryable=True), CallKind.IDEMPOTENT_WRITE, True),
    (APIError("x", retryable=True), CallKind.WRITE, False),
    (ValidationError("x"), CallKind.READ, False),
    (ValueError("x"), CallKind.READ, False),
])
def test_retry_predicate_table(error, kind, expected):
    assert RetryPolicy().should_retry(error, kind) is expected


def test_every_create_operation_is_a_plain_write():
    assert all(kind_of(op) is CallKind.WRITE for op in ("Database_createProfile",
               "Profile_createSubProfile", "Account_createDatabase", "Database_createField"))
    assert not any("create" in op.lower() and op != "Database_createCallback"
                   for op in OPERATION_KINDS)
