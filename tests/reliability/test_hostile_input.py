"""Hostile shop records never crash a sync: each is synced (sanitised) or dead-lettered.

A seeded corpus of customers and orders is injected into the fake shop: control
characters XML 1.0 forbids, 1 MB strings, invalid e-mail addresses, values of the
wrong type, missing keys, emoji and right-to-left text, strings that look like XML
or SQL.  After the sync, per stream, the records written plus those skipped as
unchanged plus the dead-lettered ones equal the records the shop holds, every dead
letter carries a reason, and every record is findable either in Copernica or in the
dead-letter table.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copernica_sdk.sync.report import RunReport
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import InProcessJob, fast_retry

MB = "x" * (1024 * 1024)
#: Characters XML 1.0 forbids (C0 controls except tab/newline/CR, U+FFFE/U+FFFF, a
#: lone surrogate is not representable in UTF-8 JSON from the shop, so it is left out).
FORBIDDEN = "".join(chr(c) for c in (0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F)) + "\ufffe\uffff"
_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

TEXTS = [
    f"Ann{FORBIDDEN}e",
    "🦄💥 Zoë 👩‍👩‍👧",
    "مرحبا بالعالم",              # Arabic, right to left
    "\u202eevil\u202c שלום",      # RTL override + Hebrew
    "<![CDATA[x]]></firstname><script>alert(1)</script>",
    "]]>&amp;&lt;&#0;&#x1;",
    "'; DROP TABLE profiles; --",
    "Robert'); DELETE FROM state WHERE 1=1; --",
    MB,
    "",
    "   ",
]
BAD_EMAILS = ["not-an-email", "a@b", "@example.com", "x@@y.z", f"{MB}@example.com",
              "ann\x00@example.com", "<a@b.c>", "'or'1'='1@x.y", "🦄@例え.テスト", ""]
WRONG_TYPES: list[Any] = [12345, 3.14, True, None, ["a", "b"], {"nested": "dict"}]


def _drop(shop: FakeShop, table: str, record_id: int, key: str) -> None:
    """Remove a key from a stored record (the mutation helpers can only set values)."""
    with shop.store.lock:
        getattr(shop.store, table)[record_id].pop(key, None)
        shop.store.generation += 1


def _hostile_customer(rng: random.Random, shop: FakeShop, n: int) -> None:
    choice = rng.randrange(6)
    text = rng.choice(TEXTS)
    if choice == 0:
        shop.add_customer(first_name=text, last_name=rng.choice(TEXTS),
                          email=f"hostile{n}@example.com")
    elif choice == 1:
        shop.add_customer(email=rng.choice(BAD_EMAILS) or f"h{n}@example.com",
                          first_name=text)
        if rng.random() < 0.5:
            cid = shop.add_customer(email=f"bad{n}@example.com")
            shop.update_customer(cid, email=rng.choice(BAD_EMAILS),
                                 billing={"email": rng.choice(BAD_EMAILS)})
    elif choice == 2:
        cid = shop.add_customer(email=f"types{n}@example.com")
        # (Dates and ids stay intact: the fake shop itself indexes and sorts on them.)
        field = rng.choice(["first_name", "last_name", "billing", "meta_data", "email",
                            "is_paying_customer", "date_created"])
        shop.update_customer(cid, **{field: rng.choice(WRONG_TYPES)})
    elif choice == 3:
        cid = shop.add_customer(email=f"missing{n}@example.com")
        _drop(shop, "customers", cid, rng.choice(["email", "billing", "first_name",
                                                  "last_name", "meta_data"]))
    elif choice == 4:
        shop.add_customer(email=f"addr{n}@example.com",
                          billing={"phone": rng.choice(TEXTS), "city": rng.choice(TEXTS),
                                   "postcode": rng.choice(TEXTS), "country": rng.choice(TEXTS)})
    else:
        shop.add_customer(email=f"meta{n}@example.com",
                          meta_data=[{"id": 1, "key": "newsletter_opt_in",
                                      "value": rng.choice([*TEXTS, *WRONG_TYPES])}])


def _hostile_order(rng: random.Random, shop: FakeShop, n: int) -> None:
    choice = rng.randrange(5)
    if choice == 0:
        shop.add_order(email=rng.choice(BAD_EMAILS))
    elif choice == 1:
        oid = shop.add_order(email=f"order{n}@example.com")
        field = rng.choice(["total", "currency", "line_items", "billing", "customer_id",
                            "payment_method_title", "coupon_lines"])
        shop.update_order(oid, **{field: rng.choice(WRONG_TYPES)})
    elif choice == 2:
        oid = shop.add_order(email=f"order{n}@example.com")
        _drop(shop, "orders", oid, rng.choice(["billing", "line_items", "total", "number",
                                               "customer_id", "currency"]))
    elif choice == 3:
        shop.add_order(email=f"order{n}@example.com",
                       billing={"first_name": rng.choice(TEXTS), "last_name": rng.choice(TEXTS),
                                "company": rng.choice(TEXTS)},
                       payment_method_title=rng.choice(TEXTS))
    else:
        oid = shop.add_order(email=f"lines{n}@example.com")
        order = shop.order(oid)
        lines = order["line_items"]
        if lines:
            lines[0] = {**lines[0], "name": rng.choice(TEXTS),
                        "quantity": rng.choice([*WRONG_TYPES, "many"]),
                        "sku": rng.choice(TEXTS)}
        shop.update_order(oid, line_items=lines)


def _inject(shop: FakeShop, seed: int, customers: int, orders: int) -> None:
    rng = random.Random(seed)
    for n in range(customers):
        _hostile_customer(rng, shop, n)
    for n in range(orders):
        _hostile_order(rng, shop, n)


def _synced_ids(fake: FakeCopernica, state: StateStore,
                customers: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Shop ids found in Copernica: a customer through its identity link to a profile
    key that exists (two customers sharing an e-mail address share one profile), an
    order by its ``order_id`` subprofile."""
    keys = {str(p["fields"].get("customer_key")) for p in fake.profiles("Customers")}
    links = state.identities("woocommerce", [str(c["id"]) for c in customers])
    linked = {sid for sid, ident in links.items() if ident.profile_key in keys}
    # Customers sharing an address (WooCommerce forbids it, the corpus draws it) are
    # one person: one profile, linked to the last of them.
    by_email: dict[str, set[str]] = {}
    for c in customers:
        by_email.setdefault(repr(c.get("email")), set()).add(str(c["id"]))
    shared = {sid for ids in by_email.values() if ids & linked for sid in ids}
    return {
        "customers": linked | shared,
        "orders": {str(s["fields"].get("order_id")) for s in fake.subprofiles("Orders")},
    }


