"""RestStream settings cms_generic needed: a lookback, headers and a JSON body per
listing, and the identity hook that tells records apart in the listing checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from werkzeug.wrappers import Request

from copernica_sdk.sync import RestStream, Stream
from copernica_sdk.testing.http_server import LoopbackServer

from .test_stream import Api as MembersApi

SEEN: list[dict[str, Any]] = []


class Search(RestStream):
    name = "search"
    primary_key = "uid"
    replication_key = "changed"
    path = "search"
    method = "POST"
    headers: ClassVar[dict[str, str]] = {"X-Tenant": "shop-7"}
    body: ClassVar[dict[str, Any]] = {"query": {"type": "user"}}
    incremental_param = "since"
    lookback_seconds = 30

    def identity(self, record: dict[str, Any]) -> Any:
        return record["meta"]["uid"]


class Api(MembersApi):
    """The members test API's connector and client, with the search stream."""

    name = "api_settings_test"

    def streams(self) -> Sequence[Stream]:
        return [Search(self)]


def serve(request: Request) -> Any:
    SEEN.append({"since": request.args.get("since"), "tenant": request.headers.get("X-Tenant"),
                 "body": json.loads(request.get_data() or b"null"), "method": request.method})
    return [{"uid": 1, "meta": {"uid": "a"}, "changed": "2024-05-01T09:59:40Z"},
            {"uid": 1, "meta": {"uid": "b"}, "changed": "2024-05-01T09:59:10Z"},
            {"uid": 2, "meta": {"uid": "c"}, "changed": "2024-05-01T10:00:05Z"}], 200, {}


def test_a_lookback_moves_the_window_start_for_the_parameter_and_the_filter() -> None:
    SEEN.clear()
    with LoopbackServer(serve) as server:
        stream = Search(Api(server.url))
        records = [r for page in stream.read("2024-05-01T10:00:00", "2024-06-01T00:00:00")
                   for r in page]
    assert SEEN[0]["since"] == "2024-05-01T09:59:30"
    # 09:59:40 is inside the 30 s lookback, 09:59:10 before it.
    assert [r["changed"] for r in records] == ["2024-05-01T09:59:40", "2024-05-01T10:00:05"]


def test_headers_and_a_json_body_go_with_every_request_and_identity_tells_records_apart(
        ) -> None:
    SEEN.clear()
    with LoopbackServer(serve) as server:
        stream = Search(Api(server.url))
        records = [r for page in stream.read(None, "2024-06-01T00:00:00") for r in page]
    assert SEEN == [{"since": None, "tenant": "shop-7", "body": {"query": {"type": "user"}},
                     "method": "POST"}]
    # Two records share uid 1; the identity hook (meta.uid) keeps both.
    assert [r["meta"]["uid"] for r in records] == ["a", "b", "c"]
