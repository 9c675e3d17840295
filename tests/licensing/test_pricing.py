"""Tier math, statement preview and the partner margin example."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from copernica_sdk.licensing.errors import PlanError
from copernica_sdk.licensing.ledger import UsageEvent
from copernica_sdk.licensing.partner.margin import ClientUsage, load_client_csv, margin_report
from copernica_sdk.licensing.partner.pricing import PricePlan, rate, total
from copernica_sdk.licensing.partner.statement import BANNER, build_statement, render_statement

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "partner-margin"

PLAN = {"currency": "EUR", "install_fee": {"amount": "15.00"},
        "metered": [{"metric": "records_synced", "mode": "graduated", "unit": 1000,
                     "tiers": [{"up_to": 10000, "price": "0.00"},
                               {"up_to": 100000, "price": "0.50"},
                               {"up_to": "inf", "price": "0.25"}]}]}


def plan(mode: str = "graduated") -> PricePlan:
    data = {**PLAN, "metered": [{**PLAN["metered"][0], "mode": mode}]}
    return PricePlan.from_mapping(data)


def amount(p: PricePlan, records: float | int, installs: int = 2) -> Decimal:
    return total(rate(p, install_months=installs, quantities={"records_synced":
                                                             Decimal(str(records))}))


def test_worked_example_graduated_and_volume() -> None:
    assert amount(plan(), 150_000) == Decimal("87.50")
    assert amount(plan("volume"), 150_000) == Decimal("67.50")


@pytest.mark.parametrize(("records", "graduated", "volume"), [
    (10_000, "30.00", "30.00"),          # up_to is inclusive: still the free tier
    (10_001, "30.00", "35.00"),          # one over: graduated +0.0005 rounds away; volume jumps
    (100_000, "75.00", "80.00"),
    (100_000.5, "75.00", "55.00"),       # a fraction over the bound takes the next tier
    (100_001, "75.00", "55.00"),
    (0, "30.00", "30.00"),
])
def test_tier_boundaries(records: float, graduated: str, volume: str) -> None:
    assert amount(plan(), records) == Decimal(graduated)
    assert amount(plan("volume"), records) == Decimal(volume)


def test_plan_errors_are_explicit() -> None:
    with pytest.raises(PlanError, match="inf"):
        PricePlan.from_mapping({"metered": [{"metric": "m", "tiers": [{"up_to": 5,
                                                                       "price": "1"}]}]})
    with pytest.raises(PlanError, match="string"):
        PricePlan.from_mapping({"install_fee": {"amount": 0.1}})


def _event(i: int, metric: str, qty: int, install: str = "i1", env: str = "production",
           state: str = "valid") -> UsageEvent:
    return UsageEvent(f"cpe1_{i:040d}", f"2025-05-0{1 + i % 9}T00:00:00Z", "2025-05", metric,
                      qty, "orders" if metric != "install_month" else "", install, "shop.nl",
                      env, "acme-woo", "L1", "cus_1", 1, i, state, "")


EVENTS = [_event(0, "install_month", 1), _event(1, "install_month", 1, "i2"),
          _event(2, "records_synced", 100_000), _event(3, "records_synced", 50_000, "i2"),
          _event(4, "install_month", 1, "i3", "staging"),
          _event(5, "records_synced", 999, "i3", "staging"),
          _event(6, "records_synced", 0, state="expired")]


def test_statement_preview_is_deterministic_and_marked_preview() -> None:
    a = build_statement(EVENTS, plan(), customer="cus_1", period="2025-05", pending=2)
    b = build_statement(list(reversed(EVENTS)), plan(), customer="cus_1", period="2025-05",
                        pending=2)
    assert a.statement_id == b.statement_id and a.total == Decimal("87.50")
    for fmt in ("md", "html", "csv", "json"):
        body = render_statement(a, fmt)
        assert body == render_statement(b, fmt)
        assert BANNER.encode() in body
    md = render_statement(a, "md").decode()
    assert "staging install(s) excluded" in md and "pending delivery" in md
    assert "without a valid license" in md and "€87.50" in md


def test_margin_example_prints_gross_profit() -> None:
    usage_csv = EXAMPLE / "usage.csv"
    report = margin_report(PricePlan.load(EXAMPLE / "plan.toml"),
                           load_client_csv(usage_csv, usage_csv.read_text()))
    assert report.revenue == Decimal("6500.00") and report.cost == Decimal("750.00")
    assert report.gross_profit == Decimal("5750.00")
    text = report.render()
    assert "Gross profit: €5,750.00" in text
    assert text == (EXAMPLE / "expected-output.txt").read_text(encoding="utf-8")


def test_margin_pools_usage_across_clients() -> None:
    plan_ = PricePlan.from_mapping({
        "metered": [{"metric": "emails", "tiers": [{"up_to": "inf", "flat": "100.00"}]}],
        "vendor_bundles": [{"volume": 100_000, "price": "200.00"},
                           {"volume": 500_000, "price": "750.00"}]})
    report = margin_report(plan_, [ClientUsage("a", 0, {"emails": 60_000}),
                                   ClientUsage("b", 0, {"emails": 60_000})])
    assert report.cost == Decimal("400.00") and report.bundles == 2   # 2 x 100k beats 1 x 500k
