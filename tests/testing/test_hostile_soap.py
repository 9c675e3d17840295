"""The SDK against a hostile SOAP endpoint: each misbehaviour ends in a clear, typed
error within bounded time, and the access token never reaches another host."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from copernica_sdk import (
    APIError,
    BearerAuth,
    CopernicaClient,
    DeadlineError,
    RedirectRefusedError,
    ResponseParseError,
    RetryPolicy,
    Timeout,
)
from copernica_sdk.testing.hostile_soap import MODES, HostileSoap

TOKEN = "hostile-test-token-7f3a9c"
#: Generous: every mode must end well within it (the deadline is 1 s, 2 attempts).
BOUND = 20.0

EXPECTED: dict[str, tuple[type[Exception], str]] = {
    "redirect": (RedirectRefusedError, "redirecting to"),
    "trickle": (DeadlineError, "deadline"),
    "slow_headers": (DeadlineError, "deadline"),
    "malformed": (ResponseParseError, "not well-formed"),
    "dtd": (ResponseParseError, "declares a DTD"),
    "entities": (ResponseParseError, "declares a DTD"),
    "fault_unknown_code": (APIError, "fault code SOAP-ENV:Bizarre"),
    "fault_empty": (APIError, "without a message"),
    "fault_html": (APIError, "Fatal error"),
    "html": (ResponseParseError, "HTML page titled 'Down for maintenance'"),
    "wrong_content_type": (ResponseParseError, "not well-formed"),
    "not_soap": (ResponseParseError, "not a SOAP envelope"),
    "empty": (ResponseParseError, "not well-formed"),
    "huge": (ResponseParseError, "larger than"),
    "huge_announced": (ResponseParseError, "larger than"),
    "trickle_announced": (DeadlineError, "deadline"),
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileSoap]:
    with HostileSoap() as server:
        yield server


def client_for(hostile: HostileSoap, **kw: object) -> CopernicaClient:
    kw.setdefault("retry", RetryPolicy(max_attempts=2, sleep=lambda _: None))
    return CopernicaClient(TOKEN, endpoint=hostile.url,  # type: ignore[arg-type]
                           timeout=Timeout(connect=2, read=5, total=1),
                           max_response_bytes=1_000_000, **kw)


def test_every_mode_has_an_expectation() -> None:
    assert set(EXPECTED) == set(MODES)


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_answer_ends_in_a_clear_typed_error_within_bounded_time(
        hostile: HostileSoap, mode: str) -> None:
    hostile.mode = mode
    error, text = EXPECTED[mode]
    started = time.monotonic()
    with client_for(hostile) as client, pytest.raises(error) as err:
        client.databases.find("Customers")
    assert time.monotonic() - started < BOUND
    assert text in str(err.value)
    assert TOKEN not in str(err.value)
    assert hostile.elsewhere.requests == []  # no redirect, no external entity was followed


def test_a_redirect_is_not_retried_and_names_both_hosts(hostile: HostileSoap) -> None:
    hostile.mode = "redirect"
    hostile.requests.clear()
    retry = RetryPolicy(max_attempts=5, sleep=lambda _: None)
    with client_for(hostile, retry=retry) as client, \
            pytest.raises(RedirectRefusedError) as err:
        client.profiles.upsert(1, key={"customer_key": "k"}, fields={},
                               unknown_fields="ignore")
    here = hostile.url.split("//")[1].rstrip("/")
    there = hostile.elsewhere.url.split("//")[1].rstrip("/")
    assert here in str(err.value) and there in str(err.value)
    assert not err.value.retryable
    assert len(hostile.requests) == 1
    assert hostile.elsewhere.requests == [] and not hostile.token_sent_elsewhere(TOKEN)


def test_the_bearer_authentication_endpoint_is_not_followed_either(hostile: HostileSoap) -> None:
    hostile.mode = "redirect"
    auth = BearerAuth(TOKEN, auth_endpoint=hostile.url)
    with CopernicaClient(auth=auth, endpoint=hostile.url, timeout=Timeout(2, 5, 1),
                         retry=RetryPolicy(max_attempts=3, sleep=lambda _: None)) as client, \
            pytest.raises(RedirectRefusedError):
        client.databases.find("Customers")
    assert hostile.elsewhere.requests == [] and not hostile.token_sent_elsewhere(TOKEN)


def test_a_trickled_answer_is_retried_by_the_policy_then_fails(hostile: HostileSoap) -> None:
    hostile.mode = "trickle"
    hostile.requests.clear()
    with client_for(hostile) as client, pytest.raises(DeadlineError) as err:
        client.databases.find("Customers")
    assert err.value.retryable and err.value.attempts == 2
    assert len(hostile.requests) == 2
