"""Benchmark: peak RSS of the engine process for a small and a 10x larger customer sync.

Each size runs in a fresh engine process (``ru_maxrss`` of that process only);
the fake shop and the fake Copernica run in their own processes, with no
injected latency.  Customers only (no orders), so the largest size stays
feasible.  Target: peak RSS of the large run within 1.5x of the small one.

Run it: ``python bench/memory.py [--quick] [--sizes 10000 100000]``
(``--quick``: 2,000 and 20,000 customers).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import Engine, command_line, fake_copernica, fake_shop, machine


class _Info:
    """Stands in for a Served fake inside the engine child (only ``info`` is read)."""

    def __init__(self, info: dict[str, object]) -> None:
        self.info = info


def child(copernica: dict[str, object], shop: dict[str, object], concurrency: int) -> None:
    """In the fresh engine process: sync, then print peak RSS and timings as JSON."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine = Engine(_Info(copernica), _Info(shop), concurrency=concurrency)  # type: ignore[arg-type]
    try:
        engine.create_schema()
        run = engine.run()
    finally:
        engine.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kib": peak, "before_kib": baseline, "seconds": run.seconds,
                      "read": run.totals["read"], "written": run.totals["written"]}))


def measure(customers: int, concurrency: int, seed: int) -> dict[str, float]:
    """Start fresh fakes, run the engine in a fresh process, return its numbers."""
    started = time.perf_counter()
    with fake_shop(customers, 0, seed=seed) as shop, fake_copernica(0, seed=seed) as copernica:
        setup = time.perf_counter() - started
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(copernica.info),
             json.dumps(shop.info), str(concurrency)],
            check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["setup"] = setup
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 vs 20,000 customers")
    parser.add_argument("--sizes", type=int, nargs=2, default=None, metavar=("SMALL", "LARGE"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = args.sizes or ([2000, 20000] if args.quick else [10000, 100000])
    results = [measure(n, args.concurrency, args.seed) for n in sizes]
    print(f"bench/memory.py: customers only, no latency, concurrency {args.concurrency}, "
          "one fresh engine process per size")
    print(f"machine: {machine()}")
    print(f"{'customers':>10} {'read':>8} {'written':>8} {'sync s':>8} {'rec/s':>8} "
          f"{'RSS before MiB':>15} {'peak RSS MiB':>13}")
    for n, r in zip(sizes, results, strict=True):
        print(f"{n:>10} {int(r['read']):>8} {int(r['written']):>8} {r['seconds']:>8.1f} "
              f"{r['read'] / r['seconds']:>8.0f} {r['before_kib'] / 1024:>15.1f} "
              f"{r['peak_kib'] / 1024:>13.1f}")
    ratio = results[1]["peak_kib"] / results[0]["peak_kib"]
    print(f"ratio peak RSS {sizes[1]}/{sizes[0]}: {ratio:.2f}x (target <= 1.5x)")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
