"""WooCommerce connector: customers and orders over the REST API v3.

``WooCommerceConnector`` is what ``[source] connector = "woocommerce"`` loads;
``WooClient`` is the HTTP client underneath; ``fake_shop.FakeShop`` is a
stateful fake store for tests and demos.
"""

from .client import Capabilities, RetrySettings, WooClient
from .connector import WooCommerceConnector
from .streams import CustomersStream, OrdersStream

__all__ = [
    "Capabilities",
    "CustomersStream",
    "OrdersStream",
    "RetrySettings",
    "WooClient",
    "WooCommerceConnector",
]
