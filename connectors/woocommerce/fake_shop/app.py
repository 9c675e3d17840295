"""The fake shop as a WSGI app: routing, auth, latency, faults, pagination headers.

Routes (GET only, like a Read key): ``/wp-json/wc/v3/system_status``,
``/customers``, ``/customers/<id>``, ``/orders``, ``/orders/<id>``.  Anything
else under ``/wp-json/`` answers 404 ``rest_no_route``.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from .auth import Authenticator, cannot_view
from .faults import FaultPlan, RecordFaults
from .lies import ListingLies, lie
from .query import ApiError, Features, Listing, list_customers, list_orders
from .store import Store
from .wire import select_fields

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("copernica_sync.connectors.woocommerce.fake_shop")

Latency = float | Callable[[random.Random], float]

API_PREFIX = "/wp-json/wc/v3/"
_ITEM = re.compile(r"^(customers|orders)/(\d+)$")
_SECRET_PARAM = re.compile(r"^(consumer_key|consumer_secret|oauth_.*)$")
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
            308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}
_JSON = "application/json; charset=UTF-8"
_HTML = "text/html; charset=UTF-8"


class DropConnection(ConnectionError):
    """Raised out of the app so the server closes the connection without answering."""


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str | None = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None  # a body without Content-Length (trickle)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One API request as the fake saw it; credentials and signatures left out."""

    endpoint: str
    params: dict[str, str]
    auth: str | None
    status: int
    fault: str | None


@dataclass
class Settings:
    """The knobs of a running fake (FakeShop exposes them as attributes)."""

    version: str
    orderby_modified: bool | None
    system_status_forbidden: bool
    latency: Latency
    utc_offset: timedelta
    base_url: str = ""
    lies: ListingLies | None = None

    def features(self) -> Features:
        v = _version(self.version)
        modified = v >= (5, 8)
        return Features(
            modified_filters=modified,
            dates_are_gmt=v >= (5, 4),
            orderby_modified=modified if self.orderby_modified is None else self.orderby_modified,
        )


