"""Shared helpers of the sync benchmarks: fakes in their own processes, the engine, a snapshot.

The fakes (Copernica and the WooCommerce shop) run as separate processes so they
do not share the benchmark's GIL.  Each child serves over loopback HTTP like
``python -m copernica_sdk.testing.fake_copernica`` does, and also answers small
JSON requests on stdin (``calls``, ``reset_calls``, ``update_order``, a
``snapshot`` of the end state, or only its ``counts`` for large runs) so a
benchmark can count calls, edit the shop and compare end states without
reaching into another process's memory.  ``run_engine`` is one initial sync by
our engine into a fresh fake; ``compare`` says how two end states differ.

Run as a child only: ``python bench/_harness.py copernica|shop '<json options>'``.
"""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Snapshot = dict[str, Any]

#: The fake shop's frozen clock: the generated data is the same whatever day a bench runs.
SHOP_NOW = "2025-06-01T12:00:00+00:00"


def machine() -> str:
    """One line naming the machine: cores, CPU model, Python version."""
    import os

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def command_line() -> str:
    """The command that reproduces the current run."""
    return " ".join(["python", *sys.argv])


# ---------------------------------------------------------------------------
# Fakes in child processes


class Served:
    """A fake running in a child process; ``info`` is what it printed on start."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, kind, json.dumps(options)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"fake {kind} did not start (exit {self.proc.wait()})")
        self.info: dict[str, Any] = json.loads(line)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` (or read the attribute) on the fake in the child; JSON result."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"method": method, "args": args, "kwargs": kwargs}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fake_copernica(latency_ms: float, seed: int = 1, returns_items: bool = True) -> Served:
    """A fresh fake Copernica in its own process (``info``: url, wsdl_url, token).
    ``returns_items=False``: its ``Database_updateProfiles`` reports no profiles
    (whether the real service does is unverified, docs/copernica-api-notes.md)."""
    return Served("copernica", latency_ms=latency_ms, seed=seed, returns_items=returns_items)


def fake_shop(customers: int, orders: int, seed: int = 1, now: str | None = None) -> Served:
    """A fake WooCommerce shop in its own process (``info["source"]``: a [source] table).

    ``now`` (ISO-8601) freezes the shop's clock, so its data does not depend on the
    day the benchmark runs.
    """
    return Served("shop", customers=customers, orders=orders, seed=seed, now=now)


def _snapshot(fake: Any, database: str, profile_key: str,
              collections: Mapping[str, str]) -> Snapshot:
    """The end state by key: profiles, subprofiles per collection, and duplicate counts."""
    profiles = fake.profiles(database)
    key_of = {p["id"]: p["fields"].get(profile_key, "") for p in profiles}
    out: Snapshot = {
        "profiles": {key_of[p["id"]]: p["fields"] for p in profiles},
        "profile_count": len(profiles),
        "duplicates": sum(len(ids) - 1 for ids in fake.duplicates(database, profile_key).values()),
        "subprofiles": {}, "subprofile_count": {}, "subprofile_duplicates": {},
    }
    for name, key_field in collections.items():
        subs = fake.subprofiles(name)
        out["subprofiles"][name] = {f"{key_of[s['profile']]}|{s['fields'].get(key_field, '')}":
                                    s["fields"] for s in subs}
        out["subprofile_count"][name] = len(subs)
        dups = fake.subprofile_duplicates(name, key_field)
        out["subprofile_duplicates"][name] = sum(len(ids) - 1 for ids in dups.values())
    return out


def _counts(fake: Any, database: str, profile_key: str,
            collections: Mapping[str, str]) -> Snapshot:
    """The end state's sizes and duplicate counts, without its fields (for large runs)."""
    out: Snapshot = {
        "profile_count": len(fake.profiles(database)),
        "duplicates": sum(len(ids) - 1 for ids in fake.duplicates(database, profile_key).values()),
        "subprofile_count": {}, "subprofile_duplicates": {},
    }
    for name, key_field in collections.items():
        out["subprofile_count"][name] = len(fake.subprofiles(name))
        dups = fake.subprofile_duplicates(name, key_field)
        out["subprofile_duplicates"][name] = sum(len(ids) - 1 for ids in dups.values())
    return out


def entities(snap: Snapshot) -> int:
    """Profiles plus subprofiles of an end state (a snapshot or its counts)."""
    return int(snap["profile_count"]) + sum(int(n) for n in snap["subprofile_count"].values())


def duplicate_count(snap: Snapshot) -> int:
    """Profiles and subprofiles beyond the first with the same key."""
    return int(snap["duplicates"]) + sum(int(n) for n in snap["subprofile_duplicates"].values())


def compare(mine: Snapshot, theirs: Snapshot, skip_fields: set[str],
            sides: tuple[str, str] = ("ours", "naive")) -> list[str]:
    """Differences between two end states (duplicates, keys on one side only, and
    fields other than ``skip_fields`` by key); empty when they are the same."""
    problems: list[str] = []
    for side, snap in zip(sides, (mine, theirs), strict=True):
        if duplicate_count(snap):
            problems.append(f"{side}: duplicates {snap['duplicates']} profiles, "
                            f"{snap['subprofile_duplicates']} subprofiles")
    pairs = [("profiles", mine["profiles"], theirs["profiles"])]
    pairs += [(name, mine["subprofiles"][name], theirs["subprofiles"][name])
              for name in theirs["subprofiles"]]
    for kind, left, right in pairs:
        if left.keys() != right.keys():
            only = sorted(left.keys() ^ right.keys())
            problems.append(f"{kind}: {len(only)} keys on one side only, e.g. {only[:3]}")
        for key in sorted(left.keys() & right.keys()):
            a = {k: v for k, v in left[key].items() if k not in skip_fields}
            b = {k: v for k, v in right[key].items() if k not in skip_fields}
            if a != b:
                diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
                problems.append(f"{kind} {key!r}: {diff}")
    return problems


