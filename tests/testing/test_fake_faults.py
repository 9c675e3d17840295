"""Fault injection, latency and call counters."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from copernica_sdk.testing.fake_copernica import FAULT_KINDS, FakeCopernica

CLIENT_TIMEOUT = 0.15


@pytest.fixture
def shop(kit: Any, fake: FakeCopernica) -> int:
    fake.faults.timeout_seconds = 0.3
    return int(kit.seed_shop())


def _create_profile(kit: Any, db: int) -> str:
    """One raw Database_createProfile; returns what the client observed."""
    body = kit.envelope(
        "Database_createProfile",
        f"<id>{db}</id><fields><pair><key>customer_id</key><value>c1</value></pair></fields>"
        f"<access_token>{kit.fake.token}</access_token>",
    )
    try:
        response = kit.post(body, timeout=CLIENT_TIMEOUT)
        response.content  # noqa: B018 - read the whole body
    except requests.exceptions.Timeout:
        return "timeout"
    except requests.exceptions.ConnectionError:
        return "reset"
    except requests.exceptions.ChunkedEncodingError:
        return "truncated"
    if response.status_code == 500 and b"SOAP-ENV:Fault" in response.content:
        return "fault:" + kit.fault_of(response)[1]
    return str(response.status_code)


EXPECTED = {
    "http500": "500",
    "http502": "502",
    "http503": "503",
    "http429": "429",
    "reset": "reset",
    "timeout": "timeout",
    "truncated": "truncated",
    "fault": "fault:Internal server error, please try again",
}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_before_the_operation_leaves_state_unchanged(
    kit: Any, fake: FakeCopernica, shop: int, kind: str
) -> None:
    fake.faults.schedule([kind], when="before")
    assert _create_profile(kit, shop) == EXPECTED[kind]
    assert fake.profiles("Shop") == []
    assert fake.faults.injected == {kind: 1}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_fault_after_the_operation_keeps_the_change_but_loses_the_response(
    kit: Any, fake: FakeCopernica, shop: int, kind: str
) -> None:
    fake.faults.schedule([kind], when="after")
    assert _create_profile(kit, shop) == EXPECTED[kind]
    assert len(fake.profiles("Shop")) == 1


def test_http429_carries_retry_after(kit: Any, fake: FakeCopernica, shop: int) -> None:
    fake.faults.schedule(["http429"])
    response = kit.raw("Account_databases", "")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"


def test_http500_has_an_html_body_and_503_an_empty_one(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.schedule(["http500", "http503"])
    first, second = kit.raw("Account_databases", ""), kit.raw("Account_databases", "")
    assert first.headers["Content-Type"].startswith("text/html") and b"<html>" in first.content
    assert second.status_code == 503 and second.content == b""


def test_soap_fault_kind_is_a_server_fault(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.schedule(["fault"])
    assert kit.fault_of(kit.raw("Account_databases", ""))[0] == "SOAP-ENV:Server"


def test_schedule_applies_one_entry_per_call_in_order(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.schedule(["http503", None, "http502"])
    statuses = [kit.raw("Account_databases", "").status_code for _ in range(4)]
    assert statuses == [503, 200, 502, 200]
    assert fake.faults.pending == 0


def test_schedule_accepts_explicit_when_per_entry(kit: Any, fake: FakeCopernica, shop: int) -> None:
    fake.faults.schedule([("http503", "after"), ("http503", "before")])
    _create_profile(kit, shop)
    _create_profile(kit, shop)
    assert len(fake.profiles("Shop")) == 1
    assert [i.when for i in fake.faults.history] == ["after", "before"]


def _history(seed: int, calls: int = 40) -> list[tuple[str, str]]:
    with FakeCopernica() as fake, requests.Session() as session:
        fake.faults.set_rate(0.5, kinds=["http500", "http503", "fault"], seed=seed)
        for _ in range(calls):
            session.post(fake.url, data=b"<x/>", timeout=5)
        return [(i.kind, i.when) for i in fake.faults.history]


def test_rate_is_deterministic_for_a_seed() -> None:
    assert _history(7) == _history(7)


def test_different_seeds_give_different_fault_sequences() -> None:
    assert _history(7) != _history(8)


def test_rate_fails_about_that_fraction_with_a_mix_of_kinds_and_whens() -> None:
    history = _history(3, calls=100)
    assert 30 <= len(history) <= 70
    assert {kind for kind, _ in history} == {"http500", "http503", "fault"}
    assert {when for _, when in history} == {"before", "after"}


def test_rate_limited_to_given_kinds(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.set_rate(1.0, kinds=["http503"])
    assert {kit.raw("Account_databases", "").status_code for _ in range(5)} == {503}


def test_clear_stops_injecting(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.set_rate(1.0, kinds=["http503"])
    fake.faults.schedule(["http502"])
    fake.faults.clear()
    assert kit.raw("Account_databases", "").status_code == 200


def test_wsdl_is_never_faulted(kit: Any, fake: FakeCopernica) -> None:
    fake.faults.set_rate(1.0, kinds=["reset"])
    assert kit.session.get(fake.wsdl_url).status_code == 200
    assert fake.faults.injected == {}


def test_unknown_fault_kind_is_rejected(fake: FakeCopernica) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.faults.schedule(["http418"])


def test_server_keeps_serving_after_a_reset(kit: Any, fake: FakeCopernica, shop: int) -> None:
    fake.faults.schedule(["reset"])
    assert _create_profile(kit, shop) == "reset"
    assert kit.raw("Account_databases", "").status_code == 200


# ---------------------------------------------------------------------- latency


def _timed_call(fake: FakeCopernica) -> float:
    body = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        b'<ns:Account_databases xmlns:ns="http://soap.copernica.com/pom"><parameters><access_token>'
        + fake.token.encode()
        + b"</access_token></parameters></ns:Account_databases></e:Body></e:Envelope>"
    )
    started = time.perf_counter()
    assert requests.post(fake.url, data=body, timeout=5).status_code == 200
    return time.perf_counter() - started


def test_latency_is_added_to_soap_calls(fake: FakeCopernica) -> None:
    fake.latency = 0.1
    assert _timed_call(fake) >= 0.1


def test_latency_can_be_drawn_from_a_seeded_rng(fake: FakeCopernica) -> None:
    draws: list[float] = []

    def latency(rng: Any) -> float:
        draws.append(rng.random())
        return 0.05

    fake.latency = latency
    assert _timed_call(fake) >= 0.05
    assert len(draws) == 1


def test_latency_counts_from_the_request_s_arrival(fake: FakeCopernica) -> None:
    def slow_to_decide(rng: Any) -> float:
        time.sleep(0.3)  # work the fake does after the request arrived, before the hold
        return 0.4

    fake.latency = slow_to_decide
    elapsed = _timed_call(fake)
    assert 0.4 <= elapsed < 0.65  # 0.7 if the hold started after that work


def test_latency_overlaps_for_concurrent_calls(fake: FakeCopernica) -> None:
    fake.latency = 0.2
    threads = [threading.Thread(target=_timed_call, args=(fake,)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.perf_counter() - started < 0.75  # sequential would take 0.8 s


def test_latency_does_not_apply_to_the_wsdl(fake: FakeCopernica) -> None:
    fake.latency = 1.0
    started = time.perf_counter()
    requests.get(fake.wsdl_url, timeout=5)
    assert time.perf_counter() - started < 0.9


# --------------------------------------------------------------------- counters


def test_calls_count_requests_per_operation(kit: Any, fake: FakeCopernica) -> None:
    kit.raw("Account_databases", "")
    kit.raw("Account_databases", "")
    kit.raw("Account_database", "<identifier>x</identifier>")
    assert dict(fake.calls) == {"Account_databases": 2, "Account_database": 1}


def test_calls_snapshot_is_read_only(fake: FakeCopernica) -> None:
    with pytest.raises(TypeError):
        fake.calls["Account_databases"] = 1  # type: ignore[index]


def test_write_calls_counts_only_mutating_operations(
    kit: Any, fake: FakeCopernica, shop: int
) -> None:
    fake.reset_calls()
    _create_profile(kit, shop)
    kit.raw("Database_searchProfiles", f"<id>{shop}</id><requirements/>")
    kit.raw("Database_unsubscribeValues", f"<id>{shop}</id>")
    kit.raw("Database_setUnsubscribeValues", f"<id>{shop}</id><fields/>")
    assert fake.write_calls() == 2


def test_reset_calls_zeroes_the_counters(kit: Any, fake: FakeCopernica) -> None:
    kit.raw("Account_databases", "")
    fake.reset_calls()
    assert dict(fake.calls) == {}
