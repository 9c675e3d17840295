"""Refunded amounts of WooCommerce orders.

The REST API lists an order's refunds inline: ``refunds: [{id, reason, total}]``,
``total`` being the refunded amount as a *negative* decimal string (``"-5.00"``;
WooCommerce before 3.x named the reason ``refund``).  The orders stream adds two
values to every order so the mapping can carry them (expressions have no
arithmetic):

- ``refunded_total``: the sum of the refunds, positive (``"5.00"``; ``"0.00"``
  without refunds);
- ``net_total``: ``total`` minus ``refunded_total`` — what the customer paid
  and kept paying.

A refund or order total that is not a number leaves its text in place, so the
mapping's ``number:2`` dead-letters the order naming the field, instead of
silently counting it as zero.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from copernica_sdk.sync.connector import Record

__all__ = ["NET_TOTAL", "REFUNDED_TOTAL", "with_refund_totals"]

REFUNDED_TOTAL = "refunded_total"
NET_TOTAL = "net_total"
_CENT = Decimal("0.01")
_MAX_DIGITS = 18  # whole digits of the largest amount taken as one


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    # Beyond any price (1e400): not an amount; its text is left for number:2 to refuse,
    # and quantizing it would raise.
    return amount if amount.is_finite() and amount.adjusted() < _MAX_DIGITS else None


def with_refund_totals(order: Record) -> Record:
    """``order`` with ``refunded_total`` and ``net_total`` set (in place; returned)."""
    refunds = order.get("refunds")
    refunded = Decimal(0)
    bad: Any = None
    for refund in refunds if isinstance(refunds, list) else ():
        value = refund.get("total") if isinstance(refund, dict) else refund
        amount = _amount(value)
        if amount is None:
            bad = value
            break
        refunded += abs(amount)
    if bad is not None:
        order[REFUNDED_TOTAL] = str(bad)
        order[NET_TOTAL] = str(bad)
        return order
    order[REFUNDED_TOTAL] = str(refunded.quantize(_CENT))
    total = _amount(order.get("total"))
    order[NET_TOTAL] = (str((total - refunded).quantize(_CENT)) if total is not None
                        else order.get("total"))
    return order
