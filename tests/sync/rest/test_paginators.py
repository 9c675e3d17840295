"""Each paginator against a real loopback listing, honest and lying."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.wrappers import Request

from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync import (
    HeaderLinkPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    ListingInconsistentError,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    RestClient,
    SinglePagePaginator,
    SourceError,
)
from copernica_sdk.sync.rest import Page, paginate
from copernica_sdk.testing.http_server import LoopbackServer

RECORDS = [{"id": i, "updated": f"2024-01-01T00:00:{i:02d}"} for i in range(1, 24)]
SIZE = 5


def listing(records: list[dict[str, Any]], *, total: int | None = None,
            lie: Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]] | None = None
            ) -> Callable[[Request], Any]:
    """One listing answering every style: ?style=offset|page|cursor|next|link|single."""
    announced = len(records) if total is None else total

    def app(request: Request) -> Any:
        a = request.args
        style = request.path.strip("/")
        if style == "offset":
            start = int(a["offset"])
            size = int(a["limit"])
        elif style in ("page", "link", "next"):
            start = (int(a.get("page", 1)) - 1) * SIZE
            size = SIZE
        elif style == "cursor":
            start = int(a.get("cursor", 0))
            size = SIZE
        else:
            start, size = 0, len(records)
        chunk = records[start:start + size]
        if lie is not None:
            chunk = lie(start, chunk)
        more = start + size < len(records)
        body: dict[str, Any] = {"items": chunk, "meta": {"total": announced}}
        headers = {"X-Total-Pages": str(-(-announced // SIZE))}
        if style == "cursor":
            body["next_cursor"] = str(start + size) if more else None
        number = start // SIZE + 1
        if style == "next":
            body["links"] = {"next": {"href": f"/next?page={number + 1}"} if more else None}
        if style == "link" and more:
            headers["Link"] = f'<{request.host_url}link?page={number + 1}>; rel="next"'
        return body, 200, headers

    return app


STYLES: dict[str, Paginator] = {
    "offset": OffsetPaginator(limit=SIZE, total_path="meta.total"),
    "page": PageNumberPaginator(page_size=SIZE, size_param="per_page",
                                total_pages_header="X-Total-Pages"),
    "cursor": JSONResponseCursorPaginator(cursor_path="next_cursor"),
    "next": JSONLinkPaginator(next_url_path="links.next"),
    "link": HeaderLinkPaginator(),
    "single": SinglePagePaginator(),
}


def read(server: LoopbackServer, style: str, paginator: Paginator | None = None,
         ordered: bool = False) -> list[Any]:
    client = RestClient(server.url, retry=RetryPolicy(max_attempts=1))

    def fetch(url: str, params: Any) -> Page:
        response = client.request("GET", url, params)
        return Page(response.body["items"], response)

    pages = paginate(paginator or STYLES[style], fetch, client.url(style), {}, show=client.show,
                     key=lambda r: r.get("id"),
                     order=(lambda r: r.get("updated")) if ordered else None, listing=style)
    return [r["id"] for page in pages for r in page.records]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_paginator_reads_every_record_once(style: str) -> None:
    with LoopbackServer(listing(RECORDS)) as server:
        assert read(server, style, ordered=True) == list(range(1, 24))


def test_page_number_sends_the_page_size_and_counts_from_the_base_page() -> None:
    with LoopbackServer(listing(RECORDS)) as server:
        read(server, "page")
        first = server.requests[0].args
    assert first["page"] == "1" and first["per_page"] == "5"


@pytest.mark.parametrize("style", ["offset", "page", "cursor", "next", "link"])
def test_a_repeated_page_stops_the_stream(style: str) -> None:
    # A cache that answers every page with the first one.
    with LoopbackServer(listing(RECORDS, lie=lambda start, chunk: RECORDS[:SIZE])) as server, pytest.raises(ListingInconsistentError, match="repeats"):
        read(server, style)


@pytest.mark.parametrize("style", ["offset", "page"])
def test_an_empty_page_before_the_announced_total_stops_the_stream(style: str) -> None:
    def lie(start, chunk):
        return ([] if start == 10 else chunk)
    with LoopbackServer(listing(RECORDS, lie=lie)) as server, pytest.raises(ListingInconsistentError, match="empty"):
        read(server, style)


@pytest.mark.parametrize("style", ["offset", "page"])
def test_a_short_page_before_the_announced_total_stops_the_stream(style: str) -> None:
    def lie(start, chunk):
        return (chunk[:2] if start == 10 else chunk)
    with LoopbackServer(listing(RECORDS, lie=lie)) as server, pytest.raises(ListingInconsistentError, match="short page"):
        read(server, style)


@pytest.mark.parametrize("style", ["offset", "page"])
def test_more_records_than_announced_stops_the_stream(style: str) -> None:
    with LoopbackServer(listing(RECORDS, total=12)) as server, pytest.raises(ListingInconsistentError, match="lower than what the source serves"):
        read(server, style)


@pytest.mark.parametrize("style", ["offset", "cursor", "link"])
def test_an_ordered_listing_going_backwards_stops_the_stream(style: str) -> None:
    older = [{"id": 100 + i, "updated": "2023-01-01T00:00:00"} for i in range(SIZE)]
    def lie(start, chunk):
        return (older if start == 10 else chunk)
    with LoopbackServer(listing(RECORDS, lie=lie)) as server, pytest.raises(ListingInconsistentError, match="backwards"):
        read(server, style, ordered=True)


def test_a_cursor_sent_back_to_an_earlier_page_is_a_loop() -> None:
    served = [0]

    def app(request: Request) -> Any:
        served[0] += 1  # new records each time, but the cursor comes back to "a"
        return {"items": [{"id": served[0]}], "next_cursor": "b" if served[0] % 2 else "a"}

    with LoopbackServer(app) as server, pytest.raises(SourceError, match="pagination loop"):
        read(server, "cursor", JSONResponseCursorPaginator(cursor_path="next_cursor"))


def test_a_next_link_to_another_site_is_not_followed() -> None:
    def app(request: Request) -> Any:
        return {"items": [{"id": 1}], "links": {"next": "https://evil.example/steal?page=2"}}

    with LoopbackServer(app) as server, pytest.raises(SourceError, match="another site"):
        read(server, "next")
    assert len(server.requests) == 1


def test_more_pages_than_max_pages_is_an_error_not_a_truncation() -> None:
    with LoopbackServer(listing(RECORDS)) as server, \
            pytest.raises(SourceError, match="more than 2 pages"):
        read(server, "link", HeaderLinkPaginator(max_pages=2))


def test_a_record_moved_during_an_offset_read_is_found_by_reading_once_more() -> None:
    # Record 3 is edited after the first page and moves to the end: offsets shift,
    # record 6 falls behind the read position; the re-read finds it.
    state = {"moved": False}
    records = list(RECORDS)

    def lie(start: int, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if start == 0 and not state["moved"]:
            state["moved"] = True
            return chunk
        return chunk

    def app(request: Request) -> Any:
        start = int(request.args["offset"])
        current = records if not state["moved"] else \
            [r for r in records if r["id"] != 3] + [records[2]]
        chunk = current[start:start + SIZE]
        lie(start, chunk)
        return {"items": chunk, "meta": {"total": len(current)}}

    with LoopbackServer(app) as server:
        ids = read(server, "offset")
    assert sorted(ids) == list(range(1, 24)) and len(ids) == 23
