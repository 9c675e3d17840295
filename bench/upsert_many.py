"""Benchmark: ``profiles.upsert_many`` vs a sequential loop vs a hand-written pool.

Each side writes the same N profiles (unique keys) into its own fresh fake
Copernica running in its own process, with the same injected latency per SOAP call
(default 20 ms): "upsert_many" is ``client.profiles.upsert_many(...,
concurrency=C)``; "loop" is ``for item in items: client.profiles.upsert(...)``;
"pool" is a hand-written ``ThreadPoolExecutor(C)`` mapping ``upsert`` over the items.
All three use one client with ``max_connections=C``.  The end states (every
profile's fields by key) must be identical, with 0 duplicates.

Run it: ``python bench/upsert_many.py [--n 10000] [--latency-ms 20] [--concurrency 8]``
(the full default takes minutes because of the sequential loop: 10,000 x 2 calls'
worth of latency; use ``--n 500`` for a quick look).  It prints wall time, calls,
the bound (calls x latency / concurrency) and the ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import Snapshot, command_line, fake_copernica, machine

from copernica_sdk import CopernicaClient, RetryPolicy

DATABASE, KEY = "Customers", "customer_key"
FIELDS = {KEY: {"type": "text", "length": 64, "index": True}, "firstname": "text",
          "city": "text", "score": "integer"}


@dataclass
class Result:
    name: str
    seconds: float
    calls: int
    failed: int


def items(n: int) -> list[dict[str, Any]]:
    return [{KEY: f"customer-{i:06d}@example.com", "firstname": f"First{i}",
             "city": ("Utrecht", "Amsterdam", "Delft")[i % 3], "score": i % 1000}
            for i in range(n)]


def _upsert_many(client: CopernicaClient, rows: list[dict[str, Any]], conc: int) -> int:
    db = client.databases.get(DATABASE)
    results = client.profiles.upsert_many(db, rows, key_field=KEY, concurrency=conc)
    return sum(not r.ok for r in results)


def _loop(client: CopernicaClient, rows: list[dict[str, Any]], conc: int) -> int:
    db = client.databases.get(DATABASE)
    for row in rows:
        client.profiles.upsert(db, key={KEY: row[KEY]},
                               fields={k: v for k, v in row.items() if k != KEY})
    return 0


def _pool(client: CopernicaClient, rows: list[dict[str, Any]], conc: int) -> int:
    db = client.databases.get(DATABASE)

    def one(row: dict[str, Any]) -> None:
        client.profiles.upsert(db, key={KEY: row[KEY]},
                               fields={k: v for k, v in row.items() if k != KEY})

    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(one, rows))  # the first error would abort here: no per-item results
    return 0


def run(name: str, side: Callable[[CopernicaClient, list[dict[str, Any]], int], int],
        rows: list[dict[str, Any]], args: argparse.Namespace) -> tuple[Result, Snapshot]:
    with fake_copernica(args.latency_ms, seed=args.seed) as fake:
        fake.call("create_database", DATABASE, FIELDS)
        retry = RetryPolicy(max_attempts=3)
        with CopernicaClient(fake.info["token"], endpoint=fake.info["url"], retry=retry,
                             max_connections=args.concurrency) as client:
            fake.call("reset_calls")
            start = time.perf_counter()
            failed = side(client, rows, args.concurrency)
            seconds = time.perf_counter() - start
        calls = sum(dict(fake.call("calls")).values())
        snap: Snapshot = fake.call("snapshot", DATABASE, KEY, {})
    return Result(name, seconds, calls, failed), snap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="upserts (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = items(args.n)
    sides = [("upsert_many", _upsert_many), ("loop", _loop), ("pool", _pool)]
    results: dict[str, Result] = {}
    snaps: dict[str, Snapshot] = {}
    for name, side in sides:
        results[name], snaps[name] = run(name, side, rows, args)

    latency = args.latency_ms / 1000
    print(f"bench/upsert_many.py: {args.n} upserts, {args.latency_ms:g} ms per SOAP call, "
          f"concurrency {args.concurrency}, each side against its own fake in its own process")
    print(f"machine: {machine()}")
    print(f"{'side':<12} {'conc':>5} {'SOAP calls':>11} {'wall s':>8} {'bound s':>8} "
          f"{'wall/bound':>10} {'upserts/s':>10} {'failed':>7}")
    for name, r in results.items():
        conc = 1 if name == "loop" else args.concurrency
        bound = r.calls * latency / conc
        print(f"{name:<12} {conc:>5} {r.calls:>11} {r.seconds:>8.2f} {bound:>8.2f} "
              f"{r.seconds / bound:>10.2f} {args.n / r.seconds:>10.1f} {r.failed:>7}")
    base = snaps["upsert_many"]
    problems = [f"{name}: end state differs" for name in ("loop", "pool")
                if snaps[name]["profiles"] != base["profiles"]]
    problems += [f"{name}: {s['duplicates']} duplicates" for name, s in snaps.items()
                 if s["duplicates"]]
    problems += [f"{name}: {s['profile_count']} profiles, not {args.n}"
                 for name, s in snaps.items() if s["profile_count"] != args.n]
    print(f"end state: {base['profile_count']} profiles; "
          + ("identical on all three sides, 0 duplicates" if not problems
             else "; ".join(problems)))
    many = results["upsert_many"].seconds
    print(f"ratio loop/upsert_many wall time: {results['loop'].seconds / many:.1f}x")
    print(f"ratio pool/upsert_many wall time: {results['pool'].seconds / many:.2f}x "
          f"(same concurrency {args.concurrency})")
    print(f"command: {command_line()}")
    assert not problems, "; ".join(problems)


if __name__ == "__main__":
    main()
