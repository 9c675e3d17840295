"""Benchmark: initial sync throughput, our engine vs a naive search-then-write loop.

Both sides read the same fake WooCommerce shop and write into their own fresh
fake Copernica (same seed, same injected latency, default 20 ms a SOAP call),
each fake in its own process.  "ours" is the engine as ``copernica-sync run``
wires it.  "naive" is what rival plugins do: per record, ``Database_searchProfiles``
on the key then ``Database_createProfile`` or ``Profile_updateFields``; per order
and order line, ``Profile_searchSubProfiles`` then ``Profile_createSubProfile`` or
``SubProfile_updateFields``; one call at a time, plain zeep, the same mapped values.

Run it: ``python bench/sync_throughput.py [--quick] [--customers 70] [--orders 210]
[--latency-ms 20] [--concurrency 8]``.  It prints a table and the ratio (target
>= 10x) and asserts both end states are identical with zero duplicates.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zeep

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    Engine,
    Served,
    Snapshot,
    collection_keys,
    command_line,
    fake_copernica,
    fake_shop,
    machine,
    target_mapping,
)


@dataclass
class Result:
    """What one side did: records read, SOAP calls made, wall time."""

    name: str
    records: int
    calls: int
    seconds: float
    concurrency: int
    skipped: int = 0


class NaiveSync:
    """A rival plugin's loop: search, then create or update, one SOAP call at a time."""

    def __init__(self, copernica: Served, shop: Served) -> None:
        from copernica_sdk.sync.registry import load_connector

        #: customer id -> profile key, so a registered customer's orders land on the
        #: customer's profile whatever billing address they hold (as ours does; kept
        #: in memory, it costs no call).
        self.identities: dict[str, str] = {}

        self.client = zeep.Client(copernica.info["wsdl_url"])
        self.token: str = copernica.info["token"]
        self.target = target_mapping(shop)
        source = {k: v for k, v in shop.info["source"].items() if k != "connector"}
        self.connector = load_connector("woocommerce")(source)
        self.skipped = 0

    def _call(self, operation: str, **parameters: Any) -> Any:
        return getattr(self.client.service, operation)(
            parameters={**parameters, "access_token": self.token})

    @staticmethod
    def _pairs(fields: Any) -> dict[str, Any]:
        return {"pair": [{"key": k, "value": v} for k, v in fields.items()]}

    @staticmethod
    def _requirement(field: str, value: str) -> dict[str, Any]:
        return {"requirement": [{"fieldname": field, "value": value, "operator": "="}]}

    def run(self) -> int:
        """Sync every record of every stream; returns the records read."""
        from copernica_sdk.sync.errors import MappingError

        database = self._call("Account_database", identifier=self.target.database).database.id
        collections = {name: self._call("Database_collection", id=database,
                                        identifier=name).collection.id
                       for name in collection_keys(self.target)}
        until = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = 0
        for stream in self.connector.streams():
            mapping = self.target.streams[stream.name]
            for page in stream.read(None, until):
                for record in page:
                    records += 1
                    try:
                        mapped = mapping.apply(record)
                    except MappingError:
                        self.skipped += 1
                        continue
                    profile = self._upsert_profile(database, self._identify(stream.name,
                                                                            mapped.profile))
                    for sub in mapped.subprofiles:
                        self._upsert_subprofile(profile, collections[sub.collection], sub)
        return records

    def _identify(self, stream: str, write: Any) -> Any:
        """Customers own identities; an order of a known customer goes to their profile."""
        if write.source_id is None:
            return write
        if stream == "customers":
            self.identities[write.source_id] = write.key
            return write
        key = self.identities.get(write.source_id, write.key)
        return replace(write, key=key, fields={**write.fields, write.key_field: key})

    def _upsert_profile(self, database: int, write: Any) -> int:
        found = self._call("Database_searchProfiles", id=database,
                           requirements=self._requirement(write.key_field, write.key))
        hits = found.items.profile if found.items is not None else []
        if hits:
            self._call("Profile_updateFields", id=hits[0].id, fields=self._pairs(write.fields))
            return int(hits[0].id)
        created = self._call("Database_createProfile", id=database,
                             fields=self._pairs(write.fields))
        return int(created.profile.id)

    def _upsert_subprofile(self, profile: int, collection: int, write: Any) -> None:
        found = self._call("Profile_searchSubProfiles", id=profile,
                           collection={"id": collection},
                           requirements=self._requirement(write.key_field, write.key))
        hits = found.items.subprofile if found.items is not None else []
        if hits:
            self._call("SubProfile_updateFields", id=hits[0].id, fields=self._pairs(write.fields))
        else:
            self._call("Profile_createSubProfile", id=profile, collection={"id": collection},
                       fields=self._pairs(write.fields))

    def close(self) -> None:
        self.connector.close()


