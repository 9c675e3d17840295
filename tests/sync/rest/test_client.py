"""RestClient against a real loopback server: auth, redirects, retries, status, JSON."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from werkzeug.wrappers import Request, Response

from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync import (
    APIKeyAuth,
    BearerTokenAuth,
    ConfigError,
    HttpBasicAuth,
    OAuth1Auth,
    QueryParamsAuth,
    RestClient,
    SourceAuthError,
    SourceError,
    SourceHTTPError,
    SourceUnavailableError,
)
from copernica_sdk.testing.http_server import LoopbackServer


def quick(sleeps: list[float] | None = None, **changes: Any) -> RetryPolicy:
    waits = sleeps if sleeps is not None else []
    return RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02,
                       sleep=waits.append).with_(**changes)


def ok(request: Request) -> Any:
    return {"ok": True, "auth": request.headers.get("Authorization"),
            "key": request.headers.get("X-API-Key"), "args": dict(request.args)}


# --- authenticators --------------------------------------------------------------

def test_basic_auth_sends_the_authorization_header() -> None:
    with LoopbackServer(ok) as server:
        body = RestClient(server.url, auth=HttpBasicAuth("ann", "s3cret!")).get("x")
    assert body["auth"] == "Basic " + base64.b64encode(b"ann:s3cret!").decode()


def test_bearer_token_and_api_key_header() -> None:
    with LoopbackServer(ok) as server:
        bearer = RestClient(server.url, auth=BearerTokenAuth("tok-1234")).get("x")
        header = RestClient(server.url, auth=APIKeyAuth("X-API-Key", "key-5678")).get("x")
    assert bearer["auth"] == "Bearer tok-1234"
    assert header["key"] == "key-5678"


def test_api_key_in_the_query_is_sent_and_also_added_to_absolute_next_urls() -> None:
    with LoopbackServer(ok) as server:
        client = RestClient(server.url, auth=APIKeyAuth("api_key", "key-5678", "query"))
        first = client.get("x", {"page": "1"})
        second = client.get(f"{server.url}y?page=2")
    assert first["args"] == {"page": "1", "api_key": "key-5678"}
    assert second["args"] == {"page": "2", "api_key": "key-5678"}


def _valid_oauth1(url: str, method: str, secret: str) -> bool:
    parts = urlsplit(url)
    params = parse_qsl(parts.query)
    sent = dict(params)["oauth_signature"]
    collected = [(k, v) for k, v in params if k != "oauth_signature"]
    base = oauth_signature.signature_base_string(
        method, oauth_signature.base_string_uri(f"{parts.scheme}://{parts.netloc}{parts.path}"),
        oauth_signature.normalize_parameters(collected))
    return oauth_signature.sign_hmac_sha256(base, secret, "") == sent


def test_oauth1_signs_every_request_with_a_fresh_nonce_and_a_valid_hmac_sha256() -> None:
    with LoopbackServer(ok) as server:
        client = RestClient(server.url, auth=OAuth1Auth("ck_abc", "cs_def"))
        client.get("orders", {"status": "any"})
        client.get("orders", {"status": "any"})
        seen = server.requests
    nonces = {s.args["oauth_nonce"] for s in seen}
    assert len(nonces) == 2
    for s in seen:
        assert s.args["oauth_signature_method"] == "HMAC-SHA256"
        assert s.args["oauth_consumer_key"] == "ck_abc"
        assert _valid_oauth1(s.url, "GET", "cs_def")


def test_oauth1_over_plain_http_is_allowed_when_https_is_not_required() -> None:
    client = RestClient("http://shop.example", auth=OAuth1Auth("ck", "cs"), https_only=False)
    assert client.base_url == "http://shop.example/"


@pytest.mark.parametrize("auth", [HttpBasicAuth("u", "p"), BearerTokenAuth("t"),
                                  APIKeyAuth("k", "v", "query"), QueryParamsAuth({"a": "b"})])
def test_credentials_in_clear_over_plain_http_are_refused_except_on_loopback(auth: Any) -> None:
    with pytest.raises(ConfigError) as info:
        RestClient("http://api.example.com", auth=auth, https_only=False)
    assert "https" in str(info.value)
    assert RestClient("http://127.0.0.1:9", auth=auth).base_url == "http://127.0.0.1:9/"
    assert RestClient("http://localhost:9", auth=auth).base_url == "http://localhost:9/"


# --- redirects ---------------------------------------------------------------------

def test_a_redirect_to_another_host_is_refused_and_the_credentials_never_go_there() -> None:
    with LoopbackServer(ok) as elsewhere:
        target = elsewhere.url.replace("127.0.0.1", "localhost") + "steal"

        def moved(request: Request) -> Response:
            return Response("", 302, {"Location": target + "?api_key=key-5678"})

        with LoopbackServer(moved) as server:
            for mode in ("refuse", "same_origin"):
                client = RestClient(server.url, auth=APIKeyAuth("api_key", "key-5678", "query"),
                                    redirects=mode)  # type: ignore[arg-type]
                with pytest.raises(ConfigError) as info:
                    client.get("x")
                assert "redirects (HTTP 302)" in str(info.value)
                assert "key-5678" not in str(info.value)
        assert elsewhere.requests == []


def test_a_same_origin_redirect_is_followed_only_when_allowed() -> None:
    def app(request: Request) -> Any:
        if request.path == "/old":
            return Response("", 301, {"Location": "/new?x=1"})
        return {"path": request.path, "args": dict(request.args)}

    with LoopbackServer(app) as server:
        followed = RestClient(server.url, redirects="same_origin").get("old")
        with pytest.raises(ConfigError):
            RestClient(server.url).get("old")
    assert followed == {"path": "/new", "args": {"x": "1"}}


# --- retries -----------------------------------------------------------------------

def test_retry_after_is_waited_out_and_the_request_then_succeeds() -> None:
    failures = [2]

    def app(request: Request) -> Any:
        if failures[0]:
            failures[0] -= 1
            return {"busy": True}, 503, {"Retry-After": "1"}
        return {"ok": True}

    sleeps: list[float] = []
    with LoopbackServer(app) as server:
        body = RestClient(server.url, retry=quick(sleeps)).get("x")
        count = len(server.requests)
    assert body == {"ok": True}
    assert count == 3
    assert len(sleeps) == 2 and all(s >= 1 for s in sleeps)


def test_a_wait_that_would_pass_the_elapsed_cap_gives_up_at_once() -> None:
    sleeps: list[float] = []
    with LoopbackServer(lambda r: ({"busy": True}, 429, {"Retry-After": "5"})) as server:
        client = RestClient(server.url, retry=quick(sleeps, max_elapsed=2.0))
        with pytest.raises(SourceUnavailableError) as info:
            client.get("x")
        count = len(server.requests)
    assert count == 1 and sleeps == []
    assert info.value.attempts == 1
    assert "2 s limit" in str(info.value)


def test_a_retry_after_longer_than_the_policy_accepts_gives_up_for_this_run() -> None:
    with LoopbackServer(lambda r: ({}, 503, {"Retry-After": "3600"})) as server, pytest.raises(SourceUnavailableError) as info:
        RestClient(server.url, retry=quick(max_elapsed=10_000)).get("x")
    assert "asked to wait 3600 s" in str(info.value)


def test_a_source_that_keeps_failing_is_unavailable_after_the_policys_attempts() -> None:
    with LoopbackServer(lambda r: ("oops", 500)) as server:
        with pytest.raises(SourceUnavailableError) as info:
            RestClient(server.url, retry=quick()).get("x")
        count = len(server.requests)
    assert count == 4 and info.value.attempts == 4
    assert "HTTP 500" in str(info.value)


def test_connection_refused_is_retried_then_unavailable() -> None:
    with LoopbackServer(ok) as server:
        url = server.url
    sleeps: list[float] = []
    with pytest.raises(SourceUnavailableError) as info:
        RestClient(url, retry=quick(sleeps)).get("x")
    assert len(sleeps) == 3 and "could not connect" in str(info.value)


def test_on_retry_sees_the_failure_and_params_are_evaluated_per_attempt() -> None:
    failures = [1]

    def app(request: Request) -> Any:
        if failures[0]:
            failures[0] -= 1
            return "", 502
        return dict(request.args)

    size = [100]
    seen: list[str] = []

    def shrink(exc: Exception) -> None:
        seen.append(type(exc).__name__)
        size[0] //= 2

    with LoopbackServer(app) as server:
        body = RestClient(server.url, retry=quick()).request(
            "GET", "x", lambda: {"per_page": size[0]}, on_retry=shrink).body
    assert body == {"per_page": "50"} and seen == ["HTTPStatusError"]


def test_a_trickling_answer_ends_at_the_deadline() -> None:
    def trickle(request: Request) -> Response:
        def body() -> Any:
            yield b"["
            for _ in range(200):
                time.sleep(0.1)
                yield b" "
        return Response(body(), 200, {"Content-Type": "application/json"})

    with LoopbackServer(trickle) as server:
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError) as info:
            RestClient(server.url, deadline=0.5, retry=quick(max_attempts=1)).get("x")
    assert time.monotonic() - started < 10
    assert "deadline" in str(info.value)


# --- status and JSON ---------------------------------------------------------------

def test_401_and_403_are_auth_errors_that_quote_the_api_and_not_the_token() -> None:
    for status in (401, 403):
        answer = ({"code": "bad_key", "message": "Invalid key tok-1234"}, status)
        with LoopbackServer(lambda r, a=answer: a) as server:  # type: ignore[misc]
            with pytest.raises(SourceAuthError) as info:
                RestClient(server.url, auth=BearerTokenAuth("tok-1234"), retry=quick()).get("x")
            assert len(server.requests) == 1
        assert f"HTTP {status}" in str(info.value) and "bad_key" in str(info.value)
        assert "tok-1234" not in str(info.value)


def test_404_is_a_per_record_http_error_and_400_is_not() -> None:
    with LoopbackServer(lambda r: ({"code": "nope"}, 404 if r.path == "/gone" else 400)) as s:
        client = RestClient(s.url, retry=quick())
        with pytest.raises(SourceHTTPError) as missing:
            client.get("gone")
        with pytest.raises(SourceHTTPError) as bad:
            client.get("bad")
    assert missing.value.status_code == 404 and missing.value.per_record
    assert "does not exist" in str(missing.value)
    assert bad.value.status_code == 400 and not bad.value.per_record
    assert bad.value.code == "nope"


SECRET = "p@ss/word+1"


def test_malformed_json_names_the_url_without_the_url_encoded_secret() -> None:
    with LoopbackServer(lambda r: ('{"items": [1, 2,', 200, {"Content-Type": "application/json"})
                        ) as server:
        client = RestClient(server.url, auth=APIKeyAuth("appid", SECRET, "query"))
        with pytest.raises(SourceError) as info:
            client.get("items", {"page": "2"})
    text = str(info.value)
    assert "not valid JSON" in text and "/items?page=2" in text
    assert SECRET not in text and quote(SECRET, safe="") not in text and "appid" not in text


def test_an_html_page_instead_of_json_is_named_by_its_title() -> None:
    page = "<!doctype html><html><head><title>Please log in</title></head></html>"
    with LoopbackServer(lambda r: (page, 200, {"Content-Type": "text/html"})) as server, pytest.raises(SourceError) as info:
        RestClient(server.url).get("x")
    assert "HTML page titled 'Please log in'" in str(info.value)


def test_an_error_body_echoing_the_encoded_secret_is_redacted() -> None:
    def echo(request: Request) -> Any:
        return {"message": f"bad request {request.url}"}, 400

    with LoopbackServer(echo) as server, pytest.raises(SourceHTTPError) as info:
        RestClient(server.url, auth=APIKeyAuth("appid", SECRET, "query")).get("x")
    assert SECRET not in str(info.value) and quote(SECRET, safe="") not in str(info.value)


def test_a_byte_order_mark_before_the_json_is_not_an_error() -> None:
    body = "\ufeff".encode() + b'{"ok": true}'
    with LoopbackServer(lambda r: (body, 200, {"Content-Type": "application/json"})) as server:
        assert RestClient(server.url).get("x") == {"ok": True}


def test_a_body_larger_than_max_bytes_is_refused() -> None:
    with LoopbackServer(lambda r: {"items": ["x" * 1000] * 100}) as server, \
            pytest.raises(SourceError, match="larger than 1000 bytes"):
        RestClient(server.url, max_bytes=1000).get("x")
