"""``python -m copernica_sync.connectors.woocommerce.fake_shop``: serve a fake store until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import FakeShop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m copernica_sync.connectors.woocommerce.fake_shop",
        description="Serve a fake WooCommerce store (REST API v3) on loopback HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 = any free port)")
    parser.add_argument("--customers", type=int, default=1000, help="customers to generate")
    parser.add_argument("--orders", type=int, default=3000, help="orders to generate")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and credentials")
    parser.add_argument("--version", dest="wc_version", default="8.9.0",
                        help="WooCommerce version to imitate (5.6.0: no modified filters)")
    parser.add_argument("--guests-ratio", type=float, default=0.3, help="share of guest orders")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of requests answered 500/502/503/504/429 (seeded)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    shop = FakeShop(
        customers=args.customers, orders=args.orders, seed=args.seed, guests_ratio=args.guests_ratio,
        version=args.wc_version, latency=args.latency_ms / 1000.0, host=args.host, port=args.port,
    )
    if args.fault_rate:
        shop.faults.set_rate(args.fault_rate, seed=args.seed)
    try:
        shop.start()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Fake WooCommerce store at {shop.url}", flush=True)
    print(f"API:             {shop.api_url}", flush=True)
    print(f"Consumer key:    {shop.consumer_key}", flush=True)
    print(f"Consumer secret: {shop.consumer_secret}", flush=True)
    print(f"{args.customers} customers, {args.orders} orders, WooCommerce {args.wc_version}. "
          "Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        shop.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