def compare(ours: Snapshot, naive: Snapshot, skip_fields: set[str]) -> list[str]:
    """Differences between the end states, on the fields both sides write."""
    problems: list[str] = []
    for side, snap in (("ours", ours), ("naive", naive)):
        if snap["duplicates"] or any(snap["subprofile_duplicates"].values()):
            problems.append(f"{side}: duplicates {snap['duplicates']} profiles, "
                            f"{snap['subprofile_duplicates']} subprofiles")
    pairs = [("profiles", ours["profiles"], naive["profiles"])]
    pairs += [(name, ours["subprofiles"][name], naive["subprofiles"][name])
              for name in naive["subprofiles"]]
    for kind, mine, theirs in pairs:
        if mine.keys() != theirs.keys():
            only = sorted(mine.keys() ^ theirs.keys())
            problems.append(f"{kind}: {len(only)} keys on one side only, e.g. {only[:3]}")
        for key in sorted(mine.keys() & theirs.keys()):
            a = {k: v for k, v in mine[key].items() if k not in skip_fields}
            b = {k: v for k, v in theirs[key].items() if k not in skip_fields}
            if a != b:
                diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
                problems.append(f"{kind} {key!r}: {diff}")
    return problems


def run_ours(shop: Served, args: argparse.Namespace) -> tuple[Result, Snapshot, dict[str, int]]:
    with fake_copernica(args.latency_ms, seed=args.seed) as copernica:
        engine = Engine(copernica, shop, concurrency=args.concurrency)
        try:
            engine.create_schema()
            copernica.call("reset_calls")
            run = engine.run()
        finally:
            engine.close()
        calls: dict[str, int] = copernica.call("calls")
        target = target_mapping(shop)
        snap = copernica.call("snapshot", target.database, target.profile_key,
                              collection_keys(target))
    result = Result("ours", run.totals["read"], sum(calls.values()), run.seconds,
                    args.concurrency, run.totals["dead_lettered"])
    return result, snap, calls


def run_naive(shop: Served, args: argparse.Namespace) -> tuple[Result, Snapshot, dict[str, int]]:
    with fake_copernica(args.latency_ms, seed=args.seed) as copernica:
        engine = Engine(copernica, shop)  # only to create the same schema
        try:
            engine.create_schema()
        finally:
            engine.close()
        naive = NaiveSync(copernica, shop)
        try:
            copernica.call("reset_calls")
            start = time.perf_counter()
            records = naive.run()
            seconds = time.perf_counter() - start
        finally:
            naive.close()
        calls = dict(copernica.call("calls"))
        # The lookups of the database and collection ids are set-up, as ours' are.
        target = target_mapping(shop)
        snap = copernica.call("snapshot", target.database, target.profile_key,
                              collection_keys(target))
    return Result("naive", records, sum(calls.values()), seconds, 1, naive.skipped), snap, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 15 s: 15 customers, 45 orders")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    customers = args.customers or (15 if args.quick else 70)
    orders = args.orders if args.orders is not None else (45 if args.quick else 210)

    with fake_shop(customers, orders, seed=args.seed) as shop:
        ours, ours_snap, ours_calls = run_ours(shop, args)
        naive, naive_snap, naive_calls = run_naive(shop, args)
        target = target_mapping(shop)
    aggregates = {a.name for s in target.streams.values() if s.aggregates
                  for a in s.aggregates.fields}
    problems = compare(ours_snap, naive_snap, aggregates)

    latency = args.latency_ms / 1000
    print(f"bench/sync_throughput.py: {customers} customers, {orders} orders, "
          f"{args.latency_ms:g} ms per SOAP call, fakes in their own processes")
    print(f"machine: {machine()}")
    print(f"{'side':<6} {'records':>8} {'SOAP calls':>11} {'calls/rec':>10} {'conc':>5} "
          f"{'wall s':>8} {'bound s':>8} {'records/s':>10}")
    for r in (naive, ours):
        bound = r.calls * latency / r.concurrency
        print(f"{r.name:<6} {r.records:>8} {r.calls:>11} {r.calls / r.records:>10.2f} "
              f"{r.concurrency:>5} {r.seconds:>8.2f} {bound:>8.2f} {r.records / r.seconds:>10.1f}")
    print("ours  calls: " + ", ".join(f"{op} {n}" for op, n in Counter(ours_calls).most_common()))
    print("naive calls: " + ", ".join(f"{op} {n}" for op, n in Counter(naive_calls).most_common()))
    print(f"end state: {ours_snap['profile_count']} profiles, "
          + ", ".join(f"{n} {name}" for name, n in ours_snap["subprofile_count"].items())
          + f"; unmappable records skipped: ours {ours.skipped}, naive {naive.skipped}; "
          + ("identical on every field both write (aggregates "
             f"{', '.join(sorted(aggregates))} are ours only), 0 duplicates"
             if not problems else f"{len(problems)} DIFFERENCES"))
    for problem in problems[:20]:
        print(f"  {problem}")
    ratio = naive.seconds / ours.seconds
    print(f"ratio ours/naive throughput: {ratio:.1f}x (target >= 10x)")
    print(f"command: {command_line()}")
    assert not problems, "end states differ or hold duplicates"


if __name__ == "__main__":
    main()
