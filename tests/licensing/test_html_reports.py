"""`statement preview --format html` and `partner margin --format html`: one self-contained
page with charts, rendered by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from copernica_sdk.licensing.ledger import UsageEvent, event_id
from copernica_sdk.licensing.partner.ledger import PartnerLedger
from copernica_sync.cli.cmd_partner import partner

from .test_margin import _plan_with_names, vendor_ledger

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    """The browser, or skip — but never under CI, where .ci/run installs it."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists()
                                       else None)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium); CI runs this test")


def render(page: Path, tmp_path: Path) -> str:
    """The DOM after Chromium loaded ``page`` from disk, with networking disabled."""
    browser = chromium()
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         "--proxy-server=127.0.0.1:9", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_self_contained(html: str) -> None:
    # Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"\b(src|href)\s*=", html), re.search(r"\b(src|href)\s*=.{0,80}", html)
    assert "@import" not in html and "url(" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def _bars(dom: str, figure: str) -> int:
    block = dom[dom.index(f'id="{figure}"'):]
    block = block[:block.index("</figure>")]
    return len(re.findall(r'<rect[^>]*class="rect reactive', block))


def test_margin_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    ledger = vendor_ledger(tmp_path / "partner.sqlite3")
    page = tmp_path / "margin.html"
    out = CliRunner().invoke(partner, ["margin", str(_plan_with_names(tmp_path)), "--ledger",
                                       str(ledger), "--format", "html", "--out", str(page)])
    assert out.exit_code == 0, out.output
    html = page.read_text(encoding="utf-8")
    assert_self_contained(html)
    dom = render(page, tmp_path)
    assert "Gross profit: €5,750.00" in dom and "Client 07" in dom
    assert dom.count("<svg") >= 2
    assert _bars(dom, "usage-chart") == 20          # 10 clients x 2 installs, one month
    assert "Client 03 · i03a" in dom               # the legend names client and install
    caption = re.search(r'id="tier-caption">(.*?)</figcaption>', dom, re.S)
    assert caption and "500,000 emails reaches tier 3 of 3 (above 200,000)" in caption[1]
    assert _bars(dom, "tier-chart") >= 3           # the volume, the tier bounds, the bundle


def test_statement_html_renders_usage_per_install_per_month(tmp_path: Path) -> None:
    ledger_path = tmp_path / "partner.sqlite3"
    with PartnerLedger(ledger_path) as ledger:
        events = []
        for n, (install, period, qty) in enumerate([("inst-a", "2025-04", 40_000),
                                                    ("inst-a", "2025-05", 60_000),
                                                    ("inst-b", "2025-05", 90_000)]):
            for metric, q in (("install_month", 1), ("records_synced", qty)):
                events.append(UsageEvent(event_id(install, period, metric, n),
                                         f"{period}-10T00:00:00Z", period, metric, q,
                                         "orders", install, "shop.nl", "production",
                                         "acme-woo", "L", "cus_1", 1, n, "valid", ""))
        ledger.ingest_events(events)
    plan = tmp_path / "plan.toml"
    plan.write_text('currency = "EUR"\n[install_fee]\namount = "15.00"\n[[metered]]\n'
                    'metric = "records_synced"\nmode = "graduated"\nunit = 1000\n'
                    'tiers = [{up_to = 10000, price = "0.00"}, {up_to = 100000, price = "0.50"},'
                    ' {up_to = "inf", price = "0.25"}]\n')
    page = tmp_path / "statement.html"
    out = CliRunner().invoke(partner, ["statement", "preview", "--ledger", str(ledger_path),
                                       "--plan", str(plan), "--customer", "cus_1",
                                       "--period", "2025-05", "--format", "html",
                                       "--out", str(page)])
    assert out.exit_code == 0, out.output
    html = page.read_text(encoding="utf-8")
    assert_self_contained(html)
    again = tmp_path / "again.html"
    CliRunner().invoke(partner, ["statement", "preview", "--ledger", str(ledger_path), "--plan",
                                 str(plan), "--customer", "cus_1", "--period", "2025-05",
                                 "--format", "html", "--out", str(again)])
    assert again.read_bytes() == page.read_bytes()   # deterministic, chart ids included
    dom = render(page, tmp_path)
    assert "Preview — not an invoice" in dom and "€87.50" in dom
    assert "150,000 records" in dom and "€0.50 per 1,000 records" in dom
    assert _bars(dom, "usage-chart") >= 3            # a: April and May; b: May
    chart = dom[dom.index('id="usage-chart"'):]
    values = re.findall(r'<desc class="value">([^<]*)</desc>', chart[:chart.index("</figure>")])
    assert {"40,000", "60,000", "90,000"} <= set(values), values
    assert "2025-04" in dom and "install inst-a" in dom and "install inst-b" in dom
    assert "150,000 records reaches tier 3 of 3 (above 100,000)" in dom
