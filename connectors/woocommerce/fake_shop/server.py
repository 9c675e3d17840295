"""FakeShop: the fake store on a threaded loopback HTTP server, plus helpers."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import socket
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from copernica_sdk.testing._background import serve_in_background

from .app import DropConnection, Latency, RequestRecord, Settings, ShopApp
from .auth import Authenticator, Credentials
from .faults import FaultPlan
from .generate import Generator, Options
from .lies import ListingLies
from .store import Clock, Store

log = logging.getLogger("copernica_sync.connectors.woocommerce.fake_shop")


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, quiet, closing the socket when the app drops a request."""

    # Keep-alive, as a real web server offers: clients reuse the connection.
    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path.split("?")[0], code)

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type if type in ("debug", "info", "warning", "error") else "info")(message, *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # Without this a keep-alive client waits for an answer that never comes.
        self.close_connection = True
        if isinstance(error, DropConnection):
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


def _credential(prefix: str, seed: int) -> str:
    return f"{prefix}_fake" + hashlib.sha1(f"{prefix}:{seed}".encode()).hexdigest()[:36]


class FakeShop:
    """A stateful fake WooCommerce store serving ``/wp-json/wc/v3/`` on loopback HTTP.

    Use as a context manager (or ``start()``/``stop()``)::

        with FakeShop(customers=100, orders=300, seed=1) as shop:
            client = WooClient(shop.url, shop.consumer_key, shop.consumer_secret)

    Data is generated from ``seed`` relative to ``now`` (default: real time; a
    given ``now`` freezes the shop's clock, which ``advance()`` moves).
    Knobs: ``version`` ("5.6.0" has no modified filters and rejects
    ``orderby=modified``), ``orderby_modified`` (override), ``latency``,
    ``faults`` (a FaultPlan; its kinds include the hostile "trickle" — a body
    that never ends — and "redirect" to another host), ``system_status_forbidden``,
    ``strip_authorization``, ``lies`` (a ListingLies: listings that lie).
    ``calls``/``requests`` count what arrived.
    """

    def __init__(
        self,
        customers: int = 50,
        orders: int = 150,
        seed: int = 0,
        *,
        guests_ratio: float = 0.3,
        tie_heavy: bool = True,
        tie_burst: int | None = None,
        trashed: int | None = None,
        null_modified_ratio: float = 0.02,
        newsletter_meta_key: str = "newsletter_opt_in",
        version: str = "8.9.0",
        orderby_modified: bool | None = None,
        system_status_forbidden: bool = False,
        latency: Latency = 0.0,
        utc_offset_hours: float = 2.0,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host, self.port, self.seed = host, port, seed
        self.consumer_key = _credential("ck", seed)
        self.consumer_secret = _credential("cs", seed)
        self.clock = Clock(now)
        offset = timedelta(hours=utc_offset_hours)
        options = Options(
            customers=customers, orders=orders, seed=seed, guests_ratio=guests_ratio,
            tie_heavy=tie_heavy, tie_burst=tie_burst, trashed=trashed,
            null_modified_ratio=null_modified_ratio, newsletter_meta_key=newsletter_meta_key,
            version=version, utc_offset=offset, store_url=f"http://{host}",
        )
        self.store = Store(Generator(options, self.clock.now()), self.clock, utc_offset=offset, seed=seed)
        self.faults = FaultPlan()
        """Fault injection for upcoming API requests (see FaultPlan)."""
        self.settings = Settings(version, orderby_modified, system_status_forbidden, latency, offset)
        self.authenticator = Authenticator(Credentials(self.consumer_key, self.consumer_secret))
        self.app = ShopApp(self.store, self.authenticator, self.faults, self.settings, seed)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeShop:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        try:
            server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_Handler)
        except SystemExit:
            # werkzeug exits the process on bind errors; a library must raise instead.
            raise OSError(f"cannot listen on {self.host}:{self.port}") from None
        self._server = server
        self.port = server.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.settings.base_url = f"http://{host}:{self.port}"
        self.app.stopping.clear()
        self._thread = serve_in_background(server, "fake-shop")
        return self

    def stop(self) -> None:
        """Stop serving and release requests held by latency or timeout faults."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            self.app.stopping.set()
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeShop:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The store URL, ``http://127.0.0.1:PORT`` (only once started)."""
        if not self.settings.base_url:
            raise RuntimeError("FakeShop is not started")
        return self.settings.base_url

    @property
    def api_url(self) -> str:
        return f"{self.url}/wp-json/wc/v3/"

    def source_config(self, **overrides: Any) -> dict[str, Any]:
        """A ``[source]`` table for the woocommerce connector pointing at this shop."""
        return {"connector": "woocommerce", "url": self.url, "consumer_key": self.consumer_key,
                "consumer_secret": self.consumer_secret, **overrides}

    # ---------------------------------------------------------------------- knobs

    @property
    def version(self) -> str:
        return self.settings.version

    @version.setter
    def version(self, value: str) -> None:
        self.settings.version = value

    @property
    def orderby_modified(self) -> bool | None:
        return self.settings.orderby_modified

    @orderby_modified.setter
    def orderby_modified(self, value: bool | None) -> None:
        self.settings.orderby_modified = value

    @property
    def system_status_forbidden(self) -> bool:
        return self.settings.system_status_forbidden

    @system_status_forbidden.setter
    def system_status_forbidden(self, value: bool) -> None:
        self.settings.system_status_forbidden = value

    @property
    def strip_authorization(self) -> bool:
        return self.authenticator.strip_authorization

    @strip_authorization.setter
    def strip_authorization(self, value: bool) -> None:
        self.authenticator.strip_authorization = value

    @property
    def lies(self) -> ListingLies | None:
        """Hostile pagination (see ListingLies); ``None`` = honest listings."""
        return self.settings.lies

    @lies.setter
    def lies(self, value: ListingLies | None) -> None:
        self.settings.lies = value

    @property
    def latency(self) -> Latency:
        return self.settings.latency

    @latency.setter
    def latency(self, value: Latency) -> None:
        self.settings.latency = value

    # ------------------------------------------------------------------- counters

    @property
    def calls(self) -> Mapping[str, int]:
        """Endpoint (``orders``, ``orders/{id}``, ``customers``…) → requests received."""
        return MappingProxyType(self.app.calls())

    @property
    def requests(self) -> list[RequestRecord]:
        """Every API request so far, in order, without credentials."""
        return self.app.requests()

    def reset_calls(self) -> None:
        self.app.reset_calls()

    # ----------------------------------------------------------------- clock/data

    def now(self) -> datetime:
        """The shop's clock (whole seconds, UTC)."""
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the shop's clock forward; returns the new time."""
        return self.clock.advance(seconds)

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Copies of every order (trashed included), by id."""
        with self.store.lock:
            return [copy.deepcopy(self.store.orders[i]) for i in sorted(self.store.orders)]

    @property
    def customers(self) -> list[dict[str, Any]]:
        """Copies of every customer, by id."""
        with self.store.lock:
            return [copy.deepcopy(self.store.customers[i]) for i in sorted(self.store.customers)]

    def order(self, order_id: int) -> dict[str, Any]:
        return self.store.order(order_id)

    def customer(self, customer_id: int) -> dict[str, Any]:
        return self.store.customer(customer_id)

    def touch_orders(self, n: int, *, status: str | None = None) -> list[int]:
        """Bump ``date_modified`` of ``n`` seeded-random orders; returns their ids."""
        return self.store.touch_orders(n, status=status)

    def update_order(self, order_id: int, **changes: Any) -> dict[str, Any]:
        """Change an order (nested dicts merged) and bump ``date_modified``."""
        return self.store.update_order(order_id, **changes)

    def update_customer(self, customer_id: int, **changes: Any) -> dict[str, Any]:
        """Change a customer (nested dicts merged) and bump ``date_modified``."""
        return self.store.update_customer(customer_id, **changes)

    def change_email(self, customer_id: int, new: str) -> dict[str, Any]:
        """Change a customer's account and billing e-mail; old orders keep theirs."""
        return self.store.change_email(customer_id, new)

    def trash_order(self, order_id: int) -> dict[str, Any]:
        """Move an order to the trash."""
        return self.store.trash_order(order_id)

    def delete_order(self, order_id: int) -> None:
        """Delete an order permanently."""
        self.store.delete_order(order_id)

    def add_customer(self, **fields: Any) -> int:
        """Register a customer now; returns its id."""
        return self.store.add_customer(**fields)

    def add_order(self, customer_id: int = 0, *, email: str | None = None, status: str = "processing",
                  **changes: Any) -> int:
        """Place an order now (guest when ``customer_id`` is 0); returns its id."""
        return self.store.add_order(customer_id, email=email, status=status, **changes)


__all__ = ["FakeShop"]
