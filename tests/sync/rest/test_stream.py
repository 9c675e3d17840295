"""RestStream: a described stream read through the framework's blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from werkzeug.wrappers import Request

from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync import (
    Connector,
    HeaderLinkPaginator,
    Rejected,
    RestClient,
    RestStream,
    SourceError,
    Stream,
)
from copernica_sdk.testing.http_server import LoopbackServer

MEMBERS = [
    {"id": 1, "updated_at": "2024-05-01T12:00:00+02:00"},    # 10:00 UTC
    {"id": 2, "updated_at": "2024-05-01T10:30:00Z"},
    {"id": 3, "updated_at": "2024-05-01 11:00:00"},           # naive: UTC
    {"id": 4, "updated_at": "2024-05-01T07:00:00-05:00"},     # 12:00 UTC
    {"id": 5, "updated_at": "2024-04-01T00:00:00Z"},          # before the start
]


class Members(RestStream):
    name = "members"
    primary_key = "id"
    replication_key = "updated_at"
    path = "v1/members"
    params: ClassVar[dict[str, str]] = {"fields": "all"}
    records_path = "data.members"
    paginator = HeaderLinkPaginator()
    incremental_param = "updated_since"
    until_param = "updated_before"
    incremental_format = "iso_z"


class Api(Connector):
    name = "api_test"

    def __init__(self, url: str) -> None:
        super().__init__({})
        self.client = RestClient(url, retry=RetryPolicy(max_attempts=1))

    def check(self) -> None:
        self.client.get("v1/ping")

    def streams(self) -> Sequence[Stream]:
        return [Members(self)]


def serve(request: Request) -> Any:
    page = int(request.args.get("page", 1))
    chunk = MEMBERS[(page - 1) * 2: page * 2]
    headers = {"Link": f'<{request.base_url}?page={page + 1}>; rel="next"'} \
        if page * 2 < len(MEMBERS) else {}
    return {"data": {"members": chunk}}, 200, headers


def test_the_window_is_sent_in_the_apis_format_and_timestamps_come_back_in_utc() -> None:
    with LoopbackServer(serve) as server:
        stream = Members(Api(server.url))
        records = [r for page in stream.read("2024-05-01T01:00:00+01:00", "2024-06-01T00:00:00")
                   for r in page]
        first = server.requests[0].args
    assert first["updated_since"] == "2024-05-01T00:00:00Z"
    assert first["updated_before"] == "2024-06-01T00:00:00Z"
    assert first["fields"] == "all"
    assert [(r["id"], r["updated_at"]) for r in records if isinstance(r, dict)] == [
        (1, "2024-05-01T10:00:00"), (2, "2024-05-01T10:30:00"),
        (3, "2024-05-01T11:00:00"), (4, "2024-05-01T12:00:00")]


def test_records_before_the_start_are_dropped_when_the_api_ignores_the_filter(
        caplog: pytest.LogCaptureFixture) -> None:
    with LoopbackServer(serve) as server:
        ids = [r["id"] for page in Members(Api(server.url)).read("2024-05-01T00:00:00", "2030-01-01")
               for r in page if isinstance(r, dict)]
    assert 5 not in ids and len(ids) == 4
    assert "seems to ignore that filter" in caplog.text and "updated_since" in caplog.text


def test_a_first_read_sends_no_start_and_reads_everything() -> None:
    with LoopbackServer(serve) as server:
        ids = [r["id"] for page in Members(Api(server.url)).read(None, "2030-01-01T00:00:00")
               for r in page if isinstance(r, dict)]
        assert "updated_since" not in server.requests[0].args
    assert ids == [1, 2, 3, 4, 5]


def test_an_answer_without_records_at_the_selector_names_the_path_and_the_request() -> None:
    with LoopbackServer(lambda r: {"data": {"other": []}}) as server, pytest.raises(SourceError) as info:
        list(Members(Api(server.url)).read(None, "2030-01-01T00:00:00"))
    assert "data.members" in str(info.value) and "/v1/members" in str(info.value)


def test_a_record_too_deep_to_decode_is_rejected_and_the_rest_sync() -> None:
    deep = "[" * 5000 + "]" * 5000
    text = f'[{{"id": 7, "updated_at": "2024-05-01T10:00:00Z", "x": {deep}}}, {{"id": 8}}]'

    class Flat(Members):
        records_path = ""
        paginator = HeaderLinkPaginator()

    with LoopbackServer(lambda r: (text, 200, {"Content-Type": "application/json"})) as server:
        items = [i for page in Flat(Api(server.url)).read(None, "2030-01-01T00:00:00")
                 for i in page]
    assert isinstance(items[0], Rejected) and items[0].record["id"] == 7
    assert items[1] == {"id": 8}