def _version(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split("."):
        digits = re.match(r"\d+", part)
        if not digits:
            break
        out.append(int(digits.group()))
    return tuple(out)


def _json(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, RecordFaults.encode(payload), _JSON, headers or [])


def _html(status: int, title: str, text: str) -> Reply:
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    return Reply(status, body.encode("utf-8"), _HTML)


class ShopApp:
    """The WSGI callable."""

    def __init__(self, store: Store, auth: Authenticator, faults: FaultPlan, settings: Settings, seed: int) -> None:
        self.store = store
        self.auth = auth
        self.faults = faults
        self.settings = settings
        self.stopping = threading.Event()
        self._latency_rng = random.Random(seed)
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._requests: list[RequestRecord] = []

    # ------------------------------------------------------------------ counters

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._requests.clear()

    # ---------------------------------------------------------------------- WSGI

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        query = environ.get("QUERY_STRING", "")
        if not path.startswith(API_PREFIX):
            reply = _html(404, "Page not found", "Oops! That page cannot be found.")
            return self._send(start_response, reply)
        endpoint = path[len(API_PREFIX):].strip("/")
        key = _ITEM.sub(r"\1/{id}", endpoint)
        params = _params(query)
        auth_used: str | None = None
        fault: str | None = None
        with self._lock:
            self._calls[key] += 1
        try:
            self._sleep_latency()
            fault = self.faults.next(key)
            if fault is not None:
                reply = self._fault(fault)
            else:
                auth_used = self.auth.authenticate(
                    method=environ.get("REQUEST_METHOD", "GET"),
                    uri=f"{self.settings.base_url.rstrip('/')}{path}",
                    query=query,
                    params=params,
                    authorization=environ.get("HTTP_AUTHORIZATION"),
                )
                reply = self._route(environ.get("REQUEST_METHOD", "GET"), endpoint, params, path)
        except ApiError as err:
            reply = _json(err.status, err.body())
        except DropConnection:
            self._record(key, params, auth_used, 0, fault)
            raise
        except Exception:
            # A bug in the fake still answers, the way a PHP fatal error would.
            log.exception("fake shop failed on %s", path)
            reply = _html(500, "WordPress - Error", "There has been a critical error on this website.")
        self._record(key, params, auth_used, reply.status, fault)
        return self._send(start_response, reply)

    def _record(self, key: str, params: dict[str, str], auth: str | None, status: int, fault: str | None) -> None:
        visible = {k: v for k, v in params.items() if not _SECRET_PARAM.match(k)}
        with self._lock:
            self._requests.append(RequestRecord(key, visible, auth, status, fault))

    def _send(self, start_response: StartResponse, reply: Reply) -> Iterable[bytes]:
        headers = list(reply.headers)
        if reply.content_type:
            headers.append(("Content-Type", reply.content_type))
        if reply.stream is not None:
            start_response(f"{reply.status} {_REASONS.get(reply.status, 'Unknown')}", headers)
            return reply.stream
        headers.append(("Content-Length", str(len(reply.body))))
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'Unknown')}", headers)
        return [reply.body]

    def _sleep_latency(self) -> None:
        latency = self.settings.latency
        if callable(latency):
            with self._lock:
                seconds = latency(self._latency_rng)
        else:
            seconds = latency
        if seconds > 0:
            self.stopping.wait(seconds)

    # -------------------------------------------------------------------- routes

    def _route(self, method: str, endpoint: str, params: dict[str, str], path: str) -> Reply:
        if method not in ("GET", "HEAD"):
            raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
        fields = [f for f in params.get("_fields", "").split(",") if f]
        if endpoint == "system_status":
            if self.settings.system_status_forbidden:
                raise cannot_view(403)
            return _json(200, _trim(self._system_status(), fields))
        item = _ITEM.match(endpoint)
        with self.store.lock:
            if item:
                table = self.store.orders if item.group(1) == "orders" else self.store.customers
                record = table.get(int(item.group(2)))
                if record is None:
                    code = "woocommerce_rest_shop_order_invalid_id" if item.group(1) == "orders" else "woocommerce_rest_invalid_id"
                    raise ApiError(404, code, "Invalid ID." if item.group(1) == "orders" else "Invalid resource ID.")
                return _json(200, _trim(self._with_links(item.group(1), record), fields))
            if endpoint not in ("orders", "customers"):
                raise ApiError(404, "rest_no_route", "No route was found matching the URL and request method.")
            listing = lie(self.settings.lies, endpoint, params, self._list(endpoint, params),
                          lambda other: self._list(endpoint, other))
            body = [_trim(self._with_links(endpoint, r), fields) for r in listing.records]
            return _json(200, body, self._paging_headers(path, params, listing))

    def _list(self, endpoint: str, params: dict[str, str]) -> Listing:
        if endpoint == "orders":
            return list_orders(self.store.orders, params, self.settings.features(),
                               self.settings.utc_offset, self.store.index("orders"))
        return list_customers(self.store.customers, params, self.store.index("customers"))

    def _with_links(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.settings.base_url.rstrip('/')}{API_PREFIX}{kind}"
        links: dict[str, Any] = {"self": [{"href": f"{base}/{record['id']}"}], "collection": [{"href": base}]}
        if kind == "orders" and record.get("customer_id"):
            links["customer"] = [{"href": f"{self.settings.base_url.rstrip('/')}{API_PREFIX}customers/{record['customer_id']}"}]
        return self.faults.records.apply(kind, {**record, "_links": links})

    def _paging_headers(self, path: str, params: dict[str, str], listing: Listing) -> list[tuple[str, str]]:
        headers = [("X-WP-Total", str(listing.total)), ("X-WP-TotalPages", str(listing.total_pages))]
        base = f"{self.settings.base_url.rstrip('/')}{path}"
        links = []
        # WordPress copies every query parameter into the links — credentials too.
        if listing.page > 1:
            prev_page = min(listing.page - 1, max(listing.total_pages, 1))
            links.append(f'<{base}?{urlencode({**params, "page": prev_page})}>; rel="prev"')
        if listing.page < listing.total_pages:
            links.append(f'<{base}?{urlencode({**params, "page": listing.page + 1})}>; rel="next"')
        if links:
            headers.append(("Link", ", ".join(links)))
        return headers

    def _system_status(self) -> dict[str, Any]:
        url = self.settings.base_url.rstrip("/")
        return {
            "environment": {
                "home_url": url, "site_url": url, "version": self.settings.version,
                "wp_version": "6.5.3", "wp_multisite": False, "wp_memory_limit": 268435456,
                "wp_debug_mode": False, "language": "nl_NL", "server_info": "fake-shop",
                "php_version": "8.2.0", "max_upload_size": 67108864, "default_timezone": "UTC",
            },
            "database": {"wc_database_version": self.settings.version, "database_prefix": "wp_"},
            "active_plugins": [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce",
                                "version": self.settings.version}],
            "settings": {"api_enabled": True, "currency": "EUR", "currency_symbol": "€"},
        }

    # -------------------------------------------------------------------- faults

    def _fault(self, kind: str) -> Reply:
        if kind == "http500":
            return _html(500, "WordPress - Error", "There has been a critical error on this website.")
        if kind == "http502":
            return _html(502, "502 Bad Gateway", "nginx")
        if kind == "http503":
            return _html(503, "503 Service Unavailable", "The server is temporarily unable to service your request.")
        if kind == "http504":
            return _html(504, "504 Gateway Time-out", "nginx")
        if kind == "http429":
            return Reply(429, b"Too Many Requests", "text/plain; charset=UTF-8",
                         [("Retry-After", self.faults.retry_after)])
        if kind == "maintenance":
            reply = _html(503, "Maintenance", "Briefly unavailable for scheduled maintenance. Check back in a minute.")
            reply.headers.append(("Retry-After", "600"))
            return reply
        if kind == "timeout":
            self.stopping.wait(self.faults.timeout_seconds)
            raise DropConnection("injected timeout")
        if kind == "reset":
            raise DropConnection("injected reset")
        if kind == "trickle":
            return Reply(200, b"", _JSON, stream=self._trickle())
        if kind == "redirect":
            return Reply(self.faults.redirect_status, b"", None,
                         [("Location", self.faults.redirect_to)])
        if kind == "php_notice":
            return Reply(200, b"<br />\n<b>Notice</b>:  Undefined index: foo in <b>/var/www/wp-content/"
                              b"plugins/x/x.php</b> on line <b>12</b><br />\n[]", _HTML)
        return Reply(200, b'[{"id":1,"status":"compl', _JSON)  # truncated_json


    def _trickle(self) -> Iterator[bytes]:
        """A JSON list that never ends: a few bytes at a time until the fake stops
        (or the client hangs up: the server's write then fails and ends this)."""
        yield b"["
        while not self.stopping.is_set():
            yield b" " * self.faults.trickle_bytes
            self.stopping.wait(self.faults.trickle_interval)


def _params(query: str) -> dict[str, str]:
    """Query parameters; ``name[]=a&name[]=b`` becomes ``name="a,b"`` as PHP sees an array."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.endswith("[]"):
            key = key[:-2]
            out[key] = f"{out[key]},{value}" if key in out else value
        else:
            out[key] = value
    return out


def _trim(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return select_fields(record, fields) if fields else record
