"""Benchmark: incremental syncs after an initial sync, with 0% and 1% of records changed.

The fake shop and the fake Copernica run in their own processes (20 ms a SOAP
call by default).  After the initial sync, a re-run with nothing changed must
make no write calls; then 1% of the orders get a new status (processing ->
completed, which keeps them in the paid-order aggregates) and 1% of the
customers a new first name, and the next run must write exactly those entities:
one Orders subprofile per changed order, one profile per changed customer.

Run it: ``python bench/incremental.py [--quick] [--customers 300] [--orders 900]
[--latency-ms 20] [--concurrency 8]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    Engine,
    EngineRun,
    Served,
    command_line,
    fake_copernica,
    fake_shop,
    machine,
)


def change(shop: Served, share: float, seed_offset: int = 0) -> tuple[int, int]:
    """Edit ``share`` of the orders (status) and of the customers (first name)."""
    if share <= 0:
        return 0, 0
    orders = [o for o in shop.call("orders") if o["status"] == "processing"]
    customers = shop.call("customers")
    n_orders = max(1, round(share * len(shop.call("orders"))))
    n_customers = max(1, round(share * len(customers)))
    for order in orders[seed_offset:seed_offset + n_orders]:
        shop.call("update_order", order["id"], status="completed")
    for customer in customers[seed_offset:seed_offset + n_customers]:
        shop.call("update_customer", customer["id"],
                  first_name=f"{customer['first_name']} (edited)")
    # A run reads changes made before the second it starts in: let the clock tick.
    time.sleep(1.1)
    return min(n_orders, len(orders)), n_customers


def measured(engine: Engine, copernica: Served) -> tuple[EngineRun, dict[str, int], int]:
    copernica.call("reset_calls")
    run = engine.run()
    calls: dict[str, int] = copernica.call("calls")
    return run, calls, int(copernica.call("write_calls"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 customers, 300 orders")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    customers = args.customers or (100 if args.quick else 300)
    orders = args.orders if args.orders is not None else (300 if args.quick else 900)

    rows: list[tuple[str, int, EngineRun, dict[str, int], int]] = []
    with fake_shop(customers, orders, seed=args.seed) as shop, \
            fake_copernica(args.latency_ms, seed=args.seed) as copernica:
        engine = Engine(copernica, shop, concurrency=args.concurrency)
        try:
            engine.create_schema()
            run, calls, writes = measured(engine, copernica)
            rows.append(("initial", -1, run, calls, writes))
            time.sleep(1.1)
            run, calls, writes = measured(engine, copernica)
            rows.append(("0% changed", 0, run, calls, writes))
            n_orders, n_customers = change(shop, 0.01)
            run, calls, writes = measured(engine, copernica)
            rows.append((f"1% changed ({n_orders} orders, {n_customers} customers)",
                         n_orders + n_customers, run, calls, writes))
        finally:
            engine.close()

    initial = rows[0][2].seconds
    print(f"bench/incremental.py: {customers} customers, {orders} orders, "
          f"{args.latency_ms:g} ms per SOAP call, concurrency {args.concurrency}")
    print(f"machine: {machine()}")
    print(f"{'run':<40} {'read':>6} {'written':>8} {'SOAP calls':>11} {'write calls':>12} "
          f"{'expected':>9} {'wall s':>7} {'vs initial':>11}")
    ok = True
    for name, expected, run, calls, writes in rows:
        shown = "-" if expected < 0 else str(expected)
        print(f"{name:<40} {run.totals['read']:>6} {run.totals['written']:>8} "
              f"{sum(calls.values()):>11} {writes:>12} {shown:>9} {run.seconds:>7.2f} "
              f"{run.seconds / initial:>10.2f}x")
        if expected >= 0:
            ok = ok and writes == expected
    for name, _, run, calls, _ in rows[1:]:
        print(f"  {name}: " + ", ".join(f"{op} {n}" for op, n in Counter(calls).most_common()))
        for summary in run.streams:
            print(f"    {summary}")
    print(f"targets (0 writes when unchanged; writes == changed entities): "
          f"{'met' if ok else 'NOT met'}")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
