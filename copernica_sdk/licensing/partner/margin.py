"""The partner margin report: resell accounts, pool usage, buy vendor bundles.

Revenue is what each client pays at the partner's (end-customer) prices; cost
is the cheapest way to cover the POOLED usage of all clients with the vendor's
volume bundles; gross profit is the difference.  The vendor's own example: 10
clients x 50,000 e-mails, €650 each → €6,500; one 500,000-e-mail bundle €750;
gross profit €5,750.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import PlanError
from .pricing import cents, decimal_of

__all__ = ["MarginPlan", "MarginReport", "load_usage", "margin_report", "money"]

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(amount: Decimal, currency: str = "EUR") -> str:
    """``€5,750.00``."""
    symbol = _SYMBOLS.get(currency)
    text = f"{cents(amount):,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@dataclass(frozen=True)
class Bundle:
    volume: int
    price: Decimal


@dataclass(frozen=True)
class MarginPlan:
    currency: str
    metric: str
    default_price: Decimal | None
    client_prices: Mapping[str, Decimal]
    price_list: tuple[tuple[int | None, Decimal], ...]   # (up_to volume, monthly price)
    bundles: tuple[Bundle, ...]

    @classmethod
    def load(cls, path: str | Path) -> MarginPlan:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(f"{path}: {exc}") from None
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MarginPlan:
        prices = data.get("prices") or {}
        default = prices.get("default")
        price_list = tuple(
            (None if t.get("up_to") in (None, "inf") else int(t["up_to"]),
             decimal_of(t["price"], f"prices.list[{i}].price"))
            for i, t in enumerate(prices.get("list") or []))
        bundles = tuple(Bundle(int(b["volume"]), decimal_of(b["price"], f"vendor_bundles[{i}].price"))
                        for i, b in enumerate(data.get("vendor_bundles") or []))
        if not bundles or any(b.volume <= 0 for b in bundles):
            raise PlanError("vendor_bundles: at least one bundle with a volume > 0")
        return cls(str(data.get("currency", "EUR")), str(data.get("metric", "emails")),
                   decimal_of(default, "prices.default") if default is not None else None,
                   {str(k): decimal_of(v, f"prices.clients.{k}")
                    for k, v in (prices.get("clients") or {}).items()},
                   price_list, bundles)

    def client_price(self, client: str, volume: int) -> Decimal:
        """A client's monthly price: its own price, else the price list by volume
        (``up_to`` inclusive), else the default."""
        if client in self.client_prices:
            return self.client_prices[client]
        for up_to, price in self.price_list:
            if up_to is None or volume <= up_to:
                return price
        if self.default_price is not None:
            return self.default_price
        raise PlanError(f"no price for client {client!r} at {volume:,} {self.metric}")

    def pooled_cost(self, volume: int) -> tuple[Decimal, int, Bundle]:
        """The cheapest whole number of one bundle size covering ``volume``."""
        options = [(b.price * max(1, math.ceil(volume / b.volume)),
                    max(1, math.ceil(volume / b.volume)), b) for b in self.bundles]
        return min(options, key=lambda o: (o[0], o[2].volume))


@dataclass(frozen=True)
class MarginReport:
    currency: str
    metric: str
    clients: tuple[tuple[str, int, Decimal], ...]
    pooled_volume: int
    bundles: int
    bundle: Bundle
    cost: Decimal

    @property
    def revenue(self) -> Decimal:
        return sum((c[2] for c in self.clients), Decimal(0))

    @property
    def gross_profit(self) -> Decimal:
        return self.revenue - self.cost

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


def load_usage(path: str | Path) -> list[tuple[str, int]]:
    """``client,<metric>`` rows (header required)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or len(header) < 2:
            raise PlanError(f"{path}: expected a header like 'client,emails'")
        rows = []
        for n, row in enumerate(reader, start=2):
            if not row or not row[0].strip():
                continue
            try:
                rows.append((row[0].strip(), int(row[1].replace("_", "").replace(",", ""))))
            except (IndexError, ValueError):
                raise PlanError(f"{path}:{n}: expected 'client,number'") from None
        return rows


def margin_report(plan: MarginPlan, usage: Sequence[tuple[str, int]]) -> MarginReport:
    clients = tuple((name, volume, plan.client_price(name, volume)) for name, volume in usage)
    pooled = sum(v for _, v in usage)
    cost, count, bundle = plan.pooled_cost(pooled)
    return MarginReport(plan.currency, plan.metric, clients, pooled, count, bundle, cost)
