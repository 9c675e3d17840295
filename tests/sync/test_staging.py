"""The staging store: records back grouped by profile, contributions found by key or person."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

from copernica_sdk.sync._staging import StagedFact, StagedRecord, Staging


def record(key: str, profile: str, source: str | None = None,
           total: str | None = "1") -> StagedRecord:
    facts = None if total is None else {"total": total}
    return StagedRecord(key, source, profile, facts, payload=f"record {key}")


def test_chunks_hold_every_record_of_their_profiles_in_the_order_read(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add("orders", [record("1", "b@x"), record("2", "a@x"), record("3", "b@x")])
        staging.add("orders", [record("4", "c@x"), record("5", "a@x")])
        chunks = list(staging.chunks("orders", size=2))
        # By profile (a, b, c), each profile's records in the order read; a
        # chunk is cut only between profiles, once it holds at least two.
        assert chunks == [["record 2", "record 5"], ["record 1", "record 3"], ["record 4"]]


def test_known_people_are_grouped_with_their_profile_whatever_address_they_mapped_to(
        tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add("orders", [record("1", "office@x", source="7"), record("2", "b@x"),
                               record("3", "a@x", source="7"), record("4", "z@x", source="8")])
        assert [list(ids) for ids in staging.source_ids("orders")] == [["7", "8"]]
        staging.set_profile_keys("orders", {"7": "b@x"})  # 8 is nobody known
        assert list(staging.chunks("orders", size=1)) == [
            ["record 1", "record 2", "record 3"], ["record 4"]]


def test_a_record_staged_twice_is_written_twice_and_keeps_its_later_contribution(
        tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add("orders", [record("1", "a@x", total="1")])
        staging.add("orders", [record("1", "b@x", total="5")])
        assert staging.facts_for("orders", mapped_keys={"a@x", "b@x"}, source_ids=()) == \
            [StagedFact("1", None, "b@x", {"total": "5"})]
        assert staging.staged_among("orders", ["1", "2"]) == {"1"}
        assert sum(len(c) for c in staging.chunks("orders", size=10)) == 2


def test_contributions_are_found_by_mapped_key_or_by_person(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add("orders", [record("1", "a@x"), record("2", "b@x", source="7"),
                               record("3", "c@x"), record("4", "a@x", total=None)])
        found = staging.facts_for("orders", mapped_keys={"a@x"}, source_ids={"7"})
        assert sorted(f.record_key for f in found) == ["1", "2"]  # 4 contributes nothing
        assert staging.facts_for("people", mapped_keys={"a@x"}, source_ids=()) == []


def test_streams_are_kept_apart(tmp_path: Path) -> None:
    with Staging(tmp_path) as staging:
        staging.add("orders", [record("1", "a@x")])
        staging.add("refunds", [record("1", "a@x")])
        assert list(staging.chunks("refunds", size=5)) == [["record 1"]]
        assert list(staging.chunks("nothing", size=5)) == []


def test_a_stream_s_records_are_stored_compressed_against_its_first_records(
        tmp_path: Path) -> None:
    def order(n: int) -> dict[str, object]:  # an order's shape: many keys, few bytes each
        return {"id": n, "status": "completed", "currency": "EUR", "total": f"{n % 97}.50",
                "billing": {"first_name": f"Name{n}", "last_name": "Jansen",
                            "email": f"buyer{n}@example.org", "city": "Amsterdam",
                            "country": "NL", "postcode": f"{1000 + n} AB"},
                "line_items": [{"id": n * 10 + i, "product_id": i, "quantity": 1 + i,
                                "sku": f"SKU-{i}", "price": "9.95", "tax_class": "standard",
                                "name": f"Product {i}"} for i in range(8)],
                "meta_data": [{"key": "_source", "value": "web"}]}

    orders = [StagedRecord(str(n), None, f"{n}@x", None, payload=order(n)) for n in range(3000)]
    with Staging(tmp_path) as staging:
        for start in range(0, len(orders), 100):
            staging.add("orders", orders[start:start + 100])
        # Every record comes back as it went in, the first page's and the rest.
        got = [payload for chunk in staging.chunks("orders", size=50) for payload in chunk]
        assert sorted(got, key=lambda o: o["id"]) == [o.payload for o in orders]
        alone = sum(len(zlib.compress(pickle.dumps(o.payload, pickle.HIGHEST_PROTOCOL), 1))
                    for o in orders)
        # Compressed against the stream's first records, the whole file (keys and
        # SQLite's pages included) is under half of the records compressed alone.
        assert staging.path.stat().st_size < alone / 2


def test_closing_removes_the_file(tmp_path: Path) -> None:
    staging = Staging(tmp_path)
    staging.add("orders", [record("1", "a@x")])
    assert staging.path.exists() and staging.path.parent == tmp_path
    staging.close()
    assert list(tmp_path.iterdir()) == []
