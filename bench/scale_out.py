"""Benchmark: scale-out throughput with 1, 2 and 4 ``copernica-sync worker`` processes.

N fake WooCommerce shops (default 20 x (200 customers, 600 orders)) sync into one
fake Copernica account (a database per shop, default 50 ms a SOAP call), each
job's state in a real PostgreSQL, the queue on a real Redis — both started here
on 127.0.0.1 in temporary directories.  For each worker count every job is queued
once on a fresh account and state; the wall time runs from the first enqueue to
the last result.  Workers run one job at a time (``--concurrency 1``) with the
job's own ``sync.concurrency`` writer threads, under ``--calls-per-account``.

The bound is what the per-account cap allows at best: SOAP calls x latency /
min(cap, workers x sync.concurrency).  The fakes run in this process (threads),
so on a small machine they compete with the workers for the cores: say so when
reporting.

Run it: ``python bench/scale_out.py [--quick] [--shops 20] [--customers 200]
[--orders 600] [--latency-ms 50] [--workers 1,2,4] [--cap 8] [--concurrency 4]``.
Needs the scale extra and the Debian packages postgresql and redis-server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from redis import Redis

from copernica_sdk import CopernicaClient, schema
from copernica_sdk.scale.app import TASK
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.servers import running_postgres, running_redis
from copernica_sync.connectors.woocommerce import WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

sys.path.insert(0, str(Path(__file__).parent))
from _harness import machine

TOKEN = "bench-scale-token"
EXECUTABLE = Path(sys.executable).parent / "copernica-sync"


def toml(tables: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, values in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def one_round(workers: int, shops: list[FakeShop], pg_url: str, broker: str, args: Any,
              tmp: Path) -> dict[str, Any]:
    latency = args.latency_ms / 1000
    with FakeCopernica(tokens={TOKEN: "bench"}, latency=latency) as fake:
        tables: dict[str, dict[str, Any]] = {
            "copernica": {"access_token": TOKEN, "endpoint": fake.url, "timeout": 60},
            "sync": {"state_url": pg_url, "concurrency": args.concurrency},
        }
        with CopernicaClient(TOKEN, endpoint=fake.url) as client:
            saved, fake.latency = fake.latency, 0.0
            for i, shop in enumerate(shops):
                src = shop.source_config()
                tables[f"jobs.shop{i:02d}.source"] = src
                tables[f"jobs.shop{i:02d}.target"] = {"database": f"Shop{i:02d}"}
                cfg = {k: v for k, v in src.items() if k != "connector"}
                target = parse_target({"database": f"Shop{i:02d}"},
                                      WooCommerceConnector(cfg).default_mapping())
                schema.apply(client, schema.plan(client, schema_for(target)))
            fake.latency = saved
        config = tmp / f"w{workers}.toml"
        config.write_text(toml(tables), encoding="utf-8")
        Redis.from_url(broker).flushall()
        procs = []
        for n in range(workers):
            log = open(tmp / f"w{workers}-{n}.log", "wb")  # noqa: SIM115
            procs.append(subprocess.Popen(
                [str(EXECUTABLE), "--config", str(config), "-q", "worker", "--broker", broker,
                 "--name", f"b{n}@%h", "--calls-per-account", str(args.cap)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        try:
            app = Celery("bench", broker=broker, backend=broker, set_as_current=False)
            # Workers up first (their start-up is not the throughput being measured).
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=0.5) or []) < workers:
                if time.monotonic() > deadline:
                    raise SystemExit("workers did not start; see the logs in " + str(tmp))
            fake.reset_calls()
            started = time.monotonic()
            results = [app.send_task(TASK, args=[f"shop{i:02d}"]) for i in range(len(shops))]
            outcomes = [r.get(timeout=3600) for r in results]
            wall = time.monotonic() - started
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                p.wait(timeout=60)
        bad = [o for o in outcomes if o["exit_code"] != 0]
        if bad:
            raise SystemExit(f"runs failed: {bad[:3]}")
        calls = sum(fake.calls.values())
        peak = fake.max_in_flight.get("bench", 0)
        records = sum(o["counts"].get("written", 0) for o in outcomes)
    return {"workers": workers, "wall": wall, "calls": calls, "peak": peak, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 shops x (10 customers, 30 orders) at 20 ms, workers 1,2")
    parser.add_argument("--shops", type=int)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--latency-ms", type=float)
    parser.add_argument("--workers", default=None)
    parser.add_argument("--cap", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    q = args.quick
    args.shops = args.shops or (4 if q else 20)
    args.customers = args.customers or (10 if q else 200)
    args.orders = args.orders if args.orders is not None else (30 if q else 600)
    args.latency_ms = args.latency_ms if args.latency_ms is not None else (20 if q else 50)
    counts = [int(w) for w in (args.workers or ("1,2" if q else "1,2,4")).split(",")]
    print(f"bench/scale_out.py: {args.shops} shops x ({args.customers} customers, "
          f"{args.orders} orders), {args.latency_ms:g} ms per SOAP call, "
          f"--calls-per-account {args.cap}, sync.concurrency {args.concurrency}")
    print(f"machine: {machine()}")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
        pg = stack.enter_context(running_postgres())
        broker = stack.enter_context(running_redis()).url
        shops = [stack.enter_context(FakeShop(customers=args.customers, orders=args.orders,
                                              seed=100 + i, now=now))
                 for i in range(args.shops)]
        rows = []
        for n, workers in enumerate(counts):
            rows.append(one_round(workers, shops, pg.create_database(f"bench{n}"), broker,
                                  args, tmp))
    base = rows[0]["records"] / rows[0]["wall"]
    print(f"{'workers':>7} {'records':>8} {'SOAP calls':>10} {'wall s':>8} {'bound s':>8} "
          f"{'wall/bound':>10} {'records/s':>9} {'x 1 worker':>10} {'peak in flight':>14}")
    for r in rows:
        lanes = min(args.cap, r["workers"] * args.concurrency)
        bound = r["calls"] * args.latency_ms / 1000 / lanes
        rate = r["records"] / r["wall"]
        print(f"{r['workers']:>7} {r['records']:>8} {r['calls']:>10} {r['wall']:>8.2f} "
              f"{bound:>8.2f} {r['wall'] / bound:>10.2f} {rate:>9.1f} {rate / base:>10.2f} "
              f"{r['peak']:>14}")
    print("bound = SOAP calls x latency / min(cap, workers x sync.concurrency); peak in flight "
          "is the fake's highest count of calls at once on the account (never above the cap)")
    print("command: python bench/scale_out.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
