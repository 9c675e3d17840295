"""Hello connector: members of the Hello Members API, synced into Copernica.

A complete, small connector to copy.  The (fictional) Hello Members API has one
list endpoint::

    GET /v1/members?updated_since=…&updated_before=…&cursor=…&limit=…
    Authorization: Bearer <api_token>

    {"members": [{"id": 7, "email": "…", "updated_at": "2024-05-01T10:00:00Z",
                  "subscriptions": [{"id": 1, "plan": "pro", …}], …}],
     "next_cursor": "…" or null}

It returns members ordered by ``(updated_at, id)``, so the stream is *sorted*
and the sync engine can save a bookmark after every page.  ``GET /v1/ping``
proves the token works.  ``hello_connector.fake_api`` serves a fake of it on
loopback for the tests.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, ClassVar

from copernica_sdk.sync.connector import ConfigField, Connector, Record, Stream
from copernica_sdk.sync.errors import ConfigError, SourceAuthError, SourceUnavailableError
from copernica_sdk.sync.integrity import ListingChecker

__all__ = ["HelloApi", "HelloConnector", "MembersStream", "api_time"]
__version__ = "0.1.0"

#: The default ``[target]`` mapping, kept as TOML: the same shape a job's
#: ``[target]`` table has, so users can copy lines from it to override.
DEFAULT_MAPPING: Mapping[str, Any] = tomllib.loads(
    files(__name__).joinpath("mapping.toml").read_text(encoding="utf-8"))

MAX_PAGE_SIZE = 500


def api_time(value: str) -> str:
    """An ISO-8601 timestamp from the engine (UTC, with or without ``Z``) in the
    API's form, ``2024-05-01T10:00:00Z``."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # the engine's timestamps are UTC
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HelloApi:
    """A minimal client: one GET, errors turned into the framework's source errors.

    No retries here: a failed read stops the stream without moving its bookmark
    (exit code 5) and the next run picks up where this one stopped.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            f"{self.base_url}{path}{query}",
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            # Messages name the path, never the token (it is only in a header).
            if exc.code in (401, 403):
                raise SourceAuthError(f"Hello API refused the api_token (HTTP {exc.code}); "
                                      "check source.api_token") from None
            raise SourceUnavailableError(f"Hello API answered HTTP {exc.code} for {path}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceUnavailableError(f"Hello API at {self.base_url} failed: {exc}") from None

    def pages(self, path: str, params: Mapping[str, str], items: str) -> Iterator[list[Record]]:
        """Follow ``next_cursor`` until the API has no more; one list per response.

        Every answer goes through the framework's ListingChecker: a cache that
        ignores the cursor (the same page again) or members coming back out of
        ``(updated_at, id)`` order stop the stream with a ListingInconsistentError
        instead of a bookmark moved past members never read.
        """
        check = ListingChecker(path, ordered=True)
        cursor: str | None = None
        while True:
            send = {**params, **({"cursor": cursor} if cursor else {})}
            body = self.get(path, send)
            records = body.get(items) or []
            cursor = body.get("next_cursor")
            verdict = check.page(f"{path}?{urllib.parse.urlencode(send)}",
                                 [r.get("id") for r in records],
                                 order=[(r.get("updated_at"), r.get("id")) for r in records],
                                 has_next=bool(cursor))
            fresh = [records[i] for i in verdict.fresh]
            if fresh:
                yield fresh
            if not verdict.more:
                return


class MembersStream(Stream):
    """Members changed in ``[start, until)``, ascending by ``(updated_at, id)``."""

    name = "members"
    primary_key = "id"
    replication_key = "updated_at"
    is_sorted = True  # the API orders by updated_at: a bookmark after every page is safe

    connector: HelloConnector

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        params = {"updated_before": api_time(until), "limit": str(self.connector.page_size)}
        if start is not None:
            params["updated_since"] = api_time(start)  # inclusive: at or after start
        yield from self.connector.api.pages("/v1/members", params, "members")


class HelloConnector(Connector):
    """Members of one Hello account and their subscriptions."""

    name = "hello"
    description = "Hello Members API: members and their subscriptions"
    config_spec: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("base_url", description="the API's address, e.g. https://api.hello.example"),
        ConfigField("api_token", secret=True, description="a read-only API token"),
        # Bounds are checked by the framework with the types, all problems at once.
        ConfigField("page_size", "int", default=100, minimum=1, maximum=MAX_PAGE_SIZE,
                    description=f"members per request (1-{MAX_PAGE_SIZE})"),
        ConfigField("timeout", "int", default=30, minimum=1, maximum=3600,
                    description="seconds per request"),
    )

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)  # types, required settings and defaults, all reported at once
        problems = _problems(self.config)
        if problems:
            raise ConfigError(problems)
        self.page_size: int = self.config["page_size"]
        self.api = HelloApi(self.config["base_url"], self.config["api_token"],
                            timeout=self.config["timeout"])

    def check(self) -> None:
        self.api.get("/v1/ping")

    def streams(self) -> Sequence[Stream]:
        return [MembersStream(self)]

    def default_mapping(self) -> Mapping[str, Any]:
        return DEFAULT_MAPPING


def _problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    url = urllib.parse.urlsplit(config["base_url"])
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append("source.base_url: must be a URL such as https://api.hello.example")
    elif url.scheme == "http" and not _is_loopback(url.hostname):
        problems.append("source.base_url: must use https (plain http only on localhost), "
                        "or the token travels in clear text")
    return problems


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
