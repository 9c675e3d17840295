"""Statement preview: usage of one customer and period, priced, in four formats.

Marked "Preview — not an invoice" (VAT and invoicing are out of scope).  The
statement id is ``sha256(plan_sha256 | period | sorted event ids)``: the same
inputs always give the same id and the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..ledger import INSTALL_MONTH, UsageEvent
from .margin import money
from .pricing import Line, Metered, PricePlan, rate, total

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
    #: For the HTML chart: (install, month, quantity) of the metered metrics, billable
    #: installs, this period and the history given.
    usage_by_install_month: tuple[tuple[str, str, int], ...] = ()
    #: For the HTML chart: each metered metric of the plan and this period's quantity.
    metered: tuple[tuple[Metered, Decimal], ...] = ()

    @property
    def total(self) -> Decimal:
        return total(self.lines)


def build_statement(events: Sequence[UsageEvent], plan: PricePlan, *, customer: str,
                    period: str, pending: int = 0,
                    history: Sequence[UsageEvent] = ()) -> Statement:
    """Rate ``events`` (already filtered to the customer and period).  ``history``
    (the customer's events of earlier months) only feeds the HTML chart."""
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
    chart: dict[tuple[str, str], int] = {}
    for e in [*[h for h in history if h.period < period], *events]:
        if e.environment == "production" and e.metric != INSTALL_MONTH:
            chart[(e.install_id, e.period)] = chart.get((e.install_id, e.period), 0) + e.quantity
    return Statement(sid, customer, period, plan.currency,
                     tuple(rate(plan, install_months=months, quantities=quantities)),
                     tuple(notes), len(events), tuple(sorted({e.install_id for e in billable})),
                     tuple((i, m, q) for (i, m), q in sorted(chart.items())),
                     tuple((m, Decimal(quantities.get(m.metric, 0))) for m in plan.metered))


def quantity_text(line: Line) -> str:
    """``150,000 records``: the quantity in the metric's own count, with its noun."""
    return f"{line.quantity.normalize():,f} {line.noun}".strip()


def unit_price_text(line: Line, currency: str) -> str:
    """``€0.50 per 1,000 records`` (``€15.00`` when the unit is one), plus a flat part."""
    price = money(line.unit_price, currency)
    if line.unit != 1:
        price += f" per {line.unit.normalize():,f} {line.noun}".rstrip()
    if line.flat:
        price += f" + {money(line.flat, currency)} flat"
    return price


def _json(st: Statement) -> dict[str, Any]:
    return {"banner": BANNER, "statement_id": st.statement_id, "customer": st.customer,
            "period": st.period, "currency": st.currency,
            "lines": [{"description": line.description, "quantity": str(line.quantity),
                       "noun": line.noun, "unit": str(line.unit),
                       "unit_price": str(line.unit_price), "flat": str(line.flat),
                       "amount": str(line.amount)}
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
        w.writerow(["description", "quantity", "noun", "unit", "unit_price", "flat", "amount"])
        for line in st.lines:
            w.writerow([line.description, f"{line.quantity.normalize():f}", line.noun,
                        f"{line.unit.normalize():f}", line.unit_price, line.flat, line.amount])
        w.writerow(["total", "", "", "", "", "", st.total])
        for note in st.notes:
            w.writerow(["note", note, "", "", "", "", ""])
        return buf.getvalue().encode()
    if fmt == "md":
        out = [f"# {BANNER}", "", f"- Statement: `{st.statement_id}`",
               f"- Customer: {st.customer}", f"- Period: {st.period}",
               f"- Events: {st.event_count}", "", "| Line | Quantity | Unit price | Amount |",
               "|---|---:|---:|---:|"]
        out += [f"| {line.description} | {quantity_text(line)} | "
                f"{unit_price_text(line, cur)} | {money(line.amount, cur)} |"
                for line in st.lines]
        out += [f"| **Total** | | | **{money(st.total, cur)}** |", "", "## Notes", ""]
        out += [f"- {n}" for n in st.notes]
        return ("\n".join(out) + "\n").encode()
    if fmt == "html":
        from .charts import render_statement_html

        return render_statement_html(st)
    raise ValueError("format must be md, html, csv or json")
