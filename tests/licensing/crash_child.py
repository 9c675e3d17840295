"""Child process for the SIGKILL tests: sync with the meter, then (maybe) flush.

argv: state_path token mode [collector_url]
mode "sleep": print COMMITTED after the run, then wait to be killed before any flush.
mode "flush": after the run, flush to the collector (the parent kills us mid-flush).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.flush import flush
from copernica_sdk.licensing.sinks import HttpCollectorSink
from copernica_sdk.testing.fake_copernica import FakeCopernica
from tests.licensing.conftest import T0
from tests.licensing.harness import Harness, licensed_connector


def main() -> None:
    state_path, key_pem, token, mode = sys.argv[1:5]
    key = serialization.load_pem_private_key(Path(key_pem).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    with FakeCopernica(host="127.0.0.1", port=0) as fake:
        h = Harness(fake, Path(state_path), licensed_connector(key),
                    FixedClock(T0 + timedelta(days=1)))
        for i in range(10):
            h.source.put(id=i + 1, email=f"p{i}@example.com", name=f"P{i}")
        h.run(h.decide(token))
        print("COMMITTED", h.total(), flush=True)
        if mode == "sleep":
            time.sleep(60)
        else:
            flush(state_path, HttpCollectorSink(sys.argv[5], timeout=30), clock=h.clock)
            print("FLUSHED", flush=True)
            time.sleep(60)


if __name__ == "__main__":
    main()
