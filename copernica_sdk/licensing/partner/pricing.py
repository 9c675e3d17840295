"""Price plans (TOML) and rating usage against them: ONE format for statements and margin.

A plan: a flat fee per billable install-month plus, per metric, tiers in
``graduated`` mode (each tier prices the part of the quantity inside it) or
``volume`` mode (the tier the whole quantity falls in prices all of it).  A tier
may carry a ``flat`` amount as well (Stripe's ``flat_amount``): graduated adds
the flat amount of every tier the quantity reaches, volume that of its tier.
For the margin report the same file adds ``[[vendor_bundles]]`` (what the
vendor charges the partner for pooled volume) and ``[customers]`` (display
names by billing reference).  docs/licensing.md, "Price plans", is the reference.

Tier-boundary rules (as Stripe and Lago): ``up_to`` is in the metric's own
quantity and INCLUSIVE — with ``up_to = 10000`` the 10,000th record is in the
first tier and the 10,001st in the next; a quantity above a bound, even by a
fraction, is in the next tier; ``price`` is per ``unit`` (e.g. per 1,000
records) and fractional units are priced exactly; each line is rounded to the
cent, half up, and the total is the sum of the rounded lines.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..errors import PlanError

__all__ = ["Bundle", "Line", "Metered", "PricePlan", "Tier", "cents", "noun_of", "rate",
           "rate_metric", "total"]

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_of(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        raise PlanError(f"{where}: write money as a string (\"0.50\"), not a float")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise PlanError(f"{where}: {value!r} is not a number") from None
    if not out.is_finite() or out < 0:
        raise PlanError(f"{where}: must be a finite number ≥ 0")
    return out


#: How a statement names a metric's quantity ("100 records", not "0.1").
NOUNS = {"records_synced": "records", "install_month": "install-months"}


def noun_of(metric: str) -> str:
    """The word a quantity of ``metric`` is counted in."""
    return NOUNS.get(metric, metric.replace("_", " "))


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None     # None = infinity
    price: Decimal            # per unit
    flat: Decimal = Decimal(0)  # once, when the quantity reaches the tier


@dataclass(frozen=True)
class Bundle:
    """A vendor bundle: ``volume`` of ``metric`` for ``price`` (margin report)."""

    metric: str
    volume: int
    price: Decimal


@dataclass(frozen=True)
class Metered:
    metric: str
    mode: str
    unit: Decimal
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Line:
    """One priced line of a statement: ``quantity`` in the metric's own count (100
    records), ``unit_price`` per ``unit`` of them (per 1,000), plus ``flat``."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    unit: Decimal = Decimal(1)
    noun: str = ""
    flat: Decimal = Decimal(0)

    @property
    def units(self) -> Decimal:
        """The quantity in price units (0.1 for 100 records priced per 1,000)."""
        return self.quantity / self.unit


