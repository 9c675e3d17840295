"""Seeded generation of a plausible — and deliberately awkward — store.

Awkward on purpose: unicode and hostile names (emoji, RTL scripts, quotes,
``<tags>``, control characters, zero-width spaces), e-mail addresses in mixed
case and with stray spaces, many orders sharing one ``date_modified_gmt``
second, trashed orders, guest orders (``customer_id = 0``) including one by a
guest using a registered customer's address, customers whose
``date_modified`` is null (never updated since registration), fully refunded
orders (status ``refunded``) and partially refunded ones that stay
``completed``/``processing`` (``refunds: [{id, reason, total: "-x.xx"}]``, as
WooCommerce's REST API lists them).
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .wire import money, parse_gmt, set_date

FIRST_NAMES = (
    "Anna", "Jan", "Pieter", "Sophie", "Daan", "Emma", "Lars", "Fleur", "Mohamed", "Noor",
    "Zoë", "José", "Łukasz", "Søren", "Ångström", "Émilie", "李", "محمد", "שרה", "Ολυμπία",
    "🦄 Uni", "<script>alert(1)</script>", "Robert'); DROP TABLE wp_users;--", 'Quote"d',
    "Ann\u0007e", "Zero\u200bWidth", "  Padded  ", "Tab\tbed", "",
)
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "van den Berg", "Mulder",
    "O'Brien", "Müller", "Ñúñez", "Nguyễn", "王", "العلي", "כהן", "<b>Bold</b>", "💥",
    "Line\nBreak", "Back\\slash", "Smith & Sons",
)
CITIES = (("Amsterdam", "NL", "1011 AB"), ("Utrecht", "NL", "3511 AA"), ("Antwerpen", "BE", "2000"),
          ("Köln", "DE", "50667"), ("Paris", "FR", "75001"), ("London", "GB", "SW1A 1AA"),
          ("New York", "US", "10001"), ("Zürich", "CH", "8001"))
DOMAINS = ("example.com", "example.nl", "mail.example.org", "EXAMPLE.NET", "xn--bcher-kva.example")
PAYMENT = (("ideal", "iDEAL"), ("paypal", "PayPal"), ("bacs", "Direct bank transfer"),
           ("cod", "Cash on delivery"), ("stripe", "Credit card (Stripe)"))
STATUS_WEIGHTS = (("completed", 60), ("processing", 15), ("on-hold", 5), ("pending", 6),
                  ("cancelled", 6), ("refunded", 4), ("failed", 4))
PAID_STATUSES = frozenset({"processing", "completed", "refunded"})
TAX_RATE = Decimal("0.21")


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    sku: str
    price: Decimal
    variation_id: int = 0


CATALOG = tuple(
    Product(10 + i, name, f"SKU-{10 + i:04d}", Decimal(price), variation)
    for i, (name, price, variation) in enumerate((
        ("Koffiemok ☕", "12.50", 0), ("T-shirt — maat M", "19.95", 501), ("T-shirt — maat L", "19.95", 502),
        ("Notebook <A5>", "7.25", 0), ("Stroopwafels \"extra\"", "3.99", 0), ("Gift card €25", "25.00", 0),
        ("Poster 50x70", "14.00", 0), ("Sokken 3-pack", "9.99", 0), ("Tas", "29.00", 0), ("Pen", "1.49", 0),
    ))
)


@dataclass
class Options:
    customers: int
    orders: int
    seed: int
    guests_ratio: float
    tie_heavy: bool
    tie_burst: int | None
    trashed: int | None
    null_modified_ratio: float
    newsletter_meta_key: str
    version: str
    utc_offset: timedelta
    store_url: str


class Generator:
    """Builds customers and orders in wire form; ids and items are numbered globally."""

    def __init__(self, options: Options, anchor: datetime) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.anchor = anchor.replace(microsecond=0)
        self.latest = self.anchor - timedelta(seconds=60)
        self.next_meta_id = 1000
        self.next_item_id = 1
        self.next_order_id = 100

    # ------------------------------------------------------------------ helpers

    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def email(self, first: str, last: str, n: int) -> str:
        base = "".join(ch for ch in f"{first}.{last}".lower() if ch in string.ascii_lowercase + ".")
        base = base.strip(".").replace("..", ".") or "user"
        address = f"{base}{n}@{self.rng.choice(DOMAINS)}"
        roll = self.rng.random()
        if roll < 0.08:
            address = address.upper()
        elif roll < 0.12:
            address = f" {address} "
        return address

    def address(self, first: str, last: str, email: str | None) -> dict[str, Any]:
        city, country, postcode = self.rng.choice(CITIES)
        out: dict[str, Any] = {
            "first_name": first, "last_name": last,
            "company": self.rng.choice(("", "", "", "Acme B.V.", "Ünïcode GmbH", "<Evil> & Co")),
            "address_1": f"{self.rng.choice(('Hoofdstraat', 'Kerkweg', 'Rue de la Paix', 'Main St'))} {self.rng.randint(1, 250)}",
            "address_2": self.rng.choice(("", "", "", "2e verdieping")),
            "city": city, "state": "", "postcode": postcode, "country": country,
            "phone": self.rng.choice(("", f"+31 6 {self.rng.randint(10000000, 99999999)}",
                                      f"0{self.rng.randint(100000000, 999999999)}")),
        }
        if email is not None:
            out["email"] = email
        return out

    def moment_between(self, low: datetime, high: datetime) -> datetime:
        if high <= low:
            return low
        return low + timedelta(seconds=self.rng.randint(0, int((high - low).total_seconds())))

    def meta(self, key: str, value: Any) -> dict[str, Any]:
        self.next_meta_id += 1
        return {"id": self.next_meta_id, "key": key, "value": value}

    # ---------------------------------------------------------------- customers

    def customers(self) -> list[dict[str, Any]]:
        out = []
        user_id = 1  # the site administrator
        for n in range(self.o.customers):
            user_id += self.rng.randint(1, 3)
            first, last = self.name()
            email = self.email(first, last, n)
            created = self.moment_between(self.latest - timedelta(days=730), self.latest - timedelta(days=1))
            modified: datetime | None = self.moment_between(created, self.latest)
            if self.rng.random() < self.o.null_modified_ratio:
                modified = None
            out.append(self.customer(user_id, first, last, email, created, modified))
        return out

    def customer(self, user_id: int, first: str, last: str, email: str, created: datetime,
                 modified: datetime | None) -> dict[str, Any]:
        clean = email.strip().lower()
        billing = self.address(first, last, email)
        shipping = {k: v for k, v in billing.items() if k != "email"}
        meta: list[dict[str, Any]] = []
        if self.rng.random() < 0.7:
            meta.append(self.meta(self.o.newsletter_meta_key, self.rng.choice(("yes", "no"))))
        if self.rng.random() < 0.2:
            meta.append(self.meta("_wc_last_active", str(int(created.timestamp()))))
        record: dict[str, Any] = {"id": user_id}
        set_date(record, "date_created", created, self.o.utc_offset)
        set_date(record, "date_modified", modified, self.o.utc_offset)
        record.update({
            "email": email, "first_name": first, "last_name": last,
            "role": "subscriber" if self.rng.random() < 0.1 else "customer",
            "username": clean.split("@")[0] or f"user{user_id}",
            "billing": billing, "shipping": shipping,
            "is_paying_customer": False,
            "avatar_url": f"https://secure.gravatar.com/avatar/{hashlib.md5(clean.encode()).hexdigest()}?s=96&d=mm&r=g",
            "meta_data": meta,
        })
        return record

    # ------------------------------------------------------------------- orders

    def orders(self, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        o = self.o
        out = []
        for _ in range(o.orders):
            guest = not customers or self.rng.random() < o.guests_ratio
            owner = None if guest else self.rng.choice(customers)
            out.append(self.order(owner, status=self.weighted_status()))
        if customers and out:
            # A guest checking out with a registered customer's address (changed case/spaces).
            victim = self.rng.choice(customers)
            guest_order = self.rng.choice(out)
            guest_order["customer_id"] = 0
            guest_order["billing"]["email"] = f" {str(victim['email']).strip().upper()} "
        self.tie_up(out)
        self.trash_some(out)
        self.refund_some(out)
        paying = {o["customer_id"] for o in out if o["status"] in PAID_STATUSES}
        for customer in customers:
            customer["is_paying_customer"] = customer["id"] in paying
        return out

    def weighted_status(self) -> str:
        statuses = [status for status, _ in STATUS_WEIGHTS]
        weights = [weight for _, weight in STATUS_WEIGHTS]
        return self.rng.choices(statuses, weights)[0]

    def order(self, owner: dict[str, Any] | None, *, status: str, when: datetime | None = None) -> dict[str, Any]:
        self.next_order_id += self.rng.randint(1, 4)
        order_id = self.next_order_id
        if owner is not None:
            billing = dict(owner["billing"])
            if self.rng.random() < 0.1:
                billing["email"] = self.email(owner["first_name"], owner["last_name"], order_id)
            low = max(parse_local_created(owner), self.latest - timedelta(days=730))
        else:
            first, last = self.name()
            billing = self.address(first, last, self.email(first, last, order_id))
            low = self.latest - timedelta(days=730)
        created = when or self.moment_between(low, self.latest)
        modified = min(self.latest if when is None else when,
                       created + timedelta(seconds=self.rng.randint(0, 30 * 86400)))
        modified = max(modified, created)
        items, subtotal = self.line_items()
        coupons: list[dict[str, Any]] = []
        discount = Decimal("0")
        if self.rng.random() < 0.15:
            discount = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))
            coupons.append({"id": self.take_item_id(), "code": self.rng.choice(("summer10", "WELKOM", "vip")),
                            "discount": money(discount), "discount_tax": money(discount * TAX_RATE),
                            "meta_data": []})
        shipping_total = self.rng.choice((Decimal("0"), Decimal("4.95"), Decimal("6.95")))
        taxable = subtotal - discount
        cart_tax = (taxable * TAX_RATE).quantize(Decimal("0.01"))
        shipping_tax = (shipping_total * TAX_RATE).quantize(Decimal("0.01"))
        total = taxable + cart_tax + shipping_total + shipping_tax
        method, title = self.rng.choice(PAYMENT)
        paid = modified if status in PAID_STATUSES else None
        completed = modified if status == "completed" else None
        order: dict[str, Any] = {
            "id": order_id, "parent_id": 0, "status": status, "currency": "EUR",
            "version": self.o.version, "prices_include_tax": False,
        }
        set_date(order, "date_created", created, self.o.utc_offset)
        set_date(order, "date_modified", modified, self.o.utc_offset)
        shipping = {k: v for k, v in billing.items() if k != "email"}
        order.update({
            "discount_total": money(discount), "discount_tax": money(discount * TAX_RATE),
            "shipping_total": money(shipping_total), "shipping_tax": money(shipping_tax),
            "cart_tax": money(cart_tax), "total": money(total), "total_tax": money(cart_tax + shipping_tax),
            "customer_id": owner["id"] if owner is not None else 0,
            "order_key": "wc_order_" + "".join(self.rng.choices(string.ascii_letters + string.digits, k=13)),
            "billing": billing, "shipping": shipping,
            "payment_method": method, "payment_method_title": title,
            "transaction_id": f"tr_{self.rng.randint(10**8, 10**9)}" if paid else "",
            "customer_ip_address": f"192.0.2.{self.rng.randint(1, 254)}",
            "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "created_via": "checkout", "customer_note": self.rng.choice(("", "", "Bel aub niet aan 🔔")),
        })
        set_date(order, "date_completed", completed, self.o.utc_offset)
        set_date(order, "date_paid", paid, self.o.utc_offset)
        order.update({
            "cart_hash": hashlib.md5(str(order_id).encode()).hexdigest(),
            "number": str(order_id), "meta_data": [],
            "line_items": items,
            "tax_lines": [{"id": self.take_item_id(), "rate_code": "NL-BTW-1", "rate_id": 1, "label": "BTW",
                           "compound": False, "tax_total": money(cart_tax), "shipping_tax_total": money(shipping_tax),
                           "rate_percent": 21, "meta_data": []}],
            "shipping_lines": [{"id": self.take_item_id(), "method_title": "PostNL", "method_id": "flat_rate",
                                "instance_id": "1", "total": money(shipping_total), "total_tax": money(shipping_tax),
                                "taxes": [], "meta_data": []}] if shipping_total else [],
            "fee_lines": [], "coupon_lines": coupons,
            "refunds": [{"id": self.take_item_id(), "reason": "", "total": "-" + money(total)}]
            if status == "refunded" else [],
            "payment_url": f"{self.o.store_url}/checkout/order-pay/{order_id}/?pay_for_order=true&key=wc_order_x",
            "is_editable": status in ("pending", "on-hold"),
            "needs_payment": status in ("pending", "failed"),
            "needs_processing": True,
            "currency_symbol": "€",
        })
        return order

    def take_item_id(self) -> int:
        self.next_item_id += 1
        return self.next_item_id

    def line_items(self) -> tuple[list[dict[str, Any]], Decimal]:
        items = []
        subtotal = Decimal("0")
        for product in self.rng.sample(CATALOG, self.rng.randint(1, 4)):
            qty = self.rng.randint(1, 3)
            line = product.price * qty
            subtotal += line
            tax = (line * TAX_RATE).quantize(Decimal("0.01"))
            items.append({
                "id": self.take_item_id(), "name": product.name, "product_id": product.id,
                "variation_id": product.variation_id, "quantity": qty, "tax_class": "",
                "subtotal": money(line), "subtotal_tax": money(tax), "total": money(line),
                "total_tax": money(tax), "taxes": [{"id": 1, "total": money(tax), "subtotal": money(tax)}],
                "meta_data": [], "sku": product.sku, "price": float(product.price),
                "image": {"id": "", "src": ""}, "parent_name": None,
            })
        return items, subtotal

    def tie_up(self, orders: list[dict[str, Any]]) -> None:
        """Make many orders share one modification second, and others share in pairs."""
        if not self.o.tie_heavy or len(orders) < 2:
            return
        burst = self.o.tie_burst if self.o.tie_burst is not None else min(250, len(orders) // 4)
        burst = max(0, min(burst, len(orders)))
        second = self.latest - timedelta(days=3)
        for order in self.rng.sample(orders, burst):
            self.restamp(order, second)
        for order in self.rng.sample(orders, len(orders) // 10):
            partner = self.rng.choice(orders)
            if partner["date_modified_gmt"] >= order["date_created_gmt"]:
                self.restamp(order, parse_gmt_field(partner, "date_modified_gmt"))

    def restamp(self, order: dict[str, Any], modified: datetime) -> None:
        created = parse_gmt_field(order, "date_created_gmt")
        if created > modified:
            set_date(order, "date_created", modified, self.o.utc_offset)
        set_date(order, "date_modified", modified, self.o.utc_offset)
        if order["date_paid_gmt"] is not None:
            set_date(order, "date_paid", modified, self.o.utc_offset)
        if order["date_completed_gmt"] is not None:
            set_date(order, "date_completed", modified, self.o.utc_offset)

    def refund_some(self, orders: list[dict[str, Any]]) -> None:
        """Partly refund about one paid order in fifteen (at least one when there
        are paid orders).  Its own random stream: the rest of the shop is the same
        as before refunds were generated."""
        rng = random.Random(f"refunds-{self.o.seed}")
        paid = [o for o in orders if o["status"] in ("completed", "processing")]
        count = min(len(paid), max(1 if paid else 0, len(paid) // 15))
        for n, order in enumerate(rng.sample(paid, count)):
            total = Decimal(order["total"])
            parts = [(total * Decimal(share)).quantize(Decimal("0.01"))
                     for share in rng.choice((("0.25",), ("0.10", "0.15"), ("0.5",)))]
            order["refunds"] = [
                {"id": 900_000 + 10 * n + i, "reason": rng.choice(("", "Damaged", "Late ⏰")),
                 "total": "-" + money(part)}
                for i, part in enumerate(parts)]

    def trash_some(self, orders: list[dict[str, Any]]) -> None:
        count = self.o.trashed if self.o.trashed is not None else max(1 if len(orders) >= 5 else 0, len(orders) // 50)
        for order in self.rng.sample(orders, min(count, len(orders))):
            order["status"] = "trash"


def parse_gmt_field(record: dict[str, Any], name: str) -> datetime:
    return parse_gmt(str(record[name]))


def parse_local_created(customer: dict[str, Any]) -> datetime:
    return parse_gmt_field(customer, "date_created_gmt")
