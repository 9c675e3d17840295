"""The lean per-call path: what a successful call no longer does, and what still goes
through ``requests`` because only ``requests`` can send it correctly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from copernica_sdk import CopernicaClient, ResponseParseError
from copernica_sdk import deadline as _deadline
from copernica_sdk.retry import NO_RETRY, RetryPolicy
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.hostile_soap import HostileSoap

from .call_counting import counting

CALLS = 12


@pytest.fixture
def database(copernica_fake: FakeCopernica) -> Iterator[tuple[CopernicaClient, Any]]:
    with CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url) as client:
        db = client.databases.create("HotPath")
        client.fields.create("customer_key", database=db, index=True)
        client.fields.create("city", database=db)
        yield client, db


def upserts(client: CopernicaClient, db: Any, n: int = CALLS) -> None:
    for i in range(n):
        client.profiles.upsert(db, key={"customer_key": f"k{i}"}, fields={"city": f"c{i}"})


def test_a_client_of_its_own_session_skips_requests_preparation_per_call(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)  # field names cached
    prepared = counting(monkeypatch, requests.Session, "prepare_request")
    sent = counting(monkeypatch, requests.adapters.HTTPAdapter, "build_response")
    upserts(client, db)
    assert prepared == [] and sent == []


def test_a_successful_call_builds_no_retry_controller(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)
    built = counting(monkeypatch, RetryPolicy, "retrying")
    upserts(client, db)
    assert built == []


def test_one_watchdog_entry_covers_a_whole_call(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)
    scheduled = counting(monkeypatch, _deadline._WATCHDOG, "schedule")
    upserts(client, db)
    assert len(scheduled) == CALLS


def test_a_retried_call_still_counts_every_attempt_from_the_first(
        copernica_fake: FakeCopernica) -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=3, sleep=sleeps.append)
    with CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url, retry=retry) as c:
        copernica_fake.faults.schedule(["http503", "http503"], when="before")
        assert c.databases.find("Nope") is None
    assert len(sleeps) == 2 and copernica_fake.calls["Account_database"] == 3


def test_writes_ask_for_an_uncompressed_answer_and_reads_for_gzip() -> None:
    with HostileSoap("malformed") as hostile:
        with CopernicaClient("token", endpoint=hostile.url, retry=NO_RETRY) as client:
            with pytest.raises(ResponseParseError):
                client.profiles.remove(7)
            with pytest.raises(ResponseParseError):
                client.databases.find("Customers")
        write, read = hostile.requests[-2:]
    assert write.headers["Accept-Encoding"] == "identity"
    assert "gzip" in read.headers["Accept-Encoding"]


def test_cookies_a_session_holds_are_still_sent() -> None:
    with HostileSoap("malformed") as hostile:
        with CopernicaClient("token", endpoint=hostile.url, retry=NO_RETRY) as client:
            client._session.cookies.set("sticky", "node-2")
            with pytest.raises(ResponseParseError):
                client.profiles.remove(7)
        assert hostile.requests[-1].headers.get("Cookie") == "sticky=node-2"


def test_an_adapter_mounted_later_still_sees_every_call() -> None:
    seen: list[str] = []

    class Watching(_deadline.DeadlineAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(request.url)
            return super().send(request, *args, **kwargs)

    with HostileSoap("malformed") as hostile:
        with CopernicaClient("token", endpoint=hostile.url, retry=NO_RETRY) as client:
            client._session.mount("http://", Watching())
            with pytest.raises(ResponseParseError):
                client.profiles.remove(7)
        assert seen == [hostile.url]