@dataclass(frozen=True)
class PricePlan:
    currency: str
    install_fee: Decimal
    metered: tuple[Metered, ...]
    source: Mapping[str, Any]
    bundles: tuple[Bundle, ...] = ()
    customers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PricePlan:
        if "prices" in data:
            raise PlanError("prices: the old margin-plan format; a plan is one format now — "
                            "write the end-customer prices as [[metered]] tiers (a tier's "
                            "`flat` is a monthly price) and keep [[vendor_bundles]] "
                            "(docs/licensing.md, \"Price plans\")")
        known = {"currency", "install_fee", "metered", "vendor_bundles", "customers"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlanError(f"{unknown[0]}: unknown setting (known: {', '.join(sorted(known))})")
        currency = str(data.get("currency", "EUR"))
        fee = decimal_of((data.get("install_fee") or {}).get("amount", "0"), "install_fee.amount")
        metered = []
        for i, m in enumerate(data.get("metered") or []):
            where = f"metered[{i}]"
            mode = str(m.get("mode", "graduated"))
            if mode not in ("graduated", "volume"):
                raise PlanError(f"{where}.mode: graduated or volume")
            unit = decimal_of(m.get("unit", 1), f"{where}.unit")
            if unit == 0:
                raise PlanError(f"{where}.unit: must be > 0")
            tiers: list[Tier] = []
            previous = Decimal(-1)
            for j, t in enumerate(m.get("tiers") or []):
                raw = t.get("up_to")
                up_to = None if raw in ("inf", None) else decimal_of(raw, f"{where}.tiers[{j}].up_to")
                if tiers and tiers[-1].up_to is None:
                    raise PlanError(f"{where}.tiers: nothing may follow up_to = \"inf\"")
                if up_to is not None and up_to <= previous:
                    raise PlanError(f"{where}.tiers: up_to must increase")
                previous = up_to if up_to is not None else previous
                tiers.append(Tier(up_to, decimal_of(t.get("price", "0"),
                                                    f"{where}.tiers[{j}].price"),
                                  decimal_of(t.get("flat", "0"), f"{where}.tiers[{j}].flat")))
            if not tiers or tiers[-1].up_to is not None:
                raise PlanError(f"{where}.tiers: the last tier needs up_to = \"inf\"")
            if "metric" not in m:
                raise PlanError(f"{where}.metric: missing (e.g. \"records_synced\")")
            metered.append(Metered(str(m["metric"]), mode, unit, tuple(tiers)))
        bundles = []
        for i, b in enumerate(data.get("vendor_bundles") or []):
            where = f"vendor_bundles[{i}]"
            volume = b.get("volume")
            if isinstance(volume, bool) or not isinstance(volume, int) or volume <= 0:
                raise PlanError(f"{where}.volume: a whole number > 0")
            metric = str(b.get("metric") or (metered[0].metric if metered else ""))
            if not metric:
                raise PlanError(f"{where}.metric: missing (no [[metered]] metric to default to)")
            bundles.append(Bundle(metric, volume, decimal_of(b.get("price"), f"{where}.price")))
        if len({b.metric for b in bundles}) > 1:
            raise PlanError("vendor_bundles: all bundles must be of one metric")
        customers = data.get("customers") or {}
        if not isinstance(customers, Mapping):
            raise PlanError("customers: a table of billing reference = \"display name\"")
        return cls(currency, fee, tuple(metered), dict(data), tuple(bundles),
                   {str(k): str(v) for k, v in customers.items()})

    @classmethod
    def load(cls, path: str | Path) -> PricePlan:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(f"{path}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PlanError(f"{path}: cannot read the plan ({exc})") from None
        try:
            return cls.from_mapping(data)
        except PlanError as exc:
            raise PlanError(f"{path}: {exc}") from None
        except (AttributeError, TypeError, ValueError) as exc:  # a table where a list goes…
            raise PlanError(f"{path}: not a price plan ({exc})") from None

    def to_json(self) -> dict[str, Any]:
        """The plan as embedded (signed) in a license."""
        return json.loads(json.dumps(self.source, default=str))  # type: ignore[no-any-return]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True,
                                         separators=(",", ":")).encode()).hexdigest()


def _n(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def tier_of(m: Metered, quantity: Decimal) -> int:
    """The index of the tier ``quantity`` falls in (``up_to`` inclusive)."""
    return next(i for i, t in enumerate(m.tiers) if t.up_to is None or quantity <= t.up_to)


def rate_metric(m: Metered, quantity: Decimal) -> list[Line]:
    """The priced lines of one metric (tiers with nothing in them are left out)."""
    lines: list[Line] = []
    noun = noun_of(m.metric)
    if m.mode == "volume":
        tier = m.tiers[tier_of(m, quantity)]
        flat = tier.flat if quantity > 0 else Decimal(0)
        lines.append(Line(f"{m.metric}: {_n(quantity)} at the volume price of the tier "
                          f"up to {_n(tier.up_to) if tier.up_to is not None else '∞'}",
                          quantity, tier.price, cents(quantity / m.unit * tier.price + flat),
                          m.unit, noun, flat))
        return lines
    lower = Decimal(0)
    for tier in m.tiers:
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        part = top - lower
        if part > 0:
            upper = _n(tier.up_to) if tier.up_to is not None else "∞"
            lines.append(Line(f"{m.metric} {_n(lower + 1)}-{upper}", part, tier.price,
                              cents(part / m.unit * tier.price + tier.flat), m.unit, noun,
                              tier.flat))
        if tier.up_to is None or quantity <= tier.up_to:
            break
        lower = tier.up_to
    return lines


def rate(plan: PricePlan, *, install_months: int,
         quantities: Mapping[str, Decimal | int]) -> list[Line]:
    """All lines for a period: the install fee, then each metered metric."""
    lines = [Line("install fee (per active production install-month)", Decimal(install_months),
                  plan.install_fee, cents(plan.install_fee * install_months),
                  noun=noun_of("install_month"))]
    for m in plan.metered:
        lines.extend(rate_metric(m, Decimal(quantities.get(m.metric, 0))))
    return lines


def total(lines: Sequence[Line]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))