def _child(kind: str, options: dict[str, Any]) -> None:
    """Serve one fake and answer JSON requests on stdin until stdin closes."""
    fake: Any
    if kind == "copernica":
        from copernica_sdk.testing.fake_copernica import FakeCopernica

        fake = FakeCopernica(latency=options["latency_ms"] / 1000, seed=options["seed"],
                             updateprofiles_returns_items=options.get("returns_items", True)
                             ).start()
        info = {"url": fake.url, "wsdl_url": fake.wsdl_url, "token": fake.token}
    else:
        from datetime import datetime

        from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

        now = datetime.fromisoformat(options["now"]) if options.get("now") else None
        fake = FakeShop(customers=options["customers"], orders=options["orders"],
                        seed=options["seed"], now=now).start()
        info = {"source": fake.source_config()}
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["method"] in ("snapshot", "counts"):
                inspect = _snapshot if request["method"] == "snapshot" else _counts
                result: Any = inspect(fake, *request["args"], **request["kwargs"])
            else:
                attr = getattr(fake, request["method"])
                result = attr(*request["args"], **request["kwargs"]) if callable(attr) else attr
                if isinstance(result, Mapping):
                    result = dict(result)
            reply = {"result": result}
        except Exception as exc:  # reported to the parent, which raises
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply, default=str), flush=True)
    fake.stop()


# ---------------------------------------------------------------------------
# The engine


@dataclass
class EngineRun:
    """One run of the engine: its report's totals and wall time."""

    totals: dict[str, int]
    seconds: float
    streams: list[str]


class Engine:
    """Our engine wired as ``copernica-sync demo`` does, against served fakes."""

    def __init__(self, copernica: Served, shop: Served, *, concurrency: int = 8,
                 state_dir: str | None = None) -> None:
        from copernica_sdk.sync.config import CopernicaSettings, JobConfig, SyncSettings

        logging.getLogger("copernica_sdk.sync").setLevel(logging.ERROR)
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-") if state_dir is None else None
        folder = state_dir or (self._tmp.name if self._tmp else ".")
        self.config = JobConfig(
            name="bench",
            copernica=CopernicaSettings(access_token=copernica.info["token"],
                                        endpoint=copernica.info["url"]),
            source=shop.info["source"], target={},
            sync=SyncSettings(state_path=str(Path(folder) / "bench.sqlite3"),
                              concurrency=concurrency),
            license={},
        )

    @contextmanager
    def job(self) -> Iterator[Any]:
        from copernica_sdk.sync.runner import open_job

        with open_job(self.config) as job:
            yield job

    def create_schema(self) -> None:
        """Create the database, collections and fields of the default mapping."""
        from copernica_sdk import schema
        from copernica_sdk.sync.runner import schema_for

        with self.job() as job:
            schema.apply(job.client, schema.plan(job.client, schema_for(job.target)))

    def run(self) -> EngineRun:
        """One sync run (initial or incremental, depending on the state file)."""
        from copernica_sdk.jobs import run_job

        with self.job() as job:
            start = time.perf_counter()
            report = run_job(job, job.options())
            seconds = time.perf_counter() - start
        return EngineRun(report.totals(), seconds, [s.summary() for s in report.streams])

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


@dataclass
class Result:
    """What one side did: records read, SOAP calls made, wall time, connections."""

    name: str
    records: int
    calls: int
    seconds: float
    concurrency: int
    skipped: int = 0
    connections: int = 0
    setup_calls: int = 0


def run_engine(shop: Served, latency_ms: float, *, concurrency: int, seed: int = 1,
               returns_items: bool = True) -> tuple[Result, Snapshot, dict[str, int]]:
    """One initial sync by our engine into a fresh fake Copernica (schema created first,
    outside the counts); its result, the end-state snapshot and the calls by operation.
    ``setup_calls`` are the run's non-write calls (lookups of the database, collections
    and fields)."""
    with fake_copernica(latency_ms, seed=seed, returns_items=returns_items) as copernica:
        engine = Engine(copernica, shop, concurrency=concurrency)
        try:
            engine.create_schema()
            copernica.call("reset_calls")
            copernica.call("reset_connections")
            run = engine.run()
        finally:
            engine.close()
        calls: dict[str, int] = copernica.call("calls")
        writes: int = copernica.call("write_calls")
        connections: int = copernica.call("connections_opened")
        target = target_mapping(shop)
        snap: Snapshot = copernica.call("snapshot", target.database, target.profile_key,
                                        collection_keys(target))
    total = sum(calls.values())
    result = Result("ours", run.totals["read"], total, run.seconds, concurrency,
                    run.totals["dead_lettered"], connections, total - writes)
    return result, snap, calls


def target_mapping(shop: Served) -> Any:
    """The connector's default target mapping for this shop (database, streams, keys)."""
    from copernica_sdk.sync.mapping import parse_target
    from copernica_sdk.sync.registry import load_connector

    source = {k: v for k, v in shop.info["source"].items() if k != "connector"}
    connector = load_connector("woocommerce")(source)
    try:
        return parse_target({}, connector.default_mapping())
    finally:
        connector.close()


def collection_keys(target: Any) -> dict[str, str]:
    """Collection name -> its key field, over every stream of ``target``."""
    return {c.name: c.key_field for s in target.streams.values() for c in s.collections}


def aggregate_fields(target: Any) -> set[str]:
    """The profile fields our engine aggregates (a naive loop does not write them)."""
    return {a.name for s in target.streams.values() if s.aggregates for a in s.aggregates.fields}


if __name__ == "__main__":
    _child(sys.argv[1], json.loads(sys.argv[2]))
