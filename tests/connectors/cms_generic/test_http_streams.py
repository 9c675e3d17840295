"""HTTP streams over the loopback FakeCms: pagination styles, loops, auth, errors, incremental."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync.errors import ConfigError, SourceAuthError, SourceError
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic import testing as fake
from copernica_sync.connectors.cms_generic.testing import FakeCms

from ._helpers import connector, preset_source, read_all

STYLES: dict[str, dict[str, Any]] = {
    "page": {"records": "items", "paginate": {"style": "page_number", "size_param": "per_page",
                                              "page_size": 10,
                                              "total_pages_path": "meta.total_pages"}},
    "offset": {"records": "results", "paginate": {"style": "offset", "page_size": 10,
                                                  "total_path": "total"}},
    "cursor": {"records": "data", "paginate": {"style": "cursor", "cursor_path": "paging.next",
                                               "cursor_param": "after"}},
    "next": {"records": "records", "paginate": {"style": "next_url", "next_url_path": "next"}},
    "link": {"paginate": {"style": "link_header"}},
    "single": {},
}


@pytest.fixture
def cms() -> Iterator[FakeCms]:
    with FakeCms(contacts=25) as c:
        yield c


def _config(cms: FakeCms, style: str, stream: dict[str, Any] | None = None,
            **source: Any) -> dict[str, Any]:
    table = {"path": f"/api/{style}/contacts", "primary_key": "id", **(stream or {})}
    return {"base_url": cms.url, "streams": {"contacts": table}, **source}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_pagination_style_reads_every_record_once(cms: FakeCms, style: str) -> None:
    records = read_all(connector(_config(cms, style, STYLES[style])), "contacts")
    assert [r["id"] for r in records] == list(range(1, 26))


def test_a_next_url_pointing_back_stops_with_a_loop_error(cms: FakeCms) -> None:
    conn = connector(_config(cms, "loop", {"records": "records",
                                           "paginate": {"style": "next_url",
                                                        "next_url_path": "next"}}))
    # The next page repeats the first: caught as a repeated page before the loop.
    with pytest.raises(SourceError, match=r"pagination loop|repeats the 3 record"):
        read_all(conn, "contacts")


def test_an_api_ignoring_the_page_parameter_stops_with_a_loop_error(cms: FakeCms) -> None:
    conn = connector(_config(cms, "same", {"paginate": {"style": "page_number"}}))
    with pytest.raises(SourceError, match="repeats the 5 record"):
        read_all(conn, "contacts")


def test_more_pages_than_max_pages_is_an_error_not_a_truncation(cms: FakeCms) -> None:
    conn = connector(_config(cms, "next", {"records": "records",
                                           "paginate": {"style": "next_url",
                                                        "next_url_path": "next",
                                                        "max_pages": 2}}))
    with pytest.raises(SourceError, match="more than 2 pages"):
        read_all(conn, "contacts")


AUTHS = {
    "basic": {"type": "basic", "username": fake.USER, "password": fake.PASSWORD},
    "bearer": {"type": "bearer", "token": fake.TOKEN},
    "header": {"type": "api_key", "name": "X-API-Key", "key": fake.API_KEY},
    "query": {"type": "api_key", "name": "api_key", "key": fake.API_KEY, "in": "query"},
}


@pytest.mark.parametrize("kind", sorted(AUTHS))
def test_each_auth_kind_is_accepted_and_its_secret_is_masked(kind: str) -> None:
    with FakeCms(contacts=5, auth=kind) as cms:
        conn = connector(_config(cms, "link", {"paginate": {"style": "link_header"}},
                                 auth=AUTHS[kind]))
        assert len(read_all(conn, "contacts")) == 5
        secret = next(v for k, v in AUTHS[kind].items() if k in ("password", "token", "key"))
        assert secret in conn.secrets()


@pytest.mark.parametrize("kind", sorted(AUTHS))
def test_wrong_credentials_raise_an_auth_error_without_the_secret(kind: str) -> None:
    wrong = {k: ("wrong-" + v if k in ("password", "token", "key") else v)
             for k, v in AUTHS[kind].items()}
    with FakeCms(contacts=5, auth=kind) as cms:
        conn = connector(_config(cms, "single", auth=wrong))
        with pytest.raises(SourceAuthError) as err:
            conn.check()
    message = str(err.value)
    assert "/api/single/contacts" in message and "Invalid credentials" in message
    assert "wrong-" not in message


@pytest.mark.parametrize(("path", "expected"), [
    # The framework's messages (copernica_sdk.sync.rest.RestClient).
    ("html", "not valid JSON .*: an HTML page titled 'Site under maintenance' — check the "
             "address"),
    ("malformed", "application/json that is not valid JSON at line 1 column 21"),
    ("text", "text/plain that is not valid JSON at line 1 column 1 .* \\(starts with: 'OK'\\)"),
    ("server_error", "kept failing: HTTP 500"),
    ("nowhere", "does not exist \\(HTTP 404\\)"),
])
def test_bad_answers_give_a_clear_error_naming_the_url_without_secrets(
        path: str, expected: str) -> None:
    auth = AUTHS["query"]
    with FakeCms(contacts=5, auth="query") as cms:
        conn = connector(_config(cms, path, auth=auth))
        with pytest.raises(SourceError, match=expected) as err:
            read_all(conn, "contacts")
    assert f"{cms.url}/api/{path}/contacts" in str(err.value)
    assert fake.API_KEY not in str(err.value)


def test_503_with_retry_after_is_retried_with_the_framework_policy() -> None:
    waits: list[float] = []
    with FakeCms(contacts=5, flaky_failures=2) as cms:
        policy = RetryPolicy(max_attempts=5, sleep=waits.append)
        conn = GenericCmsConnector(_config(cms, "flaky"), policy=policy)
        assert len(read_all(conn, "contacts")) == 2
    assert len(waits) == 2 and all(w >= 1 for w in waits)


def test_client_side_incremental_drops_records_before_the_start(cms: FakeCms) -> None:
    stream = {**STYLES["link"], "incremental": {"cursor_field": "modified"}}
    conn = connector(_config(cms, "link", stream))
    everything = read_all(conn, "contacts")
    start = sorted(r["_cursor"] for r in everything)[20]
    later = read_all(conn, "contacts", start)
    assert {r["id"] for r in later} == {r["id"] for r in everything if r["_cursor"] >= start}
    assert len(later) == 5
    stream_obj = conn.streams()[0]
    assert stream_obj.replication_key == "_cursor" and not stream_obj.is_sorted


def test_drupal_preset_sends_the_start_as_a_server_side_filter(cms: FakeCms) -> None:
    conn = connector(preset_source("drupal", cms.url))
    everything = read_all(conn, "users")
    assert len(everything) == 25 and everything[0]["attributes"]["mail"]
    start = everything[-3]["_cursor"]
    cms.requests.clear()
    later = read_all(conn, "users", start)
    assert any("filter%5Bchanged%5D%5Bcondition%5D%5Bvalue%5D=" in r for r in cms.requests)
    assert {r["id"] for r in later} == {r["id"] for r in everything if r["_cursor"] >= start}
    assert len(later) >= 3


def test_wordpress_preset_reads_emails_with_context_edit(cms: FakeCms) -> None:
    conn = connector(preset_source("wordpress", cms.url))
    users = read_all(conn, "users")
    assert len(users) == 25 and users[0]["email"] == "person1@example.com"
    assert any("context=edit" in r for r in cms.requests)


def test_config_errors_are_reported_all_at_once_with_full_keys() -> None:
    with pytest.raises(ConfigError) as err:
        connector({
            "timeout": 0,
            "auth": {"type": "basic", "username": "u"},
            "streams": {
                "users": {"path": "/u", "paginate": {"style": "pages"}, "colour": 1},
                "orders": {"url": "ftp://x", "primary_key": "id",
                           "incremental": {"filter_params": {"since": "{begin}"}}},
                "files": {"type": "csv", "primary_key": "id", "delimiter": ";;"},
            },
        })
    problems = err.value.problems
    for expected in (
        "source.timeout: must be a whole number of at least 1",
        "source.auth.password: required",
        "source.streams.users.path: needs source.base_url",
        "source.streams.users.paginate.style: must be one of page_number, offset",
        "source.streams.users.colour: unknown setting",
        "source.streams.users.primary_key: required",
        "source.streams.orders.url: must start with http",
        "source.streams.orders.incremental.cursor_field: required",
        "source.streams.orders.incremental.filter_params.since: unknown placeholder",
        "source.streams.files.path: required",
        "source.streams.files.delimiter: must be one character",
    ):
        assert any(p.startswith(expected) for p in problems), (expected, problems)


def test_a_secret_never_appears_in_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        connector({"streams": {}, "auth": {"type": "bearer", "token": 12345678, "in": "x"}})
    assert "12345678" not in str(err.value)
    assert any(p.startswith("source.auth.token: must be text") for p in err.value.problems)
