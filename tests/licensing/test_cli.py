"""The license, usage, partner and statement command groups via CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from copernica_sync.cli.cmd_license import license
from copernica_sync.cli.cmd_partner import partner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "partner-margin"
ENV = {"COPERNICA_LICENSE_PASSPHRASE": "test passphrase"}


def test_cli_keygen_issue_verify_inspect(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    out = runner.invoke(license, ["keygen", "--out", str(keys), "--label", "k1"], env=ENV)
    assert out.exit_code == 0, out.output
    assert "test passphrase" not in out.output and "license_public_keys" in out.output
    plan = tmp_path / "plan.toml"
    plan.write_text('currency = "EUR"\n[install_fee]\namount = "15.00"\n')
    lic = tmp_path / "shop.cpl"
    out = runner.invoke(license, ["issue", "--key", str(keys / "k1.ed25519.pem"), "--plugin",
                                  "acme-woo", "--customer", "Shop BV", "--ref", "cus_1",
                                  "--shop", "https://www.shop.nl/", "--plan", str(plan),
                                  "--out", str(lic)], env=ENV)
    assert out.exit_code == 0, out.output
    ok = runner.invoke(license, ["verify", str(lic), "--pub", str(keys / "k1.pub"),
                                 "--plugin", "acme-woo", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["state"] == "valid"
    wrong = runner.invoke(license, ["verify", str(lic), "--pub", str(keys / "k1.pub"),
                                    "--plugin", "other"])
    assert wrong.exit_code == 3 and "WRONG_PRODUCT" in wrong.output
    later = runner.invoke(license, ["verify", str(lic), "--pub", str(keys / "k1.pub"),
                                    "--plugin", "acme-woo", "--at", "2099-01-01"])
    assert later.exit_code == 3 and "EXPIRED" in later.output
    shown = runner.invoke(license, ["inspect", str(lic)])
    assert shown.exit_code == 0 and "UNVERIFIED" in shown.output and "cus_1" in shown.output


def test_cli_issue_refuses_a_world_readable_key(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(license, ["keygen", "--out", str(tmp_path), "--label", "k"], env=ENV)
    os.chmod(tmp_path / "k.ed25519.pem", 0o644)
    out = runner.invoke(license, ["issue", "--key", str(tmp_path / "k.ed25519.pem"), "--plugin",
                                  "p", "--customer", "c", "--out", str(tmp_path / "x.cpl")],
                        env=ENV)
    assert out.exit_code != 0 and not (tmp_path / "x.cpl").exists()


def test_partner_margin_example_prints_5750(tmp_path: Path) -> None:
    out = CliRunner().invoke(partner, ["margin", str(EXAMPLE / "plan.toml"),
                                       str(EXAMPLE / "usage.csv")])
    assert out.exit_code == 0, out.output
    assert "Gross profit: €5,750.00" in out.output
    assert out.output == (EXAMPLE / "expected-output.txt").read_text(encoding="utf-8")


def test_usage_and_statement_commands_end_to_end(tmp_path: Path) -> None:
    from copernica_sdk.licensing.export import render_events
    from tests.licensing.test_pricing import EVENTS, PLAN
    data = tmp_path / "usage.jsonl"
    data.write_bytes(render_events(EVENTS, "jsonl"))
    runner = CliRunner()
    ledger = tmp_path / "partner.sqlite3"
    first = runner.invoke(partner, ["ingest", "--ledger", str(ledger), "--allow-unsigned",
                                    str(data)])
    again = runner.invoke(partner, ["ingest", "--ledger", str(ledger), "--allow-unsigned",
                                    str(data)])
    assert "7 new" in first.output and "0 new, 7 already known" in again.output
    plan = tmp_path / "plan.toml"
    plan.write_text('currency = "EUR"\n[install_fee]\namount = "15.00"\n[[metered]]\n'
                    'metric = "records_synced"\nmode = "graduated"\nunit = 1000\n'
                    'tiers = [{up_to = 10000, price = "0.00"}, {up_to = 100000, price = "0.50"},'
                    ' {up_to = "inf", price = "0.25"}]\n')
    assert PLAN["currency"] == "EUR"
    out = runner.invoke(partner, ["statement", "preview", "--ledger", str(ledger), "--plan", str(plan),
                                    "--customer", "cus_1", "--period", "2025-05"])
    assert out.exit_code == 0, out.output
    assert "Preview — not an invoice" in out.output and "€87.50" in out.output
