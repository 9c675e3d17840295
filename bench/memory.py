"""Benchmark: a full sync (customers, orders and their lines) at two sizes: throughput and peak RSS.

Each size is a pair: customers, and orders (3x the customers unless
``--orders-per-customer`` says otherwise), the orders with their line items.  Per
size, fresh fakes (the WooCommerce shop, its clock frozen at ``SHOP_NOW``, and
Copernica with no injected latency) run in their own processes; the schema is
created from this process, then one initial sync runs in a fresh engine process,
so the peak RSS (``VmHWM``, see ``peak_rss_kib``) is the engine's alone.  It prints
records read and written, SOAP calls and entities (profiles plus subprofiles of the
end state), records/s and calls/s of the sync, the engine's RSS before and at its
peak, and the largest its staging file grew (the orders, read ahead in full before
writing; sampled twice a second), and asserts that the end states hold no
duplicates and nothing was dead-lettered.
Target (issue 12, target 7): peak RSS of the large size within 1.5x of the small one.

Run it: ``python bench/memory.py [--quick] [--sizes 10000 100000]
[--orders-per-customer 3] [--concurrency 8]``: ``--sizes 10000 100000`` is
10k customers + 30k orders against 100k + 300k (the default); ``--quick`` is 2k + 6k
against 20k + 60k.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    SHOP_NOW,
    Engine,
    collection_keys,
    command_line,
    duplicate_count,
    entities,
    fake_copernica,
    fake_shop,
    machine,
    target_mapping,
)


class _Info:
    """Stands in for a Served fake inside the engine child (only ``info`` is read)."""

    def __init__(self, info: dict[str, object]) -> None:
        self.info = info


def peak_rss_kib(pid: int | str = "self") -> int:
    """The peak resident set so far of this process (or of ``pid``), KiB.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` of a process started by
    ``subprocess`` also holds the peak of the process that spawned it (Linux keeps
    the high-water mark of the memory image exec replaces, and a vfork child's image
    is its parent's), so it would report this benchmark's own RSS, not the engine's.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if pid == "self" else 0


class _StagingSize:
    """The largest the engine's staging files next to the state file grew (sampled)."""

    def __init__(self, folder: Path) -> None:
        self.peak = 0
        self._folder = folder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            size = 0
            for path in self._folder.glob(".copernica-sync-staging-*"):
                with contextlib.suppress(OSError):
                    size += path.stat().st_size
            self.peak = max(self.peak, size)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def child(copernica: dict[str, object], shop: dict[str, object], concurrency: int) -> None:
    """In the fresh engine process: sync, then print peak RSS and timings as JSON."""
    baseline = peak_rss_kib()
    engine = Engine(_Info(copernica), _Info(shop), concurrency=concurrency)  # type: ignore[arg-type]
    staging = _StagingSize(Path(engine.config.sync.state_path).parent)
    try:
        run = engine.run()
    finally:
        staged = staging.stop()
        engine.close()
    peak = peak_rss_kib()
    print(json.dumps({"peak_kib": peak, "before_kib": baseline, "seconds": run.seconds,
                      "read": run.totals["read"], "written": run.totals["written"],
                      "dead_lettered": run.totals["dead_lettered"], "staged_kib": staged / 1024}))


def measure(customers: int, orders: int, concurrency: int, seed: int) -> dict[str, float]:
    """Start fresh fakes, create the schema, sync in a fresh engine process; its numbers."""
    started = time.perf_counter()
    with fake_shop(customers, orders, seed=seed, now=SHOP_NOW) as shop, \
            fake_copernica(0, seed=seed) as copernica:
        schema = Engine(copernica, shop)
        try:
            schema.create_schema()
        finally:
            schema.close()
        copernica.call("reset_calls")
        setup = time.perf_counter() - started
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(copernica.info),
             json.dumps(shop.info), str(concurrency)],
            check=True, capture_output=True, text=True).stdout
        result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        result["calls"] = sum(copernica.call("calls").values())
        # Before the counts, which build every entity's fields in the fake.
        result["shop_kib"] = peak_rss_kib(shop.proc.pid)
        result["copernica_kib"] = peak_rss_kib(copernica.proc.pid)
        target = target_mapping(shop)
        counts = copernica.call("counts", target.database, target.profile_key,
                                collection_keys(target))
    result["entities"] = entities(counts)
    result["duplicates"] = duplicate_count(counts)
    result["setup"] = setup
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,000 + 6,000 vs 20,000 + 60,000 customers + orders")
    parser.add_argument("--sizes", type=int, nargs=2, default=None, metavar=("SMALL", "LARGE"),
                        help="customers of the two sizes (default 10000 100000)")
    parser.add_argument("--orders-per-customer", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = [(n, round(n * args.orders_per_customer))
             for n in (args.sizes or ([2000, 20000] if args.quick else [10000, 100000]))]
    print(f"bench/memory.py: customers + orders with their lines (shop clock frozen at "
          f"{SHOP_NOW}), no latency, concurrency {args.concurrency}, fresh fakes and a fresh "
          "engine process per size", flush=True)
    print(f"machine: {machine()}")
    print(f"{'customers':>10} {'orders':>8} {'read':>8} {'written':>8} {'SOAP calls':>11} "
          f"{'entities':>9} {'sync s':>8} {'rec/s':>7} {'calls/s':>8} {'RSS before MiB':>15} "
          f"{'peak RSS MiB':>13} {'staged MiB':>11}", flush=True)
    results = []
    for customers, orders in sizes:
        r = measure(customers, orders, args.concurrency, args.seed)
        results.append(r)
        print(f"{customers:>10} {orders:>8} {int(r['read']):>8} {int(r['written']):>8} "
              f"{int(r['calls']):>11} {int(r['entities']):>9} {r['seconds']:>8.1f} "
              f"{r['read'] / r['seconds']:>7.0f} {r['calls'] / r['seconds']:>8.0f} "
              f"{r['before_kib'] / 1024:>15.1f} {r['peak_kib'] / 1024:>13.1f} "
              f"{r['staged_kib'] / 1024:>11.1f}", flush=True)
    problems = [f"{c} + {o}: {int(r['duplicates'])} duplicates, "
                f"{int(r['dead_lettered'])} dead-lettered"
                for (c, o), r in zip(sizes, results, strict=True)
                if r["duplicates"] or r["dead_lettered"]]
    print("fakes per size: start-up (shop generation, schema) "
          + ", ".join(f"{r['setup']:.1f} s" for r in results)
          + "; peak RSS shop " + ", ".join(f"{r['shop_kib'] / 1024:.0f}" for r in results)
          + " MiB, Copernica " + ", ".join(f"{r['copernica_kib'] / 1024:.0f}" for r in results)
          + " MiB")
    print("end states: 0 duplicates, 0 dead-lettered" if not problems
          else "PROBLEMS: " + "; ".join(problems))
    ratio = results[1]["peak_kib"] / results[0]["peak_kib"]
    (c0, o0), (c1, o1) = sizes
    print(f"ratio peak RSS {c1} + {o1} / {c0} + {o0}: {ratio:.2f}x (target <= 1.5x)")
    print(f"command: {command_line()}")
    assert not problems, "an end state holds duplicates or dead-lettered records"


if __name__ == "__main__":
    main()
