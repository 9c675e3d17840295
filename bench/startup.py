"""Benchmark: start-up costs a cron user pays on every run.

- ``copernica-sync --help`` as a fresh process (target ≤ 150 ms),
- bare ``python -c pass`` as the baseline for that,
- building a client from the bundled WSDL after ``import copernica_sdk.client``
  (target ≤ 60 ms), and a second client in the same process (shares the parsed WSDL).

Run it: ``python bench/startup.py [--repeat 9]``.  Medians of fresh processes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLIENT_SNIPPET = """
import json, time
import copernica_sdk.client as c
t0 = time.perf_counter(); c.CopernicaClient("t", endpoint="https://soap.copernica.com")
t1 = time.perf_counter(); c.CopernicaClient("u", endpoint="https://soap.copernica.com")
t2 = time.perf_counter()
print(json.dumps({"first": t1 - t0, "second": t2 - t1}))
"""


def wall(cmd: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    beside = Path(sys.executable).parent / "copernica-sync"  # the venv's script
    cli = str(beside) if beside.exists() else shutil.which("copernica-sync") or "copernica-sync"
    python = wall([sys.executable, "-c", "pass"], args.repeat)
    help_ = wall([cli, "--help"], args.repeat)
    firsts, seconds = [], []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CLIENT_SNIPPET], check=True,
                             capture_output=True, text=True).stdout
        data = json.loads(out)
        firsts.append(data["first"])
        seconds.append(data["second"])
    print(f"bench/startup.py: medians of {args.repeat} fresh processes "
          f"({platform.machine()}, Python {platform.python_version()})")
    print(f"  python -c pass                      {python * 1000:7.1f} ms   (baseline)")
    print(f"  copernica-sync --help               {help_ * 1000:7.1f} ms   (target <= 150 ms)")
    print(f"  first client after import           {statistics.median(firsts) * 1000:7.1f} ms   "
          "(target <= 60 ms; parses the bundled WSDL)")
    print(f"  second client, same process         {statistics.median(seconds) * 1000:7.2f} ms")
    print(f"command: python bench/startup.py --repeat {args.repeat}")


if __name__ == "__main__":
    main()
