"""``copernica-sync demo``: the whole product in one command, with no account.

Starts a fake WooCommerce shop and a fake Copernica in this process on
loopback, creates the schema, runs the initial sync, edits some records in the
shop, runs the incremental sync, and shows what happened on both sides.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .main import exits_cleanly

if TYPE_CHECKING:
    from copernica_sdk.sync.report import RunReport
    from copernica_sdk.sync.runner import Job
    from copernica_sdk.testing.fake_copernica import FakeCopernica
    from copernica_sync.connectors.woocommerce.fake_shop import FakeShop


@click.command()
@click.option("--customers", type=click.IntRange(min=1), default=300, show_default=True,
              help="Registered customers in the fake shop.")
@click.option("--orders", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Orders in the fake shop (about a third by guests).")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Delay the fake Copernica adds to every SOAP call, to feel a real network.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the fake shop.")
@click.option("--keep-running", is_flag=True,
              help="Afterwards keep both fakes up and print a ready config to try other "
                   "commands against them; Ctrl-C stops.")
@click.pass_context
@exits_cleanly
def demo(ctx: click.Context, customers: int, orders: int, latency_ms: float, seed: int,
         keep_running: bool) -> None:
    """Sync a fake WooCommerce shop into a fake Copernica: no account, no network.

    \b
    Examples:
      copernica-sync demo
      copernica-sync demo --customers 5000 --orders 20000 --latency-ms 20
      copernica-sync demo --keep-running
    """
    from copernica_sdk import schema
    from copernica_sdk.sync.config import CopernicaSettings, JobConfig, SyncSettings
    from copernica_sdk.sync.runner import open_job, schema_for
    from copernica_sdk.testing.fake_copernica import FakeCopernica
    from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

    if not ctx.find_root().params.get("verbose"):
        # The fake shop holds deliberately hostile names; the per-record warnings about
        # repaired values would bury the demo's output (they are counted instead; -v shows them).
        logging.getLogger("copernica_sdk.sync").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="copernica-sync-demo-"))
    echo = click.echo
    echo(f"Generating a fake WooCommerce shop: {customers} customers, {orders} orders …")
    with FakeShop(customers=customers, orders=orders, seed=seed) as shop, \
            FakeCopernica(latency=latency_ms / 1000) as fake:
        echo(f"  fake shop       {shop.url}")
        echo(f"  fake Copernica  {fake.url}  (+{latency_ms:g} ms per call)")
        config = JobConfig(
            name="demo",
            copernica=CopernicaSettings(access_token=fake.token, endpoint=fake.url),
            source=shop.source_config(),
            target={},
            sync=SyncSettings(state_path=str(workdir / "demo.sqlite3")),
            license={},
        )
        with open_job(config) as job:
            plan = schema.plan(job.client, schema_for(job.target))
            schema.apply(job.client, plan)
            echo(f"\n1. Schema: created database {job.target.database!r} with "
                 f"{len(job.target.database_fields())} fields, collections "
                 f"{', '.join(job.target.collections())}, indexes on the key fields.")

            fake.reset_calls()
            first = _run("2. Initial sync", job, fake)

            changed = _edit_shop(shop)
            echo(f"\n3. Edited the shop: {changed['orders']} orders (new statuses, one trashed, "
                 f"one new guest order) and {changed['customers']} customers (one with a new "
                 "e-mail address).")

            fake.reset_calls()
            second = _run("4. Incremental sync", job, fake)

        _summary(fake, first, second)
        if keep_running:
            _keep_running(fake, shop, workdir)
    sys.exit(max(int(first.exit_code), int(second.exit_code)))


def _run(title: str, job: Job, fake: FakeCopernica) -> RunReport:
    from copernica_sdk.jobs import run_job

    from .output import Progress

    click.echo(f"\n{title}:")
    started = time.monotonic()
    progress = Progress()
    report = run_job(job, job.options(), progress=progress)
    progress.done()
    seconds = time.monotonic() - started
    for stream in report.streams:
        click.echo(f"   {stream.summary()}")
    totals = report.totals()
    calls = fake.calls
    writes = fake.write_calls()
    click.echo(f"   {totals['read']} records in {seconds:.1f} s "
               f"({totals['read'] / max(seconds, 1e-9):.0f} records/s), "
               f"{sum(calls.values())} SOAP calls of which {writes} writes")
    click.echo("   SOAP calls: " + ", ".join(f"{op} {n}" for op, n in
                                              Counter(calls).most_common()))
    return report


def _edit_shop(shop: FakeShop) -> Mapping[str, int]:
    processing = [o["id"] for o in shop.orders if o["status"] == "processing"]
    completed, rest = processing[:10], processing[10:]
    for order_id in completed:
        shop.update_order(order_id, status="completed")
    customers = shop.customers[:3]
    for customer in customers[:2]:
        shop.update_customer(customer["id"], first_name=customer["first_name"] + " (edited)")
    if len(customers) == 3:
        shop.change_email(customers[2]["id"], f"renamed.{customers[2]['id']}@example.org")
    if rest:
        shop.trash_order(rest[0])
    shop.add_order(email="new.guest@example.org")
    # A run reads changes made before the second it starts in; edits from that very
    # second wait for the next run.  Let the clock tick so the demo's run sees them.
    time.sleep(1.1)
    return {"orders": len(completed) + bool(rest) + 1, "customers": len(customers)}


def _summary(fake: FakeCopernica, first: RunReport, second: RunReport) -> None:
    profiles = fake.profiles("Customers")
    orders = fake.subprofiles("Orders")
    lines = fake.subprofiles("OrderItems")
    duplicates = fake.duplicates("Customers", "customer_key")
    click.echo("\nIn Copernica now:")
    click.echo(f"   {len(profiles)} profiles, {len(orders)} orders, {len(lines)} order lines, "
               f"{len(duplicates)} duplicate profiles")
    t1, t2 = first.totals(), second.totals()
    click.echo(f"   initial sync wrote {t1['written']} records; the incremental sync read "
               f"{t2['read']}, found {t2['unchanged']} unchanged and wrote only the "
               f"{t2['written']} that changed")
    dead = t1["dead_lettered"] + t2["dead_lettered"]
    if dead:
        click.echo(f"   {dead} records could not be synced; they are in the dead-letter table "
                   "with the reason")


def _keep_running(fake: FakeCopernica, shop: FakeShop, workdir: Path) -> None:
    config = workdir / "copernica-sync.toml"
    source = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in shop.source_config().items())
    config.write_text(
        f'[copernica]\naccess_token = "{fake.token}"\nendpoint = "{fake.url}"\n\n'
        f"[source]\n{source}\n\n[sync]\nstate_path = \"{workdir / 'demo.sqlite3'}\"\n",
        encoding="utf-8")
    click.echo(f"\nBoth fakes keep running. A ready config: {config}\nTry:\n"
               f"   copernica-sync --config {config} state show\n"
               f"   copernica-sync --config {config} run\n"
               f"   copernica-sync --config {config} dlq list\n"
               "Ctrl-C stops the fakes.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopped")
