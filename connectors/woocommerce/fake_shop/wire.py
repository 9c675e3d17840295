"""WooCommerce's wire conventions: dates without offset plus ``_gmt`` twins,
money as strings with two decimals, blanks as ``""`` or ``null``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def fmt_gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DATE_FORMAT)


def set_date(record: dict[str, Any], name: str, moment: datetime | None, utc_offset: timedelta) -> None:
    """Write ``name`` (site-local, no offset) and ``name_gmt`` (UTC) into ``record``."""
    if moment is None:
        record[name] = None
        record[f"{name}_gmt"] = None
        return
    utc = moment.astimezone(UTC)
    record[name] = (utc + utc_offset).strftime(DATE_FORMAT)
    record[f"{name}_gmt"] = utc.strftime(DATE_FORMAT)


def money(value: Decimal | float | int | str) -> str:
    """``12.5`` → ``"12.50"``."""
    if isinstance(value, str):
        value = Decimal(value)
    # Format-based rounding is ~5x faster than quantize; half-even vs half-up
    # does not matter for generated amounts.
    return f"{value:.2f}"


def parse_gmt(value: str) -> datetime:
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)


def select_fields(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """WordPress's ``_fields``: keep top-level keys, or ``a.b`` nested ones."""
    out: dict[str, Any] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        if head not in record:
            continue
        if not rest:
            out[head] = record[head]
        elif isinstance(record[head], dict):
            inner = out.setdefault(head, {})
            if isinstance(inner, dict):
                inner.update(select_fields(record[head], [rest]))
    return out
