"""Statement preview: usage of one customer and period, priced, in four formats.

Marked "Preview — not an invoice" (VAT and invoicing are out of scope).  The
statement id is ``sha256(plan_sha256 | period | sorted event ids)``: the same
inputs always give the same id and the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..ledger import INSTALL_MONTH, UsageEvent
from .margin import money
from .pricing import Line, PricePlan, rate, total

__all__ = ["BANNER", "Statement", "build_statement", "render_statement"]

BANNER = "Preview — not an invoice"
_LICENSED = ("valid", "grace", "wrong_shop")


@dataclass(frozen=True)
class Statement:
    statement_id: str
    customer: str
    period: str
    currency: str
    lines: tuple[Line, ...]
    notes: tuple[str, ...]
    event_count: int
    installs: tuple[str, ...]

    @property
    def total(self) -> Decimal:
        return total(self.lines)


def build_statement(events: Sequence[UsageEvent], plan: PricePlan, *, customer: str,
                    period: str, pending: int = 0) -> Statement:
    """Rate ``events`` (already filtered to the customer and period)."""
    ids = sorted(e.event_id for e in events)
    sid = "st_" + hashlib.sha256("|".join([plan.sha256, period, *ids]).encode()).hexdigest()[:24]
    billable = [e for e in events if e.environment == "production"]
    staging = sorted({e.install_id for e in events if e.environment != "production"})
    months = len({(e.install_id, e.period) for e in billable if e.metric == INSTALL_MONTH})
    quantities: dict[str, int] = {}
    for e in billable:
        if e.metric != INSTALL_MONTH:
            quantities[e.metric] = quantities.get(e.metric, 0) + e.quantity
    notes = []
    unlicensed = [e for e in events if e.license_state not in _LICENSED]
    if unlicensed:
        notes.append(f"{len(unlicensed)} event(s) were recorded without a valid license "
                     "(included above)")
    suspect = [e for e in events if "clock_suspect" in e.flags]
    if suspect:
        notes.append(f"{len(suspect)} event(s) come from runs with a suspect clock")
    if staging:
        notes.append(f"{len(staging)} staging install(s) excluded, not billed")
    if pending:
        notes.append(f"{pending} event(s) still pending delivery; this preview may grow")
    notes.append("Amounts exclude VAT.")
    return Statement(sid, customer, period, plan.currency,
                     tuple(rate(plan, install_months=months, quantities=quantities)),
                     tuple(notes), len(events), tuple(sorted({e.install_id for e in billable})))


def _json(st: Statement) -> dict[str, Any]:
    return {"banner": BANNER, "statement_id": st.statement_id, "customer": st.customer,
            "period": st.period, "currency": st.currency,
            "lines": [{"description": line.description, "quantity": str(line.quantity),
                       "unit_price": str(line.unit_price), "amount": str(line.amount)}
                      for line in st.lines],
            "total": str(st.total), "notes": list(st.notes), "event_count": st.event_count,
            "installs": list(st.installs)}


def render_statement(st: Statement, fmt: str) -> bytes:
    """``md``, ``html``, ``csv`` or ``json``; deterministic bytes."""
    cur = st.currency
    if fmt == "json":
        return (json.dumps(_json(st), indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([BANNER, st.statement_id, st.customer, st.period, cur])
        w.writerow(["description", "quantity", "unit_price", "amount"])
        for line in st.lines:
            w.writerow([line.description, line.quantity, line.unit_price, line.amount])
        w.writerow(["total", "", "", st.total])
        for note in st.notes:
            w.writerow(["note", note, "", ""])
        return buf.getvalue().encode()
    if fmt == "md":
        out = [f"# {BANNER}", "", f"- Statement: `{st.statement_id}`",
               f"- Customer: {st.customer}", f"- Period: {st.period}",
               f"- Events: {st.event_count}", "", "| Line | Quantity | Unit price | Amount |",
               "|---|---:|---:|---:|"]
        out += [f"| {line.description} | {line.quantity.normalize():f} | "
                f"{money(line.unit_price, cur)} | {money(line.amount, cur)} |"
                for line in st.lines]
        out += [f"| **Total** | | | **{money(st.total, cur)}** |", "", "## Notes", ""]
        out += [f"- {n}" for n in st.notes]
        return ("\n".join(out) + "\n").encode()
    if fmt == "html":
        e = html.escape
        rows = "".join(f"<tr><td>{e(line.description)}</td><td>{line.quantity.normalize():f}"
                       f"</td><td>{e(money(line.unit_price, cur))}</td>"
                       f"<td>{e(money(line.amount, cur))}</td></tr>" for line in st.lines)
        notes = "".join(f"<li>{e(n)}</li>" for n in st.notes)
        return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{e(BANNER)}"
                f"</title></head><body><h1>{e(BANNER)}</h1><p>Statement "
                f"<code>{e(st.statement_id)}</code> · {e(st.customer)} · {e(st.period)}</p>"
                f"<table><tr><th>Line</th><th>Quantity</th><th>Unit price</th><th>Amount</th>"
                f"</tr>{rows}<tr><th>Total</th><td></td><td></td>"
                f"<th>{e(money(st.total, cur))}</th></tr></table><ul>{notes}</ul>"
                f"</body></html>\n").encode()
    raise ValueError("format must be md, html, csv or json")
