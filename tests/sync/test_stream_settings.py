"""Stream identity and settings are instance attributes: one class can serve many
configured streams (cms_generic), and subclasses that set them as class
attributes (WooCommerce, partners) keep working."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from copernica_sdk.sync.connector import Connector, Record, Stream
from copernica_sync.connectors.cms_generic.csv_source import CsvStream
from copernica_sync.connectors.cms_generic.streams import HttpStream
from tests.connectors.cms_generic._helpers import connector


class Listing(Stream):
    """A stream class with no identity of its own."""

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        yield []


class Members(Stream):
    name = "members"
    primary_key = "id"
    replication_key = "updated_at"
    is_sorted = True

    def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
        yield []


class _Source(Connector):
    name = "settings_test"

    def check(self) -> None:
        return None

    def streams(self) -> Sequence[Stream]:
        return []


def test_one_stream_class_makes_streams_with_their_own_name_keys_and_sortedness() -> None:
    source = _Source({})
    users = Listing(source, name="users", primary_key="uid", replication_key="changed",
                    is_sorted=True)
    posts = Listing(source, name="posts", primary_key="id")
    assert (users.name, users.primary_key, users.replication_key, users.is_sorted) == \
        ("users", "uid", "changed", True)
    assert (posts.name, posts.primary_key, posts.replication_key, posts.is_sorted) == \
        ("posts", "id", None, False)


def test_class_attributes_are_the_defaults_an_instance_may_override() -> None:
    source = _Source({})
    assert (Members(source).name, Members(source).is_sorted) == ("members", True)
    full = Members(source, replication_key=None, is_sorted=False)
    assert (full.name, full.replication_key, full.is_sorted) == ("members", None, False)
    assert Members.replication_key == "updated_at"  # the class is untouched


def test_a_subclass_may_still_set_its_settings_after_the_base_init() -> None:
    """Partners' streams that set ``self.name`` in their own ``__init__`` keep working."""

    class Late(Listing):
        def __init__(self, connector: Connector, table: str) -> None:
            super().__init__(connector)
            self.name, self.primary_key = table, f"{table}_id"

    late = Late(_Source({}), "orders")
    assert (late.name, late.primary_key, late.replication_key) == ("orders", "orders_id", None)


def test_cms_generic_streams_are_instances_of_its_two_stream_classes(tmp_path: Any) -> None:
    (tmp_path / "contacts.csv").write_text("id,email,updated\n1,a@example.com,2024-01-01\n",
                                           encoding="utf-8")
    conn = connector({
        "base_url": "https://cms.example.com",
        "ledger_path": str(tmp_path / "ledger.json"),
        "streams": {
            "users": {"path": "/users", "primary_key": "meta.uid",
                      "incremental": {"cursor_field": "modified", "sorted": True}},
            "pages": {"path": "/pages", "primary_key": "id"},
            "contacts": {"type": "csv", "path": str(tmp_path / "contacts.csv"),
                         "primary_key": "id", "incremental": {"cursor_field": "updated"}},
        }})
    users, pages, contacts = conn.streams()
    assert type(users) is HttpStream and type(pages) is HttpStream
    assert type(contacts) is CsvStream
    assert (users.name, users.primary_key, users.replication_key, users.is_sorted) == \
        ("users", "_id", "_cursor", True)
    assert (pages.name, pages.primary_key, pages.replication_key, pages.is_sorted) == \
        ("pages", "id", None, False)
    assert (contacts.name, contacts.primary_key, contacts.replication_key) == \
        ("contacts", "id", "_cursor")