def _check_accounting(report: RunReport, shop: FakeShop, state_path: Path,
                      fake: FakeCopernica) -> None:
    inputs: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "customers": lambda: shop.customers, "orders": lambda: shop.orders}
    with StateStore(state_path) as state:
        letters = state.dead_letters(status="open")
        present = _synced_ids(fake, state, shop.customers)
    for stream in report.streams:
        records = inputs[stream.stream]()
        assert stream.error is None, stream.summary()
        assert stream.read == len(records), stream.summary()
        assert stream.written + stream.unchanged + stream.dead_lettered == len(records), \
            stream.summary()
        mine = [d for d in letters if d.stream == stream.stream]
        assert len(mine) == stream.dead_lettered, (stream.summary(), mine)
        assert all(d.reason.strip() for d in mine)
        lettered = {str(d.record_key) for d in mine}
        missing = [r["id"] for r in records
                   if str(r["id"]) not in lettered and str(r["id"]) not in present[stream.stream]]
        assert missing == [], f"{stream.stream}: neither synced nor dead-lettered: {missing}"


def _assert_no_forbidden_characters(fake: FakeCopernica) -> None:
    for p in fake.profiles("Customers"):
        for value in p["fields"].values():
            assert not _FORBIDDEN_RE.search(str(value)), p
    for collection in ("Orders", "OrderItems"):
        for s in fake.subprofiles(collection):
            for value in s["fields"].values():
                assert not _FORBIDDEN_RE.search(str(value)), s


def _run(shop: FakeShop, fake: FakeCopernica, state_path: Path) -> RunReport:
    return InProcessJob(shop, fake, state_path, fast_retry()).run()


def test_hostile_customers_and_orders_are_each_synced_sanitised_or_dead_lettered(
        shop: FakeShop, copernica: FakeCopernica, tmp_path: Path) -> None:
    _inject(shop, seed=1, customers=30, orders=25)
    report = _run(shop, copernica, tmp_path / "s.sqlite3")
    assert int(report.exit_code) in (0, 1), [s.summary() for s in report.streams]
    _check_accounting(report, shop, tmp_path / "s.sqlite3", copernica)
    _assert_no_forbidden_characters(copernica)


def test_a_second_seeded_corpus_holds_the_same_accounting(
        shop: FakeShop, copernica: FakeCopernica, tmp_path: Path) -> None:
    _inject(shop, seed=2, customers=30, orders=25)
    report = _run(shop, copernica, tmp_path / "s.sqlite3")
    assert int(report.exit_code) in (0, 1), [s.summary() for s in report.streams]
    _check_accounting(report, shop, tmp_path / "s.sqlite3", copernica)
    _assert_no_forbidden_characters(copernica)


def test_a_rerun_over_hostile_records_neither_crashes_nor_writes_again(
        shop: FakeShop, copernica: FakeCopernica, tmp_path: Path) -> None:
    _inject(shop, seed=3, customers=20, orders=15)
    first = _run(shop, copernica, tmp_path / "s.sqlite3")
    assert int(first.exit_code) in (0, 1), [s.summary() for s in first.streams]
    copernica.reset_calls()
    second = _run(shop, copernica, tmp_path / "s.sqlite3")
    assert int(second.exit_code) in (0, 1), [s.summary() for s in second.streams]
    assert copernica.write_calls() <= sum(s.dead_lettered for s in first.streams) * 4
