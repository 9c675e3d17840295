"""``copernica-sync partner …``: the plugin vendor's tools, never needed by a shop owner.

``partner ingest`` (usage exports into the partner ledger), ``partner statement
preview`` and ``partner margin``.  They live in :mod:`copernica_sdk.licensing.partner`
(the ``partner`` extra) and are imported only when one of these commands runs.
"""

from __future__ import annotations

import sys

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
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--plan", "plan_option", type=click.Path(exists=True, dir_okay=False),
              help="The price plan (instead of the first argument), as for `statement preview`.")
@click.option("--ledger", "ledger_path", type=click.Path(exists=True, dir_okay=False),
              help="Read usage from the partner ledger.")
@click.option("--period", default=None, help="YYYY-MM [default: the only one there is].")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="Write the report here [default: stdout; html needs --out].")
@click.option("--allow-unsigned", is_flag=True, help="Also count unsigned usage exports.")
@exits_cleanly
def margin(paths: tuple[str, ...], plan_option: str | None, ledger_path: str | None,
           period: str | None, fmt: str, out_path: str | None, allow_unsigned: bool) -> None:
    """Per-client revenue, pooled vendor cost and gross profit: [PLAN] [USAGE_FILE]...

    Usage comes from the partner ledger (--ledger), from usage exports (the files
    `usage export` writes, checked like `partner ingest`), or from a hand-made
    `client,<metric>` CSV that models a deal.  PLAN is a price plan with
    [[vendor_bundles]] (docs/licensing.md, "Price plans").  A bad file is exit 2
    with its line and column.

    \b
    Examples:
      copernica-sync partner margin plan.toml --ledger partner.sqlite3 --period 2025-05
      copernica-sync partner margin --plan plan.toml --ledger partner.sqlite3
      copernica-sync partner margin plan.toml exports/usage-2025-05-*.csv
      copernica-sync partner margin docs/examples/partner-margin/plan.toml \\
          docs/examples/partner-margin/usage.csv
    """
    from pathlib import Path

    from copernica_sdk.errors import ConfigError
    from copernica_sdk.licensing.partner.ledger import PartnerLedger
    from copernica_sdk.licensing.partner.margin import (
        load_client_csv,
        margin_report,
        usage_by_client,
    )
    from copernica_sdk.licensing.partner.pricing import PricePlan
    from copernica_sdk.licensing.usage_signing import UsageTrustError

    plan_path, usage_files = (plan_option, paths) if plan_option else (
        (paths[0], paths[1:]) if paths else (None, ()))
    if plan_path is None:
        raise ConfigError("partner margin: give the price plan (PLAN or --plan)")
    if not usage_files and not ledger_path:
        raise ConfigError("partner margin: give usage files or --ledger")
    plan = PricePlan.load(plan_path)
    metric = plan.bundles[0].metric if plan.bundles else None
    hand_made = []
    with PartnerLedger(ledger_path or ":memory:") as ledger:
        for name in usage_files:
            data = Path(name).read_bytes()
            first = data.split(b"\n", 1)[0]
            if name.endswith(".csv") and not first.startswith(b"event_id,"):
                hand_made.extend(load_client_csv(name, data.decode("utf-8", "replace")))
                continue
            try:
                ledger.ingest_file(name, allow_unsigned=allow_unsigned)
            except UsageTrustError as exc:
                click.echo(f"{name}: REFUSED: {exc}", err=True)
                sys.exit(3)
        events = ledger.events()
    periods = sorted({e.period for e in events})
    if events and period is None:
        if len(periods) > 1:
            raise ConfigError(f"partner margin: the usage covers {', '.join(periods)}; "
                              "choose one with --period")
        period = periods[0]
    usage = [*usage_by_client(events, period=period, names=plan.customers, metric=metric),
             *hand_made]
    report = margin_report(plan, usage, period=period)
    if fmt == "html":
        from copernica_sdk.licensing.partner.charts import render_margin_html

        if not out_path:
            raise ConfigError("partner margin --format html: name the file with --out")
        Path(out_path).write_bytes(render_margin_html(report))
        click.echo(f"wrote {out_path}")
        return
    if fmt == "json":
        import json

        body = json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        body = report.render()
    if out_path:
        Path(out_path).write_text(body, encoding="utf-8")
        click.echo(f"wrote {out_path}")
    else:
        click.echo(body, nl=False)


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


@partner.command()
@click.option("--ledger", "ledger_path", required=True, type=click.Path(dir_okay=False),
              help="The partner ledger (SQLite; created if missing).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; put an HTTPS proxy in front of it.")
@click.option("--port", default=8080, show_default=True, type=int, help="0: any free port.")
@click.option("--allow-unsigned", is_flag=True, help="Also accept unsigned batches.")
@click.option("--accept-new-key", is_flag=True,
              help="Re-pin an install whose batches are signed by a new key.")
@exits_cleanly
def collector(ledger_path: str, host: str, port: int, allow_unsigned: bool,
              accept_new_key: bool) -> None:
    """Serve the usage collector (the receiving end of `usage flush`) until stopped.

    Plain HTTP on HOST:PORT; shops send only to https:// (or loopback), so serve it
    behind a TLS-terminating proxy.  The HTTP contract is in docs/licensing.md.

    \b
    Example:
      copernica-sync partner collector --ledger partner.sqlite3 --port 8080
    """
    from werkzeug.serving import make_server

    from copernica_sdk.licensing.partner.collector import collector_app
    from copernica_sdk.licensing.partner.ledger import PartnerLedger

    with PartnerLedger(ledger_path) as ledger:
        app = collector_app(ledger, allow_unsigned=allow_unsigned,
                            accept_new_key=accept_new_key)
        server = make_server(host, port, app, threaded=True)
        click.echo(f"collecting usage at http://{host}:{server.server_port}/ into {ledger_path}",
                   nl=True)
        sys.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


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
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="Write the statement to this file [default: stdout].")
@exits_cleanly
def preview(ledger_path: str, plan_path: str, customer: str, period: str, fmt: str,
            out_path: str | None) -> None:
    """Price a customer's usage for a period: "Preview — not an invoice".

    --format html writes one self-contained page (inline SVG charts: usage per install
    per month, the tier the volume reaches); it opens offline.

    \b
    Examples:
      copernica-sync partner statement preview --ledger partner.sqlite3 --plan plan.toml \\
          --customer cus_123 --period 2025-05 --format md
      copernica-sync partner statement preview --ledger partner.sqlite3 --plan plan.toml \\
          --customer cus_123 --period 2025-05 --format html --out statement.html
    """
    from copernica_sdk.licensing.partner.ledger import PartnerLedger
    from copernica_sdk.licensing.partner.pricing import PricePlan
    from copernica_sdk.licensing.partner.statement import build_statement, render_statement

    with PartnerLedger(ledger_path) as ledger:
        history = ledger.events(customer_ref=customer)
    events = [e for e in history if e.period == period]
    st = build_statement(events, PricePlan.load(plan_path), customer=customer, period=period,
                         history=history)
    body = render_statement(st, fmt)
    if out_path:
        from pathlib import Path

        Path(out_path).write_bytes(body)
        click.echo(f"wrote {out_path}")
    else:
        click.echo(body.decode(), nl=False)
