"""``copernica-sync partner margin`` and ``copernica-sync statement preview``."""

from __future__ import annotations

import click

from .main import exits_cleanly


@click.group()
def partner() -> None:
    """Partner economics: what reselling and pooling earns.

    \b
    Example:
      copernica-sync partner margin docs/examples/partner-margin/plan.toml docs/examples/partner-margin/usage.csv
    """


@partner.command()
@click.argument("plan_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("usage_path", type=click.Path(exists=True, dir_okay=False))
@exits_cleanly
def margin(plan_path: str, usage_path: str) -> None:
    """Per-client revenue, pooled vendor cost and gross profit.

    \b
    Example:
      copernica-sync partner margin docs/examples/partner-margin/plan.toml \\
          docs/examples/partner-margin/usage.csv
    """
    from copernica_sdk.licensing.margin import MarginPlan, load_usage, margin_report

    report = margin_report(MarginPlan.load(plan_path), load_usage(usage_path))
    click.echo(report.render(), nl=False)


@click.group()
def statement() -> None:
    """Statement previews for a customer (not invoices).

    \b
    Example:
      copernica-sync statement preview --ledger partner.sqlite3 --plan plan.toml --customer cus_123 --period 2025-05
    """


@statement.command()
@click.option("--ledger", "ledger_path", required=True, type=click.Path(exists=True,
                                                                        dir_okay=False))
@click.option("--plan", "plan_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--customer", required=True, help="The customer's billing reference.")
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "csv", "json"]), default="md",
              show_default=True)
@exits_cleanly
def preview(ledger_path: str, plan_path: str, customer: str, period: str, fmt: str) -> None:
    """Price a customer's usage for a period: "Preview — not an invoice".

    \b
    Example:
      copernica-sync statement preview --ledger partner.sqlite3 --plan plan.toml \\
          --customer cus_123 --period 2025-05 --format md
    """
    from copernica_sdk.licensing.partner_ledger import PartnerLedger
    from copernica_sdk.licensing.pricing import PricePlan
    from copernica_sdk.licensing.statement import build_statement, render_statement

    with PartnerLedger(ledger_path) as ledger:
        events = ledger.events(customer_ref=customer, period=period)
    st = build_statement(events, PricePlan.load(plan_path), customer=customer, period=period)
    click.echo(render_statement(st, fmt).decode(), nl=False)
