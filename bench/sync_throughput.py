"""Benchmark: initial sync throughput, our engine vs a naive search-then-write loop.

All sides read the same fake WooCommerce shop (its clock frozen at a fixed date,
so the data never depends on the day it runs) and write into their own fresh
fake Copernica (same seed, same injected latency, default 20 ms a SOAP call),
each fake in its own process.  "ours" is the engine as ``copernica-sync run``
wires it.  "naive" is what rival plugins do: per record, ``Database_searchProfiles``
on the key then ``Database_createProfile`` or ``Profile_updateFields``; per order
and order line, ``Profile_searchSubProfiles`` then ``Profile_createSubProfile`` or
``SubProfile_updateFields``; plain zeep, the same mapped values and the same field
precedence as ours (docs/guarantees.md, "Identity and field precedence").  It runs
twice: one call at a time ("naive-seq"), and with ours' concurrency ("naive-par":
each page's records grouped by profile, the groups written by that many threads).

Run it: ``python bench/sync_throughput.py [--quick] [--customers 70] [--orders 210]
[--latency-ms 20] [--concurrency 8]``.  It prints a table with the bound
(entities x latency / concurrency), the connections each side opened and the
ratios, and asserts that all three end states are identical with zero duplicates.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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

#: The shop's frozen clock: the generated data is the same whatever day it runs.
SHOP_NOW = "2025-06-01T12:00:00+00:00"

#: Ranks of a claim on a profile's fields (docs/guarantees.md): accounts win.
ACCOUNT, ACTIVITY = 2, 1


@dataclass
class Result:
    """What one side did: records read, SOAP calls made, wall time, connections."""

    name: str
    records: int
    calls: int
    seconds: float
    concurrency: int
    skipped: int = 0
    connections: int = 0


class NaiveSync:
    """A rival plugin's loop: search, then create or update, per record.

    ``concurrency`` > 1 writes each page's records grouped by profile key (so one
    person's writes stay in order) from that many threads, each with its own zeep
    client.  The field precedence is ours, decided in record order before writing:
    an account's data wins; among guests the newest order by ``date_created``
    (equal dates: the higher id); a record that loses writes only the key.
    """

    def __init__(self, copernica: Served, shop: Served, concurrency: int = 1) -> None:
        from copernica_sdk.sync.registry import load_connector

        #: customer id -> profile key, so a registered customer's orders land on the
        #: customer's profile whatever billing address they hold (as ours does; kept
        #: in memory, it costs no call).
        self.identities: dict[str, str] = {}
        #: profile key -> the claim whose fields it holds (rank, recency, record id).
        self.owners: dict[str, tuple[int, str, int]] = {}

        self.wsdl: str = copernica.info["wsdl_url"]
        self.local = threading.local()
        self.token: str = copernica.info["token"]
        self.concurrency = concurrency
        self.target = target_mapping(shop)
        source = {k: v for k, v in shop.info["source"].items() if k != "connector"}
        self.connector = load_connector("woocommerce")(source)
        self.skipped = 0

    def _call(self, operation: str, **parameters: Any) -> Any:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = zeep.Client(self.wsdl)
        return getattr(client.service, operation)(
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
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for stream in self.connector.streams():
                mapping = self.target.streams[stream.name]
                for page in stream.read(None, until):
                    groups: dict[str, list[Any]] = {}
                    for record in page:
                        records += 1
                        try:
                            mapped = mapping.apply(record)
                        except MappingError:
                            self.skipped += 1
                            continue
                        profile = self._precedence(stream, record,
                                                   self._identify(stream.name, mapped.profile))
                        groups.setdefault(profile.key, []).append((profile, mapped.subprofiles))
                    list(pool.map(lambda g: self._write(database, collections, g),
                                  groups.values()))
        return records

    def _write(self, database: int, collections: dict[str, int], group: list[Any]) -> None:
        for profile, subprofiles in group:
            profile_id = self._upsert_profile(database, profile)
            for sub in subprofiles:
                self._upsert_subprofile(profile_id, collections[sub.collection], sub)

    def _identify(self, stream: str, write: Any) -> Any:
        """Customers own identities; an order of a known customer goes to their profile."""
        if write.source_id is None:
            return write
        if stream == "customers":
            self.identities[write.source_id] = write.key
            return write
        key = self.identities.get(write.source_id, write.key)
        return replace(write, key=key, fields={**write.fields, write.key_field: key})

    def _precedence(self, stream: Any, record: Any, write: Any) -> Any:
        """The write itself if its record holds the key's fields, else only the key."""
        from copernica_sdk.sync.identity import normalise_recency

        account = stream.name == "customers" and write.source_id is not None
        recency = write.recency if write.recency is not None \
            else record.get(stream.replication_key)
        claim = (ACCOUNT if account else ACTIVITY, normalise_recency(recency),
                 int(record["id"]))
        if write.key not in self.owners or claim > self.owners[write.key]:
            self.owners[write.key] = claim
            return write
        return replace(write, fields={write.key_field: write.key})

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
            copernica.call("reset_connections")
            run = engine.run()
        finally:
            engine.close()
        calls: dict[str, int] = copernica.call("calls")
        connections: int = copernica.call("connections_opened")
        target = target_mapping(shop)
        snap = copernica.call("snapshot", target.database, target.profile_key,
                              collection_keys(target))
    result = Result("ours", run.totals["read"], sum(calls.values()), run.seconds,
                    args.concurrency, run.totals["dead_lettered"], connections)
    return result, snap, calls


