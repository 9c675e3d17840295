"""A tiny in-memory licensed connector for metering tests (idea from tests/sync/memory_source)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from copernica_sdk.sync.connector import ConfigField, Connector, Record, Stream

BASE = datetime(2024, 1, 1, tzinfo=UTC)

MAPPING: dict[str, Any] = {
    "database": "Customers",
    "profile_key": "customer_key",
    "streams": {
        "people": {"profile": {"key": "email | normalize_email", "source_id": "id",
                               "fields": {"name": "name"}}},
    },
}


class PeopleStream(Stream):
    name: ClassVar[str] = "people"
    primary_key: ClassVar[str] = "id"
    replication_key: ClassVar[str | None] = "updated"
    is_sorted: ClassVar[bool] = True

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        assert isinstance(self.connector, TinyConnector)
        rows = sorted(self.connector.rows.values(), key=lambda r: (r["updated"], r["id"]))
        rows = [dict(r) for r in rows if (start is None or r["updated"] >= start)
                and r["updated"] < until]
        size = self.connector.page_size
        for i in range(0, len(rows), size):
            self.connector.pages_read += 1
            if self.connector.fail_after_pages is not None and \
                    self.connector.pages_read > self.connector.fail_after_pages:
                raise RuntimeError("source blew up mid-run")
            yield rows[i:i + size]


class TinyConnector(Connector):
    name: ClassVar[str] = "tiny"
    config_spec: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("page_size", type="int", required=False, default=3),
        ConfigField("url", required=False, default="https://shop.example.nl"),
    )
    license_plugin_id: ClassVar[str | None] = "acme-woo"
    license_public_keys: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config or {})
        self.page_size = int(self.config["page_size"])
        self.rows: dict[int, Record] = {}
        self.clock = BASE
        self.pages_read = 0
        self.fail_after_pages: int | None = None

    def put(self, **record: Any) -> None:
        self.clock += timedelta(seconds=1)
        self.rows[record["id"]] = {**self.rows.get(record["id"], {}), **record,
                                   "updated": self.clock.replace(tzinfo=None).isoformat()}

    def check(self) -> None:
        return None

    def streams(self) -> Sequence[Stream]:
        return [PeopleStream(self)]

    def default_mapping(self) -> dict[str, Any]:
        return MAPPING
