"""The default ``[target]`` mapping of the WooCommerce connector.

One Copernica profile per person, keyed by the normalised e-mail address, so a
guest order (``customer_id = 0``) and a registered customer with the same
address land on the same profile (as Mailchimp's plugin does,
docs/source-api-notes.md §4).  Orders and their line items are collections.

Aggregates over a person's paid orders (orders count, total spent net of
refunds, first and last order date) are computed by the engine from every order
it has synced for that profile (``aggregates`` in the orders stream).  Each
order carries its refunded amount (``refunded``) and ``net_total``; the orders
stream adds ``refunded_total`` and ``net_total`` to every order record for them
(see :mod:`copernica_sync.connectors.woocommerce.refunds`).  docs/connectors/woocommerce.md
defines each aggregate next to WooCommerce's own.

Field precedence (docs/guarantees.md, "Identity and field precedence"): a
registered customer's account data (customers stream) wins over any order's
billing data, and the orders of a key an account claims only attach (key and
aggregates).  For guests, the newest order by ``date_created_gmt`` (the
``recency`` of the orders profile) gives the name and address, whatever order
the orders arrive in — not the most recently *modified* one, so refunding an
old order does not bring back its old address.
"""

from __future__ import annotations

from typing import Any

__all__ = ["default_mapping"]


def _datetime(source: str, type_: str = "datetime") -> dict[str, str]:
    return {"source": f"{source} | datetime", "type": type_}


def _money(source: str) -> dict[str, str]:
    return {"source": f"{source} | number:2", "type": "float"}


def _integer(source: str) -> dict[str, str]:
    return {"source": source, "type": "integer"}


def default_mapping(shop_id: str, newsletter_meta_key: str) -> dict[str, Any]:
    """The mapping as a dict of the ``[target]`` TOML table's shape.

    ``shop_id`` and ``newsletter_meta_key`` must already be validated (no quotes,
    brackets or pipes), since they are spliced into expressions.
    """
    shop = f"'{shop_id}'"
    customer_profile = {
        "key": "email | normalize_email",
        "source_id": "id",
        "fields": {
            "email": {"source": "email | normalize_email", "type": "email"},
            "firstname": "first_name",
            "lastname": "last_name",
            "company": "billing.company",
            "phone": "billing.phone",
            "address": "billing.address_1",
            "zipcode": "billing.postcode",
            "city": "billing.city",
            "country": "billing.country",
            "woo_customer_id": _integer("id"),
            "paying_customer": "is_paying_customer | bool",
            "created": _datetime("date_created_gmt"),
            "modified": _datetime("date_modified_gmt"),
            "shop_id": shop,
            # Customer meta is only shown to administrators' API keys: when it is
            # missing, keep the opt-in Copernica has rather than clearing it.
            "newsletter": {"source": f"meta_data[key={newsletter_meta_key}].value | bool",
                           "if_missing": "keep"},
        },
    }
    order_profile = {
        "key": "billing.email | normalize_email",
        "source_id": "customer_id",
        # The order date decides between orders (not the last modification).
        "recency": "date_created_gmt | datetime",
        "fields": {
            "email": {"source": "billing.email | normalize_email", "type": "email"},
            "firstname": "billing.first_name",
            "lastname": "billing.last_name",
            "company": "billing.company",
            "phone": "billing.phone",
            "address": "billing.address_1",
            "zipcode": "billing.postcode",
            "city": "billing.city",
            "country": "billing.country",
            "shop_id": shop,
            # Checkout opt-ins are stored on the order; an order without one says nothing.
            "newsletter": {"source": f"meta_data[key={newsletter_meta_key}].value | bool",
                           "if_missing": "keep"},
        },
    }
    orders = {
        "key_field": "order_id",
        "fields": {
            "order_id": "id",
            "number": "number",
            "status": "status",
            "currency": "currency",
            "total": _money("total"),
            # Refunds (partial or full) as a positive amount, and total minus refunds.
            "refunded": _money("refunded_total"),
            "net_total": _money("net_total"),
            "total_tax": _money("total_tax"),
            "shipping_total": _money("shipping_total"),
            "discount_total": _money("discount_total"),
            "coupons": "coupon_lines[*].code | join:', '",
            "payment_method": "payment_method_title",
            "created": _datetime("date_created_gmt"),
            "modified": _datetime("date_modified_gmt"),
            # Unpaid and open orders have no such date: empty_datetime can hold "none".
            "paid": _datetime("date_paid_gmt", "empty_datetime"),
            "completed": _datetime("date_completed_gmt", "empty_datetime"),
            "customer_id": _integer("customer_id"),
            "shop_id": shop,
        },
    }
    order_items = {
        "each": "line_items",
        "key_field": "item_key",
        "fields": {
            "item_key": "{$parent.id}-{id}",
            "order_id": "$parent.id",
            "product_id": _integer("product_id"),
            "variation_id": _integer("variation_id"),
            "sku": "sku",
            "name": "name",
            "quantity": _integer("quantity"),
            "price": _money("price"),
            "total": _money("total"),
        },
    }
    # Over a person's paid orders (WooCommerce's own notion of a paying customer);
    # a cancelled, refunded or trashed order stops counting when it changes.
    # total_spent is net of refunds: a partially refunded order counts what was kept.
    order_aggregates = {
        "include_when": {"status": ["completed", "processing", "on-hold"]},
        "fields": {
            "orders_count": {"function": "count", "type": "integer"},
            "total_spent": {"function": "sum", "source": "net_total", "type": "float"},
            "first_order": {"function": "min", "source": "date_created_gmt | datetime",
                            "type": "empty_datetime"},
            "last_order": {"function": "max", "source": "date_created_gmt | datetime",
                           "type": "empty_datetime"},
        },
    }
    return {
        "database": "Customers",
        "profile_key": "customer_key",
        "streams": {
            "customers": {"profile": customer_profile},
            "orders": {
                "profile": order_profile,
                "collections": {"Orders": orders, "OrderItems": order_items},
                "aggregates": order_aggregates,
            },
        },
    }
