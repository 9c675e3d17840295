"""`partner margin` from what was metered: the ledger, usage exports, one plan format."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.clock import FixedClock
from copernica_sdk.licensing.errors import PlanError
from copernica_sdk.licensing.export import export_period
from copernica_sdk.licensing.ledger import UsageEvent, event_id
from copernica_sdk.licensing.partner.ledger import PartnerLedger
from copernica_sdk.licensing.partner.pricing import PricePlan, rate
from copernica_sdk.licensing.partner.statement import build_statement, render_statement
from copernica_sdk.licensing.token import sign_token
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.cli.cmd_partner import partner

from .conftest import PERIOD, T0, make_claims
from .harness import Harness, licensed_connector

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "partner-margin"


def _event(client: int, install: str, metric: str, qty: int, seq: int,
           env: str = "production") -> UsageEvent:
    return UsageEvent(event_id("t", install, metric, seq), "2025-05-10T00:00:00Z", "2025-05",
                      metric, qty, "emails" if metric != "install_month" else "", install,
                      f"shop{client}.nl", env, "acme-mail", "L", f"cus_{client:02d}", 1, seq,
                      "valid", "")


def vendor_ledger(path: Path) -> Path:
    """10 clients x 50,000 e-mails in one month, metered by two installs each (25,000
    apiece), plus a staging install that must not count."""
    events = []
    for c in range(1, 11):
        for half in ("a", "b"):
            install = f"i{c:02d}{half}"
            events.append(_event(c, install, "install_month", 1, 0))
            events.append(_event(c, install, "emails", 20_000, 1))
            events.append(_event(c, install, "emails", 5_000, 2))
    events.append(_event(1, "staging1", "emails", 999_999, 3, env="staging"))
    with PartnerLedger(path) as ledger:
        ledger.ingest_events(events)
    return path


def _plan_with_names(tmp_path: Path) -> Path:
    names = "\n".join(f'cus_{c:02d} = "Client {c:02d}"' for c in range(1, 11))
    plan = tmp_path / "plan.toml"
    plan.write_text((EXAMPLE / "plan.toml").read_text() + f"\n[customers]\n{names}\n")
    return plan


def test_vendor_pooled_volume_example_prints_exactly_from_a_ledger(tmp_path: Path) -> None:
    ledger = vendor_ledger(tmp_path / "partner.sqlite3")
    out = CliRunner().invoke(partner, ["margin", str(_plan_with_names(tmp_path)),
                                       "--ledger", str(ledger), "--period", "2025-05"])
    assert out.exit_code == 0, out.output
    assert out.output == (EXAMPLE / "expected-output.txt").read_text(encoding="utf-8")
    assert "Gross profit: €5,750.00" in out.output
    same = CliRunner().invoke(partner, ["margin", "--plan", str(_plan_with_names(tmp_path)),
                                        "--ledger", str(ledger)])  # the only period there is
    assert same.exit_code == 0 and same.output == out.output, same.output


def test_usage_export_csv_fed_to_margin_works_and_is_no_longer_exit_5(
        copernica_fake: FakeCopernica, tmp_path: Path, partner_key: Ed25519PrivateKey) -> None:
    h = Harness(copernica_fake, tmp_path / "state.sqlite3", licensed_connector(partner_key),
                FixedClock(T0 + timedelta(days=1)))
    try:
        for i in range(6):
            h.source.put(id=i + 1, email=f"p{i}@example.com", name=f"P{i}")
        h.run(h.decide(sign_token(make_claims(), partner_key)))
        export = export_period(h.state_path, PERIOD, tmp_path / "out", "csv")
    finally:
        h.close()
    plan = tmp_path / "plan.toml"
    plan.write_text('currency = "EUR"\n[install_fee]\namount = "15.00"\n[[metered]]\n'
                    'metric = "records_synced"\nunit = 1000\n'
                    'tiers = [{up_to = "inf", price = "1.00"}]\n'
                    '[[vendor_bundles]]\nvolume = 100000\nprice = "5.00"\n'
                    '[customers]\ncus_123 = "Shop BV"\n')
    out = CliRunner().invoke(partner, ["margin", str(plan), str(export.data_path)])
    assert out.exit_code == 0, out.output
    assert "Shop BV" in out.output and "Revenue:      €15.01" in out.output
    assert "Gross profit: €10.01" in out.output


@pytest.mark.parametrize(("name", "content", "where"), [
    ("usage.csv", "client,emails\nClient 01,50000\nClient 02,lots\n", "line 3, column 11"),
    ("usage.csv", "client,emails\nClient 01\n", "line 2, column 10"),
    ("usage.jsonl", '{"event_id": "cpe1_x"}\n{"event_id": \n', "line 1, column"),
    ("usage.jsonl", '{"broken": \n', "line 1, column 12"),
])
def test_bad_usage_file_is_exit_2_with_line_and_column(tmp_path: Path, name: str,
                                                       content: str, where: str) -> None:
    bad = tmp_path / name
    bad.write_text(content)
    out = CliRunner().invoke(partner, ["margin", str(EXAMPLE / "plan.toml"), str(bad),
                                       "--allow-unsigned"])
    assert out.exit_code == 2, out.output
    assert where in out.output and str(bad) in out.output and "Traceback" not in out.output


def test_bad_export_line_names_its_field_column(tmp_path: Path) -> None:
    ledger = vendor_ledger(tmp_path / "p.sqlite3")
    with PartnerLedger(ledger) as led:
        events = led.events()[:3]
    from copernica_sdk.licensing.export import render_events
    text = render_events(events, "csv").decode().splitlines()
    cells = text[2].split(",")
    cells[4] = "many"  # quantity, the 5th column
    text[2] = ",".join(cells)
    bad = tmp_path / "usage-2025-05-x.csv"
    bad.write_text("\n".join(text) + "\n")
    out = CliRunner().invoke(partner, ["ingest", "--ledger", str(tmp_path / "q.sqlite3"),
                                       "--allow-unsigned", str(bad)])
    assert out.exit_code == 2 and "line 3, column 5: quantity" in out.output, out.output


def test_statement_plan_and_margin_plan_are_one_format(tmp_path: Path) -> None:
    plan = PricePlan.load(EXAMPLE / "plan.toml")      # the margin example's plan …
    ledger = vendor_ledger(tmp_path / "p.sqlite3")
    with PartnerLedger(ledger) as led:
        events = led.events(customer_ref="cus_03", period="2025-05")
    st = build_statement(events, plan, customer="cus_03", period="2025-05")  # … prices a statement
    assert st.total == Decimal("650.00")
    assert "50,000 emails" in render_statement(st, "md").decode()
    with pytest.raises(PlanError, match="old margin-plan format"):
        PricePlan.from_mapping({"prices": {"list": [{"up_to": 50000, "price": "650.00"}]},
                                "vendor_bundles": [{"volume": 500000, "price": "750.00"}]})
    old = tmp_path / "old.toml"
    old.write_text('metric = "emails"\n[prices]\nlist = [{up_to = 50000, price = "650.00"}]\n')
    out = CliRunner().invoke(partner, ["margin", str(old), str(EXAMPLE / "usage.csv")])
    assert out.exit_code == 2 and "old margin-plan format" in out.output


def test_statement_quantity_shows_the_unit_not_a_fraction() -> None:
    plan = PricePlan.from_mapping({"metered": [{"metric": "records_synced", "unit": 1000,
                                                "tiers": [{"up_to": "inf", "price": "0.50"}]}]})
    lines = rate(plan, install_months=1, quantities={"records_synced": 100})
    st_lines = [ln for ln in lines if ln.noun == "records"]
    assert st_lines[0].quantity == 100 and st_lines[0].units == Decimal("0.1")
    from copernica_sdk.licensing.partner.statement import quantity_text, unit_price_text
    assert quantity_text(st_lines[0]) == "100 records"
    assert unit_price_text(st_lines[0], "EUR") == "€0.50 per 1,000 records"



def test_margin_over_several_months_asks_for_the_period(tmp_path: Path) -> None:
    ledger = vendor_ledger(tmp_path / "partner.sqlite3")
    with PartnerLedger(ledger) as led:
        led.ingest_events([UsageEvent(event_id("june", 1), "2025-06-02T00:00:00Z", "2025-06",
                                      "emails", 10, "emails", "i01a", "shop1.nl", "production",
                                      "acme-mail", "L", "cus_01", 2, 0, "valid", "")])
    out = CliRunner().invoke(partner, ["margin", str(_plan_with_names(tmp_path)), "--ledger",
                                       str(ledger)])
    assert out.exit_code == 2 and "2025-05, 2025-06" in out.output and "--period" in out.output
    june = CliRunner().invoke(partner, ["margin", str(_plan_with_names(tmp_path)), "--ledger",
                                        str(ledger), "--period", "2025-06", "--format", "json"])
    assert june.exit_code == 0, june.output
    import json
    report = json.loads(june.output)
    assert report["pooled_volume"] == 10 and report["clients"][0]["client"] == "Client 01"
