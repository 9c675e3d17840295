"""``copernica-sync partner …``: the plugin vendor's tools, never needed by a shop owner.

``partner ingest`` (usage exports into the partner ledger), ``partner statement
preview`` and ``partner margin``.  They live in :mod:`copernica_sdk.licensing.partner`
(the ``partner`` extra) and are imported only when one of these commands runs.
"""

from __future__ import annotations

import click

from .main import exits_cleanly


def _require_partner_extra() -> None:
    """Exit 2 with the install line when the ``partner`` extra is not installed."""
    try:
        from copernica_sdk.licensing.partner import require_extra

        require_extra()
    except ImportError as exc:
        message = str(exc)
        if "copernica-sdk[partner]" not in message:
            message += ": the partner tools need pip install 'copernica-sdk[partner]'"
        raise click.UsageError(message) from None


@click.group()
def partner() -> None:
    """Partner tools: ingest usage, preview statements, compute the margin of pooling.

    Needs the partner extra: pip install 'copernica-sdk[partner]'.

    \b
    Examples:
      copernica-sync partner ingest --ledger partner.sqlite3 exports/*.jsonl
      copernica-sync partner margin docs/examples/partner-margin/plan.toml docs/examples/partner-margin/usage.csv
    """
    _require_partner_extra()


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
    from copernica_sdk.licensing.partner.margin import MarginPlan, load_usage, margin_report

    report = margin_report(MarginPlan.load(plan_path), load_usage(usage_path))
    click.echo(report.render(), nl=False)


@partner.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--ledger", "ledger_path", required=True, type=click.Path(dir_okay=False),
              help="The partner ledger (SQLite; created if missing).")
@click.option("--allow-unsigned", is_flag=True,
              help="Also import files without a signed manifest (hand-made or old exports).")
@click.option("--accept-new-key", is_flag=True,
              help="Re-pin an install whose usage is signed by a new key (its state was rebuilt).")
@exits_cleanly
def ingest(files: tuple[str, ...], ledger_path: str, allow_unsigned: bool,
           accept_new_key: bool) -> None:
    """Import shops' usage exports; importing a file twice changes nothing.

    Each file needs its signed manifest beside it (what `usage export` writes).  The
    first file of an install pins the install's key; unsigned, altered or re-signed
    files are refused (exit 3) unless a flag says otherwise.  A bad file is exit 2.

    \b
    Example:
      copernica-sync partner ingest --ledger partner.sqlite3 exports/*.jsonl
    """
    import sys

    from copernica_sdk.licensing.partner.ledger import PartnerLedger
    from copernica_sdk.licensing.usage_signing import UsageTrustError

    refused = 0
    with PartnerLedger(ledger_path) as ledger:
        for f in files:
            try:
                report = ledger.ingest_file(f, allow_unsigned=allow_unsigned,
                                            accept_new_key=accept_new_key)
            except UsageTrustError as exc:
                refused += 1
                click.echo(f"{f}: REFUSED: {exc}", err=True)
                continue
            click.echo(f"{f}: {report.new} new, {report.duplicate} already known"
                       + (f", {len(report.conflicts)} CONFLICTS" if report.conflicts else "")
                       + (f" [{report.trust}]" if report.trust != "signed" else ""))
    if refused:
        sys.exit(3)


@partner.group()
def statement() -> None:
    """Statement previews for a customer (not invoices).

    \b
    Example:
      copernica-sync partner statement preview --ledger partner.sqlite3 --plan plan.toml --customer cus_123 --period 2025-05
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
      copernica-sync partner statement preview --ledger partner.sqlite3 --plan plan.toml \\
          --customer cus_123 --period 2025-05 --format md
    """
    from copernica_sdk.licensing.partner.ledger import PartnerLedger
    from copernica_sdk.licensing.partner.pricing import PricePlan
    from copernica_sdk.licensing.partner.statement import build_statement, render_statement

    with PartnerLedger(ledger_path) as ledger:
        events = ledger.events(customer_ref=customer, period=period)
    st = build_statement(events, PricePlan.load(plan_path), customer=customer, period=period)
    click.echo(render_statement(st, fmt).decode(), nl=False)
