"""The partner margin report: resell accounts, pool usage, buy vendor bundles.

Revenue is what each client pays at the partner's (end-customer) prices — the
plan's install fee and ``[[metered]]`` tiers, exactly as a statement prices it;
cost is the cheapest way to cover the POOLED usage of all clients with the
plan's ``[[vendor_bundles]]``; gross profit is the difference.  Usage comes from
the partner ledger (or usage exports, verified like ``partner ingest``), or, to
model a deal before anything was metered, from a hand-made ``client,<metric>``
CSV.  The vendor's own example: 10 clients x 50,000 e-mails, €650 each →
€6,500; one 500,000-e-mail bundle €750; gross profit €5,750.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..errors import InputFileError, PlanError
from ..ledger import INSTALL_MONTH, UsageEvent
from .pricing import Bundle, Metered, PricePlan, cents, rate, tier_of, total

__all__ = ["ClientUsage", "MarginReport", "load_client_csv", "margin_report", "money",
           "usage_by_client"]

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(amount: Decimal, currency: str = "EUR") -> str:
    """``€5,750.00``."""
    symbol = _SYMBOLS.get(currency)
    text = f"{cents(amount):,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@dataclass(frozen=True)
class ClientUsage:
    """One client's usage in a period: billable install-months and metric totals, and
    (for the chart) the bundle metric per install."""

    client: str
    install_months: int = 0
    quantities: Mapping[str, int] = field(default_factory=dict)
    per_install: Mapping[str, int] = field(default_factory=dict)


def usage_by_client(events: Sequence[UsageEvent], *, period: str | None = None,
                    names: Mapping[str, str] | None = None,
                    metric: str | None = None) -> list[ClientUsage]:
    """Group ledger events by customer (billing reference, shown by its name from the
    plan's ``[customers]``).  Staging installs are left out, as on a statement."""
    names = names or {}
    grouped: dict[str, list[UsageEvent]] = {}
    for e in events:
        if e.environment == "production" and (period is None or e.period == period):
            grouped.setdefault(e.customer_ref, []).append(e)
    out = []
    for ref, items in grouped.items():
        months = len({(e.install_id, e.period) for e in items if e.metric == INSTALL_MONTH})
        quantities: dict[str, int] = {}
        per_install: dict[str, int] = {}
        for e in items:
            if e.metric != INSTALL_MONTH:
                quantities[e.metric] = quantities.get(e.metric, 0) + e.quantity
                if e.metric == metric:
                    per_install[e.install_id] = per_install.get(e.install_id, 0) + e.quantity
        out.append(ClientUsage(names.get(ref, ref or "(no customer)"), months, quantities,
                               per_install))
    return sorted(out, key=lambda c: c.client)


def load_client_csv(path: str | Path, text: str) -> list[ClientUsage]:
    """A hand-made ``client,<metric>`` CSV (header required): a deal modelled before
    anything was metered.  A bad line raises :class:`InputFileError`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or len(header) < 2 or not header[1].strip():
        raise InputFileError(path, 1, 1, "expected a header like 'client,emails' (or a usage "
                             "export from `copernica-sync usage export`)")
    metric = header[1].strip()
    rows = []
    for row in reader:
        line = reader.line_num
        if not row or not row[0].strip():
            continue
        if len(row) < 2:
            raise InputFileError(path, line, len(row[0]) + 1,
                                 f"expected 'client,{metric}': the {metric} column is missing")
        try:
            volume = int(row[1].strip().replace("_", "").replace(",", ""))
        except ValueError:
            raise InputFileError(path, line, len(row[0]) + 2, f"{metric}: {row[1][:20]!r} is "
                                 "not a whole number") from None
        if volume < 0:
            raise InputFileError(path, line, len(row[0]) + 2, f"{metric}: must not be negative")
        rows.append(ClientUsage(row[0].strip(), 0, {metric: volume}))
    return rows


@dataclass(frozen=True)
class MarginReport:
    currency: str
    metric: str
    clients: tuple[tuple[str, int, Decimal], ...]
    pooled_volume: int
    bundles: int
    bundle: Bundle
    cost: Decimal
    period: str | None = None
    usage: tuple[ClientUsage, ...] = ()
    metered: Metered | None = None

    @property
    def revenue(self) -> Decimal:
        return sum((c[2] for c in self.clients), Decimal(0))

    @property
    def gross_profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def pooled_tier(self) -> int | None:
        """The tier of the plan's end-customer price list the POOLED volume reaches."""
        if self.metered is None:
            return None
        return tier_of(self.metered, Decimal(self.pooled_volume))

    def render(self) -> str:
        cur = self.currency
        width = max([len("Client"), *(len(c[0]) for c in self.clients)])
        out = ["Partner margin (preview; excl. VAT)",
               f"{'Client':<{width}}  {self.metric:>12}  {'revenue':>12}"]
        for name, volume, price in self.clients:
            out.append(f"{name:<{width}}  {volume:>12,}  {money(price, cur):>12}")
        out.append(f"{'Total':<{width}}  {self.pooled_volume:>12,}  "
                   f"{money(self.revenue, cur):>12}")
        out.append("")
        out.append(f"Revenue:      {money(self.revenue, cur)}")
        out.append(f"Pooled cost:  {money(self.cost, cur)} ({self.bundles} x "
                   f"{self.bundle.volume:,}-{self.metric} bundle at "
                   f"{money(self.bundle.price, cur)})")
        out.append(f"Gross profit: {money(self.gross_profit, cur)}")
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, object]:
        return {"currency": self.currency, "metric": self.metric, "period": self.period,
                "clients": [{"client": n, "volume": v, "revenue": str(p)}
                            for n, v, p in self.clients],
                "pooled_volume": self.pooled_volume, "revenue": str(self.revenue),
                "bundles": self.bundles, "bundle_volume": self.bundle.volume,
                "bundle_price": str(self.bundle.price), "cost": str(self.cost),
                "gross_profit": str(self.gross_profit)}


def pooled_cost(bundles: Sequence[Bundle], volume: int) -> tuple[Decimal, int, Bundle]:
    """The cheapest whole number of one bundle size covering ``volume``."""
    options = [(b.price * max(1, math.ceil(volume / b.volume)),
                max(1, math.ceil(volume / b.volume)), b) for b in bundles]
    return min(options, key=lambda o: (o[0], o[2].volume))


def margin_report(plan: PricePlan, usage: Sequence[ClientUsage], *,
                  period: str | None = None) -> MarginReport:
    """Revenue per client at the plan's prices, the pooled cost and the gross profit."""
    if not plan.bundles:
        raise PlanError("vendor_bundles: the margin report needs at least one "
                        "[[vendor_bundles]] (volume, price)")
    metric = plan.bundles[0].metric
    clients = tuple((c.client, int(c.quantities.get(metric, 0)),
                     total(rate(plan, install_months=c.install_months,
                                quantities={k: Decimal(v) for k, v in c.quantities.items()})))
                    for c in usage)
    pooled = sum(c[1] for c in clients)
    cost, count, bundle = pooled_cost(plan.bundles, pooled)
    metered = next((m for m in plan.metered if m.metric == metric), None)
    return MarginReport(plan.currency, metric, clients, pooled, count, bundle, cost, period,
                        tuple(usage), metered)
