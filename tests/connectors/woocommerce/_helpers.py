"""Helpers shared by the WooCommerce connector tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from copernica_sync.connectors.woocommerce import WooClient, WooCommerceConnector
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

#: The frozen clock of the shops in these tests.
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


class RecordedSleep:
    """An injected ``sleep`` that records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def client_for(shop: FakeShop, sleeps: RecordedSleep | None = None, **kwargs: Any) -> WooClient:
    """A client on the shop (OAuth over http unless ``auth=`` says otherwise), never sleeping."""
    return WooClient(shop.url, shop.consumer_key, shop.consumer_secret,
                     sleep=sleeps if sleeps is not None else RecordedSleep(), **kwargs)


def connector_for(shop: FakeShop, sleeps: RecordedSleep | None = None, **config: Any) -> WooCommerceConnector:
    """The connector on the shop, with a client that never sleeps."""
    cfg = shop.source_config(**config)
    client = client_for(shop, sleeps, per_page=cfg.get("per_page", 100))
    return WooCommerceConnector(cfg, client=client)


def read_all(stream: Any, start: str | None, until: str) -> list[dict[str, Any]]:
    """Every record the stream yields, flattened."""
    return [record for page in stream.read(start, until) for record in page]


def pair(record: dict[str, Any]) -> tuple[str, int]:
    return (str(record["date_modified_gmt"]), int(record["id"]))
