"""The hot path drives the pool's connections through ``http.client`` directly
(``deadline._exchange``): urllib3 still connects, does TLS and keeps the pool, but
builds no ``HTTPResponse`` for a plain answer and validates a set of request
headers once, not per call.  Everything a caller can see stays as it was."""

from __future__ import annotations

import http.client
import io
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from copernica_sdk import CopernicaClient, ReadError
from copernica_sdk import deadline as _deadline
from copernica_sdk.retry import NO_RETRY
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.hostile_soap import HostileSoap

from .call_counting import counting

CALLS = 12


@pytest.fixture
def database(copernica_fake: FakeCopernica) -> Iterator[tuple[CopernicaClient, Any]]:
    with CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url,
                         retry=NO_RETRY) as client:
        db = client.databases.create("Direct")
        client.fields.create("customer_key", database=db, index=True)
        client.fields.create("city", database=db)
        yield client, db


def upserts(client: CopernicaClient, db: Any, n: int = CALLS, start: int = 0) -> list[int]:
    return [client.profiles.upsert(db, key={"customer_key": f"k{i}"},
                                   fields={"city": f"c{i}"}).id for i in range(start, start + n)]


def test_a_plain_answer_is_read_without_building_a_urllib3_response(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)
    built = counting(monkeypatch, urllib3.HTTPResponse, "__init__")
    assert len(set(upserts(client, db))) == CALLS
    assert built == []


def test_request_headers_are_validated_once_per_header_set_not_per_call(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)
    validated = counting(monkeypatch, urllib3.connection.HTTPConnection, "putheader")
    upserts(client, db)
    assert validated == []


def test_a_compressed_answer_is_still_read_and_decoded_by_urllib3(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = database  # the fake gzips the answers to reads (they ask for gzip)
    built = counting(monkeypatch, urllib3.HTTPResponse, "__init__")
    assert [d.name for d in client.databases.list()] == ["Direct"]
    assert len(built) == 1


def test_the_direct_path_sends_the_headers_requests_sends() -> None:
    seen: list[str] = []

    class Watching(_deadline.DeadlineAdapter):  # a mounted adapter: requests sends the call
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(request.url)
            return super().send(request, *args, **kwargs)

    with HostileSoap("fault_empty") as hostile:
        with CopernicaClient("token", endpoint=hostile.url, retry=NO_RETRY) as client:
            for _ in range(2):
                with pytest.raises(Exception, match="without a message"):
                    client.profiles.remove(7)
            client._session.mount("http://", Watching())
            with pytest.raises(Exception, match="without a message"):
                client.profiles.remove(7)
        direct, again, through_requests = hostile.requests[-3:]
        url = hostile.url
    assert seen == [url]
    assert sorted(direct.headers.items()) == sorted(through_requests.headers.items())
    assert list(again.headers.items()) == list(direct.headers.items())  # order too
    assert direct.body == through_requests.body


def test_a_truncated_plain_answer_is_a_read_error_and_the_next_call_reconnects(
        copernica_fake: FakeCopernica, database: tuple[CopernicaClient, Any]) -> None:
    client, db = database
    upserts(client, db, 1)
    copernica_fake.faults.schedule([("truncated", "after")])
    with pytest.raises(ReadError, match="broken response"):
        upserts(client, db, 1, start=1)
    assert len(upserts(client, db, 3, start=2)) == 3


def test_sequential_calls_keep_one_connection_alive(
        copernica_fake: FakeCopernica, database: tuple[CopernicaClient, Any]) -> None:
    client, db = database
    upserts(client, db, 1)
    copernica_fake.reset_connections()
    upserts(client, db)
    assert copernica_fake.connections_opened == 0


def test_a_connection_the_server_closed_is_replaced_not_reported(
        copernica_fake: FakeCopernica, database: tuple[CopernicaClient, Any]) -> None:
    client, db = database
    upserts(client, db, 1)
    copernica_fake.faults.schedule([("truncated", "after")])  # answers "Connection: close"
    with pytest.raises(ReadError):
        upserts(client, db, 1, start=1)
    copernica_fake.reset_connections()
    upserts(client, db, 2, start=5)
    assert copernica_fake.connections_opened == 1


def test_answer_headers_read_as_urllib3_would_show_them() -> None:
    raw = (b"Content-Type: text/xml\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n"
           b"X-Folded: one\r\n two\r\nRetry-After: 3\r\n\r\n")
    message = http.client.parse_headers(io.BytesIO(raw))
    ours = _deadline._Headers(message)
    theirs = urllib3.HTTPHeaderDict(urllib3.connection._normalize_header_values(
        http.client.parse_headers(io.BytesIO(raw))))
    for name in ("content-type", "SET-COOKIE", "X-Folded", "Retry-After", "Location"):
        assert ours.get(name) == theirs.get(name), name
    assert len(ours) == len(theirs)
    assert sorted(n.lower() for n in ours) == sorted(n.lower() for n in theirs)


def test_headers_that_set_the_framing_are_sent_through_urlopen_as_before(
        database: tuple[CopernicaClient, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = database
    upserts(client, db, 1)
    direct = client._conn._direct
    assert direct is not None
    body = b"<not-soap/>"
    opened = counting(monkeypatch, type(direct._pool), "urlopen")
    answer = direct.post(direct._adapter, True, body,  # type: ignore[arg-type]
                         {"Content-Type": "text/xml", "Content-Length": str(len(body))},
                         deadline=5, timeout=(2, 5))
    assert len(opened) == 1 and answer.status_code >= 400