def run_naive(shop: Served, args: argparse.Namespace,
              concurrency: int) -> tuple[Result, Snapshot, dict[str, int]]:
    with fake_copernica(args.latency_ms, seed=args.seed) as copernica:
        engine = Engine(copernica, shop)  # only to create the same schema
        try:
            engine.create_schema()
        finally:
            engine.close()
        naive = NaiveSync(copernica, shop, concurrency)
        try:
            copernica.call("reset_calls")
            copernica.call("reset_connections")
            start = time.perf_counter()
            records = naive.run()
            seconds = time.perf_counter() - start
        finally:
            naive.close()
        calls = dict(copernica.call("calls"))
        connections: int = copernica.call("connections_opened")
        # The lookups of the database and collection ids are set-up, as ours' are.
        target = target_mapping(shop)
        snap = copernica.call("snapshot", target.database, target.profile_key,
                              collection_keys(target))
    name = "naive-seq" if concurrency == 1 else "naive-par"
    return (Result(name, records, sum(calls.values()), seconds, concurrency, naive.skipped,
                   connections), snap, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 customers, 45 orders")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    customers = args.customers or (15 if args.quick else 70)
    orders = args.orders if args.orders is not None else (45 if args.quick else 210)

    with fake_shop(customers, orders, seed=args.seed, now=SHOP_NOW) as shop:
        ours, ours_snap, ours_calls = run_ours(shop, args)
        seq, seq_snap, seq_calls = run_naive(shop, args, 1)
        par, par_snap, _ = run_naive(shop, args, args.concurrency)
        target = target_mapping(shop)
    aggregates = {a.name for s in target.streams.values() if s.aggregates
                  for a in s.aggregates.fields}
    problems = [f"naive-seq: {p}" for p in compare(ours_snap, seq_snap, aggregates)]
    problems += [f"naive-par: {p}" for p in compare(ours_snap, par_snap, aggregates)]

    latency = args.latency_ms / 1000
    entities = ours_snap["profile_count"] + sum(ours_snap["subprofile_count"].values())
    print(f"bench/sync_throughput.py: {customers} customers, {orders} orders (shop clock "
          f"frozen at {SHOP_NOW}), {args.latency_ms:g} ms per SOAP call, "
          "fakes in their own processes")
    print(f"machine: {machine()}")
    print(f"entities written (profiles + subprofiles): {entities}; bound = entities x latency "
          f"/ concurrency = {entities * latency / args.concurrency:.2f} s at concurrency "
          f"{args.concurrency}")
    print(f"{'side':<9} {'records':>8} {'SOAP calls':>11} {'calls/ent':>10} {'conc':>5} "
          f"{'wall s':>8} {'bound s':>8} {'wall/bound':>10} {'records/s':>10} {'conns':>6}")
    for r in (seq, par, ours):
        bound = entities * latency / r.concurrency
        print(f"{r.name:<9} {r.records:>8} {r.calls:>11} {r.calls / entities:>10.2f} "
              f"{r.concurrency:>5} {r.seconds:>8.2f} {bound:>8.2f} {r.seconds / bound:>10.2f} "
              f"{r.records / r.seconds:>10.1f} {r.connections:>6}")
    print("ours      calls: " + ", ".join(f"{op} {n}" for op, n in Counter(ours_calls).most_common()))
    print("naive-seq calls: " + ", ".join(f"{op} {n}" for op, n in Counter(seq_calls).most_common()))
    print(f"end state: {ours_snap['profile_count']} profiles, "
          + ", ".join(f"{n} {name}" for name, n in ours_snap["subprofile_count"].items())
          + f"; unmappable records skipped: ours {ours.skipped}, naive {seq.skipped}; "
          + ("all three identical on every field both write (aggregates "
             f"{', '.join(sorted(aggregates))} are ours only), 0 duplicates"
             if not problems else f"{len(problems)} DIFFERENCES"))
    for problem in problems[:20]:
        print(f"  {problem}")
    print(f"ratio ours/naive-seq throughput: {seq.seconds / ours.seconds:.1f}x (target >= 10x)")
    print(f"ratio ours/naive-par throughput: {par.seconds / ours.seconds:.1f}x "
          f"(same concurrency {args.concurrency})")
    print(f"command: {command_line()}")
    assert not problems, "end states differ or hold duplicates"


if __name__ == "__main__":
    main()
