"""WooCommerce connector: customers and orders over the REST API v3.

``WooCommerceConnector`` is what ``[source] connector = "woocommerce"`` loads;
``WooClient`` is the HTTP client underneath; ``fake_shop.FakeShop`` is a
stateful fake store for tests and demos.
"""

from .client import WOO_RETRY, Capabilities, WooClient
from .connector import WooCommerceConnector
from .streams import CustomersStream, OrdersStream

__all__ = [
    "WOO_RETRY",
    "Capabilities",
    "CustomersStream",
    "OrdersStream",
    "WooClient",
    "WooCommerceConnector",
]
