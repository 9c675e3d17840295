"""A fleet for the scale-out tests: many fake shops, one fake Copernica (one account,
a database per shop), a config with a job per shop whose state is in PostgreSQL,
and real ``copernica-sync worker`` / ``scheduler`` processes on a real Redis."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from copernica_sdk import CopernicaClient, schema
from copernica_sdk._sql import job_location, schema_name
from copernica_sdk.licensing.ledger import open_ledger
from copernica_sdk.scale.app import TASK
from copernica_sdk.sync.mapping import parse_target
from copernica_sdk.sync.runner import schema_for
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import clean_env, toml_text
from ..reliability.conftest import (
    EXECUTABLE,
    ROOT,
    TOKEN,
    Snapshot,
    make_shop,
    reference_snapshot,
    woo_connector,
)
from ..reliability.licensed_connector import NAME, install_plugin

PER_PAGE = 5


def job_name(i: int) -> str:
    return f"shop{i:02d}"


def database(i: int) -> str:
    return f"Shop{i:02d}"


def snapshot_of(fake: FakeCopernica, db: str) -> Snapshot:
    """Like tests.reliability.conftest.snapshot, for one database of the account."""
    profiles = fake.profiles(db)
    key_of = {p["id"]: p["fields"].get("customer_key") for p in profiles}
    out: Snapshot = {"profiles": {}, "Orders": {}, "OrderItems": {}}
    for p in profiles:
        out["profiles"][p["fields"]["customer_key"]] = dict(p["fields"])
    for collection, key in (("Orders", "order_id"), ("OrderItems", "item_key")):
        for s in fake.subprofiles(collection, database=db):
            out[collection][s["fields"][key]] = {"profile": key_of.get(s["profile"]),
                                                 **s["fields"]}
    return out


def duplicates_of(fake: FakeCopernica, db: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "profiles": fake.duplicates(db, "customer_key"),
        "Orders": fake.subprofile_duplicates("Orders", "order_id", database=db),
        "OrderItems": fake.subprofile_duplicates("OrderItems", "item_key", database=db),
    }
    raw = {"profiles": len(fake.profiles(db))}
    for collection, key in (("Orders", "order_id"), ("OrderItems", "item_key")):
        subs = fake.subprofiles(collection, database=db)
        raw[collection] = len(subs)
        if len({s["fields"][key] for s in subs}) != len(subs):
            found[f"{collection} across profiles"] = True
    return {k: v for k, v in found.items() if v}


@dataclass
class Fleet:
    tmp: Path
    shops: list[FakeShop]
    fake: FakeCopernica
    postgres_url: str
    broker: str
    expected: list[Snapshot]
    config: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def jobs(self) -> list[str]:
        return [job_name(i) for i in range(len(self.shops))]

    def records(self, i: int) -> int:
        return len(self.shops[i].customers) + len(self.shops[i].orders)

    # -- processes -------------------------------------------------------------------

    def start(self, command: str, *args: str) -> subprocess.Popen[bytes]:
        """``copernica-sync worker|scheduler …`` in a session of its own (so a kill
        takes the worker's pool children with it)."""
        log = open(self.tmp / f"{command}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([str(EXECUTABLE), "--config", str(self.config), command,
                                 "--broker", self.broker, *args],
                                stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp,
                                env=self.env, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        return self.start("worker", "--visibility-timeout", "6", *args)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole worker: its main process and its pool's children."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp.glob("*.log")))

    # -- the queue -------------------------------------------------------------------

    def app(self) -> Any:
        """A plain Celery client of the queue (the jobs' connector is the workers'
        business: this process need not load it)."""
        from celery import Celery

        return Celery("fleet-test", broker=self.broker, backend=self.broker,
                      set_as_current=False)

    def enqueue(self, *jobs: str) -> list[Any]:
        app = self.app()
        return [app.send_task(TASK, args=[job]) for job in jobs]

    # -- what the runs left ------------------------------------------------------------

    def runs(self, job: str) -> list[tuple[int, str, str | None, int | None]]:
        with psycopg.connect(self.postgres_url) as conn:
            return [tuple(r) for r in conn.execute(  # type: ignore[misc]
                f'SELECT id, started_at, ended_at, exit_code FROM "{schema_name(job)}".runs '
                "ORDER BY id").fetchall()]

    def usage(self, job: str) -> dict[str, int]:
        with open_ledger(job_location(self.postgres_url, job)) as conn:
            rows = conn.execute("SELECT metric, SUM(quantity) FROM usage_events "
                                "GROUP BY metric").fetchall()
        return {str(m): int(q) for m, q in rows}

    def assert_exact(self, i: int) -> None:
        db = database(i)
        assert duplicates_of(self.fake, db) == {}, (db, duplicates_of(self.fake, db))
        assert snapshot_of(self.fake, db) == self.expected[i], db

    def assert_never_overlapped(self, job: str) -> None:
        """A job's runs one after the other (the run log in its state)."""
        runs = self.runs(job)
        for before, after in itertools.pairwise(runs):
            assert before[2] is None or before[2] <= after[1], (job, runs)


def wait_until(predicate: Any, seconds: float, what: str, fleet: Fleet | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}\n"
                                 + (fleet.logs() if fleet else ""))
        time.sleep(0.1)  # polling for the processes' results, not a fixed wait


@contextmanager
def fleet(tmp: Path, postgres_url: str, broker: str, *, shops: int, customers: int = 4,
          orders: int = 8, schedule: str | None = None, concurrency: int = 4,
          latency: float = 0.0) -> Iterator[Fleet]:
    """``shops`` fake shops (different data each), one fake Copernica with a database
    per shop (schema applied), a config with one licensed job per shop."""
    with ExitStack() as stack:
        made = [stack.enter_context(make_shop(customers=customers, orders=orders, seed=100 + i))
                for i in range(shops)]
        for i in range(shops):
            (tmp / f"ref{i}").mkdir()
        expected = [reference_snapshot(shop, tmp / f"ref{i}") for i, shop in enumerate(made)]
        fake = stack.enter_context(FakeCopernica(tokens={TOKEN: "demo"}, latency=latency))
        plugins = install_plugin(tmp / "plugins")
        tables: dict[str, dict[str, Any]] = {
            "copernica": {"access_token": TOKEN, "endpoint": fake.url, "timeout": 10},
            "sync": {"state_url": postgres_url, "concurrency": concurrency,
                     **({"schedule": schedule} if schedule else {})},
            "license": {"mode": "observe"},
        }
        with CopernicaClient(TOKEN, endpoint=fake.url) as client:
            for i, shop in enumerate(made):
                source = shop.source_config(connector=NAME, per_page=PER_PAGE)
                tables[f"jobs.{job_name(i)}.source"] = source
                tables[f"jobs.{job_name(i)}.target"] = {"database": database(i)}
                target = parse_target({"database": database(i)},
                                      woo_connector(shop).default_mapping())
                schema.apply(client, schema.plan(client, schema_for(target)))
        config = tmp / "copernica-sync.toml"
        config.write_text(toml_text(tables), encoding="utf-8")
        env = clean_env(PYTHONPATH=os.pathsep.join([str(plugins), str(ROOT)]))
        f = Fleet(tmp, made, fake, postgres_url, broker, expected, config, env)
        try:
            yield f
        finally:
            f.stop_all()
