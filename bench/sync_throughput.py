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
each page's records grouped by profile, the groups written by that many threads);
it lives in ``bench/_naive.py``, the engine side and the end-state comparison in
``bench/_harness.py``.

Run it: ``python bench/sync_throughput.py [--quick] [--customers 70] [--orders 210]
[--latency-ms 20] [--concurrency 8]``.  It prints a table with the bound
(entities x latency / concurrency), the connections each side opened and the
ratios, and asserts that all three end states are identical with zero duplicates.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    SHOP_NOW,
    aggregate_fields,
    command_line,
    compare,
    entities,
    fake_shop,
    machine,
    run_engine,
    target_mapping,
)
from _naive import run_naive


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
        ours, ours_snap, ours_calls = run_engine(shop, args.latency_ms,
                                                 concurrency=args.concurrency, seed=args.seed)
        seq, seq_snap, seq_calls = run_naive(shop, args.latency_ms, concurrency=1,
                                             seed=args.seed)
        par, par_snap, _ = run_naive(shop, args.latency_ms, concurrency=args.concurrency,
                                     seed=args.seed)
        aggregates = aggregate_fields(target_mapping(shop))
    problems = [f"naive-seq: {p}" for p in compare(ours_snap, seq_snap, aggregates)]
    problems += [f"naive-par: {p}" for p in compare(ours_snap, par_snap, aggregates)]

    latency = args.latency_ms / 1000
    written = entities(ours_snap)
    print(f"bench/sync_throughput.py: {customers} customers, {orders} orders (shop clock "
          f"frozen at {SHOP_NOW}), {args.latency_ms:g} ms per SOAP call, "
          "fakes in their own processes")
    print(f"machine: {machine()}")
    print(f"entities written (profiles + subprofiles): {written}; bound = entities x latency "
          f"/ concurrency = {written * latency / args.concurrency:.2f} s at concurrency "
          f"{args.concurrency}")
    print(f"{'side':<9} {'records':>8} {'SOAP calls':>11} {'calls/ent':>10} {'conc':>5} "
          f"{'wall s':>8} {'bound s':>8} {'wall/bound':>10} {'records/s':>10} {'conns':>6}")
    for r in (seq, par, ours):
        bound = written * latency / r.concurrency
        print(f"{r.name:<9} {r.records:>8} {r.calls:>11} {r.calls / written:>10.2f} "
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
