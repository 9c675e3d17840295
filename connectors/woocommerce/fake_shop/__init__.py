"""A stateful fake WooCommerce store (REST API v3) for tests and demos.

Served over real loopback HTTP with the real field set, pagination headers,
filters, errors and all three authentication schemes::

    from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

    with FakeShop(customers=100, orders=300, seed=7) as shop:
        shop.url, shop.consumer_key, shop.consumer_secret

Run it by hand with ``python -m copernica_sync.connectors.woocommerce.fake_shop --help``.
"""

from .app import RequestRecord
from .faults import FAULT_KINDS, FaultPlan
from .lies import ListingLies
from .server import FakeShop

__all__ = ["FAULT_KINDS", "FakeShop", "FaultPlan", "ListingLies", "RequestRecord"]
