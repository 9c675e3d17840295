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

There is no HTTP, retry, paging or time-zone code here: the framework's REST
building blocks (``RestClient``, ``BearerTokenAuth``,
``JSONResponseCursorPaginator``, ``RestStream``) do all of it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any, ClassVar

from copernica_sdk.sync import (
    BearerTokenAuth,
    ConfigField,
    Connector,
    JSONResponseCursorPaginator,
    RestClient,
    RestStream,
    Stream,
)

__all__ = ["HelloConnector", "MembersStream"]
__version__ = "0.1.0"

#: The default ``[target]`` mapping, kept as TOML: the same shape a job's
#: ``[target]`` table has, so users can copy lines from it to override.
DEFAULT_MAPPING: Mapping[str, Any] = tomllib.loads(
    files(__name__).joinpath("mapping.toml").read_text(encoding="utf-8"))

MAX_PAGE_SIZE = 500


class MembersStream(RestStream):
    """Members changed in ``[start, until)``, ascending by ``(updated_at, id)``."""

    name = "members"
    primary_key = "id"
    replication_key = "updated_at"
    is_sorted = True  # the API orders by updated_at: a bookmark after every page is safe

    path = "v1/members"
    records_path = "members"
    paginator = JSONResponseCursorPaginator(cursor_path="next_cursor")
    incremental_param = "updated_since"  # inclusive: at or after start
    until_param = "updated_before"
    incremental_format = "iso_z"         # the API writes 2024-05-01T10:00:00Z

    def __init__(self, connector: HelloConnector) -> None:
        super().__init__(connector)
        self.params = {"limit": connector.config["page_size"]}


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
        # https only (plain http on loopback only), retries, deadlines, redaction:
        # the client's; a bad base_url is a ConfigError naming source.base_url.
        self.client = RestClient(self.config["base_url"], name="the Hello API",
                                 auth=BearerTokenAuth(self.config["api_token"]),
                                 timeout=self.config["timeout"], setting="source.base_url")

    def check(self) -> None:
        self.client.get("v1/ping")

    def streams(self) -> Sequence[Stream]:
        return [MembersStream(self)]

    def default_mapping(self) -> Mapping[str, Any]:
        return DEFAULT_MAPPING

    def close(self) -> None:
        self.client.close()
