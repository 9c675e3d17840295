"""A tiny in-memory connector for engine tests: people with orders, sorted by change time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from copernica_sdk.sync.connector import ConfigField, Connector, Record, Stream

BASE = datetime(2024, 1, 1, tzinfo=UTC)

MAPPING: dict[str, Any] = {
    "database": "Customers",
    "profile_key": "customer_key",
    "streams": {
        "people": {"profile": {"key": "email | normalize_email", "source_id": "id",
                               "fields": {"name": "name", "age": {"source": "age",
                                                                  "type": "integer"}}}},
        "orders": {
            "profile": {"key": "email | normalize_email", "source_id": "person_id",
                        "fields": {"name": "name"}},
            "collections": {"Orders": {"key_field": "order_id", "fields": {
                "order_id": "id", "status": "status",
                "total": {"source": "total", "type": "float"}}}},
            "aggregates": {
                "include_when": {"status": ["processing", "completed"]},
                "fields": {"orders_count": {"function": "count"},
                           "total_spent": {"function": "sum", "source": "total",
                                           "type": "float"},
                           "last_order": {"function": "max", "source": "id"}}},
        },
    },
}


class MemoryStream(Stream):
    primary_key: ClassVar[str] = "id"
    replication_key: ClassVar[str | None] = "updated"
    is_sorted: ClassVar[bool] = True

    def __init__(self, connector: MemoryConnector, name: str) -> None:
        super().__init__(connector, name=name)
        self.stream_name = name

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        assert isinstance(self.connector, MemoryConnector)
        rows = sorted(self.connector.tables[self.stream_name].values(),
                      key=lambda r: (r["updated"], r["id"]))
        rows = [dict(r) for r in rows if (start is None or r["updated"] >= start)
                and r["updated"] < until]
        size = self.connector.page_size
        failure = self.connector.fail_after.get(self.stream_name)
        for number, i in enumerate(range(0, len(rows), size)):
            if failure is not None and number == failure[0]:
                raise failure[1]
            yield rows[i:i + size]


class MemoryConnector(Connector):
    name: ClassVar[str] = "memory"
    config_spec: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("page_size", type="int", required=False, default=5),
    )

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config or {})
        self.page_size = int(self.config["page_size"])
        self.tables: dict[str, dict[int, Record]] = {"people": {}, "orders": {}}
        self.clock = BASE
        #: stream → (pages served, error): the stream raises the error instead of
        #: serving its next page (a source that fails mid-listing).
        self.fail_after: dict[str, tuple[int, Exception]] = {}
        #: Whether its streams may be read ahead (:attr:`Stream.read_ahead`), which
        #: also lets the engine stage the orders stream before writing.
        self.read_ahead = False

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.replace(tzinfo=None).isoformat()

    def put(self, table: str, **record: Any) -> Record:
        current = self.tables[table].get(record["id"], {})
        row = {**current, **record, "updated": self.tick()}
        self.tables[table][record["id"]] = row
        return row

    def check(self) -> None:
        return None

    def streams(self) -> Sequence[Stream]:
        streams = [MemoryStream(self, "people"), MemoryStream(self, "orders")]
        for stream in streams:
            stream.read_ahead = self.read_ahead
        return streams

    def default_mapping(self) -> dict[str, Any]:
        return MAPPING
