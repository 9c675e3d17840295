"""``WooCommerceConnector``: settings, connection check, streams, default mapping."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from copernica_sdk.sync.connector import ConfigField, Connector, Stream
from copernica_sdk.sync.errors import ConfigError, SourceAuthError
from copernica_sdk.sync.timestamps import to_utc

from .client import MAX_PER_PAGE, WooClient
from .mapping import default_mapping
from .streams import CustomersStream, OrdersStream

__all__ = ["WooCommerceConnector"]

log = logging.getLogger("copernica_sync.connectors.woocommerce")

#: The accounts a shop owner means by "customers": WooCommerce's own role for
#: accounts made at checkout, and WordPress's default role (plain registrations,
#: and where WooCommerce Subscriptions parks customers whose subscription ended).
#: Staff (administrator, shop_manager, editor…) only with ``role = "all"``.
DEFAULT_ROLES = "customer,subscriber"
_ROLE = re.compile(r"[a-z0-9_-]+")

# Characters that would break the expressions the values are spliced into.
_UNSAFE_IN_LITERAL = re.compile(r"['|{}\\]")
_UNSAFE_IN_META_KEY = re.compile(r"[\[\]|=\s'{}]")


class WooCommerceConnector(Connector):
    """Customers and orders of one WooCommerce store (REST API v3, WooCommerce 3.5+;
    5.8+ recommended for incremental order reads)."""

    name = "woocommerce"
    description = "WooCommerce store via the REST API v3: customers and orders (incl. guests)"
    config_spec: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("url", description="the shop's address, e.g. https://shop.example.com"),
        ConfigField("consumer_key", secret=True,
                    description="REST API key (WooCommerce > Settings > Advanced > REST API, Read access)"),
        ConfigField("consumer_secret", secret=True, description="the key's consumer secret"),
        ConfigField("query_string_auth", "bool", default=False,
                    description="send the keys as query parameters (for hosts that strip the "
                                "Authorization header; https only)"),
        ConfigField("timeout", "int", default=60, minimum=1,
                    description="read timeout per request, seconds"),
        ConfigField("deadline", "int", default=120, minimum=1,
                    description="most seconds one whole request may take (a shop that trickles "
                                "its answer is cut off; the retry policy then decides)"),
        ConfigField("per_page", "int", default=MAX_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE,
                    description="records per request (max 100; halved automatically on timeouts)"),
        ConfigField("role", default=DEFAULT_ROLES,
                    description="account roles to read, comma-separated: the default is the "
                                "shop's buyers, never its staff; 'all' reads every account, "
                                "administrators included"),
        ConfigField("start_date", required=False,
                    description="first run only: ignore records last modified before this ISO date"),
        ConfigField("newsletter_meta_key", default="newsletter_opt_in",
                    description="customer meta_data key holding the newsletter opt-in"),
        ConfigField("shop_id", required=False,
                    description="label stored on every profile and order (default: the url's host)"),
        ConfigField("include_trash", "bool", default=True,
                    description="also read trashed orders, so their status reaches Copernica"),
    )

    def __init__(self, config: Mapping[str, Any], *, client: WooClient | None = None) -> None:
        super().__init__(config)
        start_date = self.config.get("start_date")
        self.start_date: str | None = to_utc(start_date, epoch_numbers=False) if start_date else None
        self.roles: tuple[str, ...] = _roles(self.config["role"])
        self.include_trash: bool = self.config["include_trash"]
        self.page_size: int = self.config["per_page"]
        self.newsletter_meta_key: str = self.config["newsletter_meta_key"]
        self.shop_id: str = self.config.get("shop_id") or _shop_id_from(self.config["url"])
        if client is None:
            try:
                client = WooClient(
                    self.config["url"],
                    self.config["consumer_key"],
                    self.config["consumer_secret"],
                    query_string_auth=self.config["query_string_auth"],
                    timeout=self.config["timeout"],
                    deadline=self.config["deadline"],
                    per_page=self.page_size,
                )
            except ConfigError as exc:
                raise ConfigError([f"source.{p}" for p in exc.problems]) from None
        self.client = client
        self._streams: list[Stream] = [CustomersStream(self), OrdersStream(self)]

    @classmethod
    def config_problems(cls, config: Mapping[str, Any]) -> list[str]:
        # (Ranges are the ConfigFields' minimum/maximum; what they cannot say is here.)
        problems = []
        if config.get("start_date"):
            try:
                to_utc(config["start_date"], epoch_numbers=False)
            except ValueError:
                problems.append("start_date: must be an ISO date such as 2024-01-31")
        role = config["role"]
        if not isinstance(role, str) or not _roles(role) or \
                not all(_ROLE.fullmatch(r) for r in _roles(role)):
            problems.append(f"role: {role!r} is not a comma-separated list of role names "
                            f"(e.g. {DEFAULT_ROLES!r}, or 'all')")
        if config.get("shop_id") and _UNSAFE_IN_LITERAL.search(config["shop_id"]):
            problems.append("shop_id: must not contain quotes, pipes, braces or backslashes")
        if _UNSAFE_IN_META_KEY.search(config["newsletter_meta_key"]):
            problems.append("newsletter_meta_key: must not contain brackets, '=', '|', "
                            "quotes, braces or spaces")
        return problems

    def check(self) -> None:
        """Read ``system_status`` (or, for a key that may not, one customer) and
        detect what the orders endpoint supports.  Raises a ``SourceError``
        subclass whose message says what to fix."""
        try:
            self.client.system_status()
        except SourceAuthError:
            # A Read key of a user without manage_woocommerce may not read
            # system_status; what the sync needs is customers and orders.
            self.client.get_page("customers", {"_fields": "id", "role": self.roles[0]}, per_page=1)
        caps = self.client.capabilities()
        if not caps.sorted_orders:
            log.warning(
                "WooCommerce %s cannot list orders by modification date; every run scans all "
                "orders (WooCommerce 5.8 or newer avoids this)", caps.version or "(version unknown)")

    def streams(self) -> Sequence[Stream]:
        """Customers, then orders (so order profiles find registered customers first)."""
        return list(self._streams)

    def default_mapping(self) -> Mapping[str, Any]:
        return default_mapping(self.shop_id, self.newsletter_meta_key)

    def close(self) -> None:
        self.client.close()


def _roles(value: object) -> tuple[str, ...]:
    """``"customer, subscriber"`` → ``("customer", "subscriber")``; ``all`` wins over
    any other role listed with it (it reads every account once)."""
    roles = tuple(dict.fromkeys(r.strip().lower() for r in str(value).split(",") if r.strip()))
    return ("all",) if "all" in roles else roles


def _shop_id_from(url: str) -> str:
    """``https://www.Shop.example/nl/`` → ``shop.example/nl``."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.")
    path = parts.path.strip("/")
    for suffix in ("wp-json/wc/v3", "wp-json"):
        path = path.removesuffix(suffix).strip("/")
    label = f"{host}/{path}" if path else host
    return _UNSAFE_IN_LITERAL.sub("", label)
