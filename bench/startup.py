"""Benchmark: start-up costs a cron user pays on every run.

- ``copernica-sync --help`` as a fresh process (target ≤ 150 ms),
- bare ``python -c pass`` as the baseline for that,
- building a client from the bundled WSDL after ``import copernica_sdk.client``
  (target ≤ 60 ms), and a second client in the same process (shares the parsed WSDL);
- the cron cost: ``copernica-sync -q run`` with nothing to do (target ≤ 0.5 s), against
  a fake shop and a fake Copernica in their own processes, after an initial run; its
  wall time and the CPU time of the run's process.

Run it: ``python bench/startup.py [--repeat 9] [--no-cron] [--env-as-is]``.  Medians of fresh processes.

Every process runs with cached bytecode, as an installed package does (pip compiles
it at install time) — whatever the environment says: ``PYTHONDONTWRITEBYTECODE``
(set in some containers, this sandbox among them) is dropped and the cache goes to
a temporary ``PYTHONPYCACHEPREFIX``, warmed by one run of each command first.
Without it the figures depended on whether something (a test run) had happened to
leave ``__pycache__`` directories in the tree, and every module not cached was
compiled from source on each run (~0.1 s of the cron cost).  ``--env-as-is``
measures the old way (the environment and the tree as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def child_env(pycache: str) -> dict[str, str]:
    """The environment of every measured process: bytecode cached in ``pycache``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


ENV: dict[str, str] = {}  # set in main(): child_env(a temporary directory)


def wall(cmd: list[str], repeat: int) -> float:
    samples = []
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)  # warm the cache
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cron_cost(cli: str, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``copernica-sync -q run`` with nothing to do."""
    from _harness import fake_copernica, fake_shop

    with fake_copernica(latency_ms=0) as copernica, \
            fake_shop(20, 60, now="2025-06-01T12:00:00+00:00") as shop, \
            tempfile.TemporaryDirectory(prefix="bench-cron-") as tmp:
        config = Path(tmp) / "shop.toml"
        tables = {"copernica": {"access_token": copernica.info["token"],
                                "endpoint": copernica.info["url"]},
                  "source": shop.info["source"],
                  "sync": {"state_path": str(Path(tmp) / "state.sqlite3")}}
        config.write_text("".join(
            f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
            for name, values in tables.items()), encoding="utf-8")
        os.chmod(config, 0o600)
        command = [cli, "--config", str(config)]
        # Schema, the initial sync, then one nothing-to-do run to warm the bytecode cache.
        for setup in (["schema", "apply"], ["-q", "run"], ["-q", "run"]):
            subprocess.run([*command, *setup], check=True, capture_output=True, env=ENV)
        walls, cpus = [], []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([*command, "-q", "run"], check=True, capture_output=True, env=ENV)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-cron", action="store_true", help="skip the cron-cost row")
    parser.add_argument("--env-as-is", action="store_true",
                        help="no bytecode cache of our own: the environment as it is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        ENV.update(os.environ if args.env_as_is else child_env(pycache))
        measure(args)


def measure(args: argparse.Namespace) -> None:
    beside = Path(sys.executable).parent / "copernica-sync"  # the venv's script
    cli = str(beside) if beside.exists() else shutil.which("copernica-sync") or "copernica-sync"
    python = wall([sys.executable, "-c", "pass"], args.repeat)
    help_ = wall([cli, "--help"], args.repeat)
    firsts, seconds = [], []
    subprocess.run([sys.executable, "-c", CLIENT_SNIPPET], check=True, capture_output=True,
                   env=ENV)  # warm the cache
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CLIENT_SNIPPET], check=True,
                             capture_output=True, text=True, env=ENV).stdout
        data = json.loads(out)
        firsts.append(data["first"])
        seconds.append(data["second"])
    print(f"bench/startup.py: medians of {args.repeat} fresh processes "
          f"({platform.machine()}, Python {platform.python_version()}, "
          + ("environment as is)" if args.env_as_is else "bytecode cached)"))
    print(f"  python -c pass                      {python * 1000:7.1f} ms   (baseline)")
    print(f"  copernica-sync --help               {help_ * 1000:7.1f} ms   (target <= 150 ms)")
    print(f"  first client after import           {statistics.median(firsts) * 1000:7.1f} ms   "
          "(target <= 60 ms; parses the bundled WSDL)")
    print(f"  second client, same process         {statistics.median(seconds) * 1000:7.2f} ms")
    if not args.no_cron:
        cron_wall, cron_cpu = cron_cost(cli, args.repeat)
        print(f"  copernica-sync -q run, nothing to do {cron_wall * 1000:6.0f} ms   (target <= 500 ms; "
              f"CPU {cron_cpu * 1000:.0f} ms)")
    print(f"command: python bench/startup.py --repeat {args.repeat}"
          + (" --no-cron" if args.no_cron else "") + (" --env-as-is" if args.env_as_is else ""))


if __name__ == "__main__":
    main()
