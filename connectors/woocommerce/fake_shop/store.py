"""The fake shop's state: customers and orders in wire form, a clock, mutation helpers.

Every mutation stamps ``date_modified`` with the shop's clock, like WooCommerce
does on save.  The clock is real time unless frozen (``now=``), and
``advance()`` moves it either way, so tests can make changes land in chosen
seconds.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from .generate import PAID_STATUSES, Generator
from .index import Sorted, build
from .wire import set_date


class Clock:
    """Whole-second UTC time: frozen at ``now`` if given, else real time; ``advance``
    shifts it in both modes."""

    def __init__(self, now: datetime | None = None) -> None:
        self._frozen = now.astimezone(UTC).replace(microsecond=0) if now is not None else None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(UTC).replace(microsecond=0)
            return base + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


class UnknownRecord(KeyError):
    """No customer/order with that id."""


class Store:
    """Customers and orders by id, guarded by one lock (the server is threaded)."""

    def __init__(self, generator: Generator, clock: Clock, *, utc_offset: timedelta, seed: int) -> None:
        self.generator = generator
        self.clock = clock
        self.utc_offset = utc_offset
        self.lock = threading.RLock()
        self._rng = random.Random(seed + 1)
        customers = generator.customers()
        orders = generator.orders(customers)
        self.customers: dict[int, dict[str, Any]] = {c["id"]: c for c in customers}
        self.orders: dict[int, dict[str, Any]] = {o["id"]: o for o in orders}
        self._next_user_id = max(self.customers, default=1)
        self.generation = 0
        """Bumped by every mutation (lets callers cache derived data)."""
        self._indexes: dict[str, tuple[int, dict[str, Sorted]]] = {}

    def index(self, table: str) -> dict[str, Sorted]:
        """Sorted indexes of ``"orders"`` (by status) or ``"customers"`` (by role),
        rebuilt after a mutation.  Call with ``lock`` held."""
        cached = self._indexes.get(table)
        if cached is None or cached[0] != self.generation:
            rows = list((self.orders if table == "orders" else self.customers).values())
            cached = (self.generation, build(rows, "status" if table == "orders" else "role"))
            self._indexes[table] = cached
        return cached[1]

    @contextmanager
    def _mutating(self) -> Iterator[datetime]:
        with self.lock:
            yield self.clock.now()
            self.generation += 1

    def _stamp(self, record: dict[str, Any], now: datetime) -> None:
        set_date(record, "date_modified", now, self.utc_offset)

    # ---------------------------------------------------------------- accessors

    def order(self, order_id: int) -> dict[str, Any]:
        """A copy of one order (``UnknownRecord`` if absent)."""
        with self.lock:
            if order_id not in self.orders:
                raise UnknownRecord(order_id)
            return copy.deepcopy(self.orders[order_id])

    def customer(self, customer_id: int) -> dict[str, Any]:
        """A copy of one customer (``UnknownRecord`` if absent)."""
        with self.lock:
            if customer_id not in self.customers:
                raise UnknownRecord(customer_id)
            return copy.deepcopy(self.customers[customer_id])

    # ----------------------------------------------------------------- mutations

    def touch_orders(self, n: int, *, status: str | None = None) -> list[int]:
        """Bump ``date_modified`` of ``n`` orders (seeded pick; optionally of one status)."""
        with self._mutating() as now:
            pool = sorted(i for i, o in self.orders.items() if status is None or o["status"] == status)
            picked = self._rng.sample(pool, min(n, len(pool)))
            for order_id in picked:
                self._stamp(self.orders[order_id], now)
            return sorted(picked)

    def update_order(self, order_id: int, **changes: Any) -> dict[str, Any]:
        """Change fields of an order (dicts such as ``billing`` are merged) and bump it."""
        with self._mutating() as now:
            order = self._get(self.orders, order_id)
            _merge(order, changes)
            status = changes.get("status")
            if status in PAID_STATUSES and order.get("date_paid_gmt") is None:
                set_date(order, "date_paid", now, self.utc_offset)
            if status == "completed":
                set_date(order, "date_completed", now, self.utc_offset)
            self._stamp(order, now)
            return copy.deepcopy(order)

    def update_customer(self, customer_id: int, **changes: Any) -> dict[str, Any]:
        """Change fields of a customer (dicts are merged) and bump it."""
        with self._mutating() as now:
            customer = self._get(self.customers, customer_id)
            _merge(customer, changes)
            self._stamp(customer, now)
            return copy.deepcopy(customer)

    def change_email(self, customer_id: int, new: str) -> dict[str, Any]:
        """A customer changes their e-mail address (account and billing); past orders keep the old one."""
        return self.update_customer(customer_id, email=new, billing={"email": new})

    def trash_order(self, order_id: int) -> dict[str, Any]:
        """Move an order to the trash (``status = "trash"``), bumping it."""
        return self.update_order(order_id, status="trash")

    def delete_order(self, order_id: int) -> None:
        """Delete an order permanently (``force=true``): it vanishes from the API."""
        with self._mutating():
            self._get(self.orders, order_id)
            del self.orders[order_id]

    def add_customer(self, *, first_name: str = "New", last_name: str = "Customer",
                     email: str | None = None, **changes: Any) -> int:
        """Register a customer now; returns the new id."""
        with self._mutating() as now:
            self._next_user_id += 1
            user_id = self._next_user_id
            address = email or f"new{user_id}@example.com"
            record = self.generator.customer(user_id, first_name, last_name, address, now, now)
            _merge(record, changes)
            self.customers[user_id] = record
            return user_id

    def add_order(self, customer_id: int = 0, *, email: str | None = None, status: str = "processing",
                  **changes: Any) -> int:
        """Place an order now (a guest order when ``customer_id`` is 0); returns its id."""
        with self._mutating() as now:
            owner = self._get(self.customers, customer_id) if customer_id else None
            if self.orders:
                self.generator.next_order_id = max(self.generator.next_order_id, max(self.orders))
            self.generator.latest = now
            order = self.generator.order(owner, status=status, when=now)
            if email is not None:
                order["billing"]["email"] = email
            _merge(order, changes)
            self.orders[order["id"]] = order
            return int(order["id"])

    @staticmethod
    def _get(table: dict[int, dict[str, Any]], record_id: int) -> dict[str, Any]:
        if record_id not in table:
            raise UnknownRecord(record_id)
        return table[record_id]


def _merge(record: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(record.get(key), dict):
            record[key].update(value)
        else:
            record[key] = value
