"""``python -m copernica_sdk.testing.fake_copernica``: serve the fake until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import FakeCopernica


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m copernica_sdk.testing.fake_copernica",
        description="Serve a stateful fake of Copernica's SOAP API on loopback HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 = any free port)")
    parser.add_argument("--token", default="fake-token", help="access token for account 'demo'")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0,
        help="least time from a SOAP call's arrival to its answer (the fake's work included)",
    )
    parser.add_argument(
        "--state", default=None, help="SQLite file that keeps state across restarts"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for codes and latency draws")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # SIGTERM (e.g. from a test harness) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake = FakeCopernica(
        host=args.host,
        port=args.port,
        tokens={args.token: "demo"},
        latency=args.latency_ms / 1000.0,
        state_path=args.state,
        seed=args.seed,
    )
    try:
        fake.start()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Fake Copernica SOAP API at {fake.url}", flush=True)
    print(f"WSDL:  {fake.wsdl_url}", flush=True)
    print(f"Token: {fake.token}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
