"""cms_generic on the framework's REST building blocks: no HTTP, retry, paging or
timestamp code of its own, and the framework's rules for where credentials go."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.rest import JSONLinkPaginator, PageNumberPaginator, RestStream
from copernica_sync.connectors.cms_generic.streams import HttpStream

from ._helpers import connector

PACKAGE = Path(__file__).resolve().parents[3] / "connectors" / "cms_generic"
#: What only HTTP plumbing, a retry loop, a paginator or a timestamp parser needs.
PLUMBING = re.compile(r"^\s*(import requests|from requests|import urllib3)|time\.sleep\(|"
                      r"Retry-After|parsedate_to_datetime|fromisoformat\(|ListingChecker\(",
                      re.M)


def test_the_connector_has_no_http_retry_paging_or_timestamp_code_of_its_own() -> None:
    found = {path.name: [m.group(0).strip() for m in
                         PLUMBING.finditer(path.read_text(encoding="utf-8"))]
             for path in PACKAGE.glob("*.py") if path.name != "testing.py"}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_http_streams_are_rest_streams_with_the_frameworks_paginators() -> None:
    conn = connector({"base_url": "https://cms.example.com", "streams": {
        "users": {"path": "/wp-json/wp/v2/users", "primary_key": "id",
                  "paginate": {"style": "page_number", "size_param": "per_page",
                               "page_size": 100, "total_pages_header": "X-WP-TotalPages"}},
        "people": {"path": "/jsonapi/user/user", "primary_key": "id", "records": "data",
                   "paginate": {"style": "next_url", "next_url_path": "links.next.href"}}}})
    users, people = conn.streams()
    assert isinstance(users, HttpStream) and isinstance(users, RestStream)
    assert users.paginator == PageNumberPaginator(
        1000, page_size=100, size_param="per_page", total_pages_header="X-WP-TotalPages")
    assert isinstance(people, HttpStream)
    assert isinstance(people.paginator, JSONLinkPaginator)
    assert people.client.url(people.path) == "https://cms.example.com/jsonapi/user/user"


@pytest.mark.parametrize("auth", [
    {"type": "basic", "username": "editor", "password": "app-pass"},
    {"type": "bearer", "token": "t0ken"},
    {"type": "api_key", "name": "X-API-Key", "key": "k3y"},
])
def test_credentials_are_never_sent_over_plain_http_to_a_remote_site(
        auth: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as error:
        connector({"base_url": "http://cms.example.com", "auth": auth,
                   "streams": {"users": {"path": "/users", "primary_key": "id"}}})
    assert error.value.problems == [
        "source.streams.users.url (or source.base_url): must use https (plain http only on "
        "localhost/loopback): over http the credentials travel in clear text"]


def test_a_site_without_credentials_may_be_read_over_plain_http() -> None:
    conn = connector({"base_url": "http://cms.example.com",
                      "streams": {"users": {"path": "/users", "primary_key": "id"}}})
    assert [s.name for s in conn.streams()] == ["users"]
