"""List parameters, filters and ordering of ``/orders`` and ``/customers``, as
WooCommerce implements them (CRUD controller for orders, the v1 customers
controller for customers).

Version-dependent behaviour: ``modified_after``/``modified_before`` exist from
5.8 and ``dates_are_gmt`` from 5.4; before that WordPress silently ignores them
(unknown parameters are ignored).  ``orderby=modified`` is rejected with 400
``rest_invalid_param`` where unsupported, as an enum violation is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .index import Sorted

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "checkout-draft", "trash")
ROLES = ("all", "administrator", "editor", "author", "contributor", "subscriber", "customer",
         "shop_manager")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$")


class ApiError(Exception):
    """A WooCommerce JSON error: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def invalid(name: str, reason: str) -> ApiError:
    return ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
                    params={name: reason}, details={name: {"code": "rest_invalid_type", "message": reason}})


@dataclass(frozen=True)
class Features:
    """What the simulated WooCommerce version supports."""

    modified_filters: bool
    dates_are_gmt: bool
    orderby_modified: bool


@dataclass
class Listing:
    """One page of a list answer plus what the pagination headers need."""

    records: list[dict[str, Any]]
    total: int
    per_page: int
    page: int
    total_pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.total_pages = math.ceil(self.total / self.per_page) if self.total else 0


# ------------------------------------------------------------------- parameters

def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f"greater than or equal to {low}"
        raise invalid(name, f"{name} must be {bound}")
    return value


def _bool(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(name, f"{name} is not of type boolean.")


def _ids(params: Mapping[str, str], name: str) -> list[int] | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise invalid(name, f"{name}[0] is not of type integer.") from None


def _enum(params: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise invalid(name, f"{name} is not one of {', '.join(allowed)}.")
    return value


def _date(params: Mapping[str, str], name: str, gmt: bool, utc_offset: timedelta) -> str | None:
    """The bound as a string comparable with the local or the ``_gmt`` column."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _DATE_TIME.match(raw.strip()):
        raise invalid(name, "Invalid date.")
    text = raw.strip().replace(" ", "T").replace("t", "T")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        utc = moment.astimezone(UTC).replace(tzinfo=None)
        moment = utc if gmt else utc + utc_offset
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _paging(params: Mapping[str, str]) -> tuple[int, int, int]:
    per_page = _int(params, "per_page", 10, 1, 100)
    page = _int(params, "page", 1, 1)
    offset = _int(params, "offset", -1, 0) if params.get("offset") not in (None, "") else -1
    start = offset if offset >= 0 else (page - 1) * per_page
    return per_page, page, start


def _finish(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], descending: bool,
            params: Mapping[str, str]) -> Listing:
    per_page, page, start = _paging(params)
    rows.sort(key=key, reverse=descending)
    return Listing(rows[start:start + per_page], len(rows), per_page, page)


def _slice(rows: list[dict[str, Any]], lo: int, hi: int, descending: bool,
           params: Mapping[str, str]) -> Listing:
    """A page of the already-sorted ``rows[lo:hi]`` without copying the rest."""
    per_page, page, start = _paging(params)
    if descending:
        end = hi - start
        chunk = rows[max(lo, end - per_page):end][::-1] if end > lo else []
    else:
        chunk = rows[lo + start:min(hi, lo + start + per_page)]
    return Listing(chunk, hi - lo, per_page, page)


def _search(rows: list[dict[str, Any]], term: str | None, fields: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
    if not term:
        return rows
    needle = term.lower()
    return [r for r in rows if needle in fields(r).lower()]


# ---------------------------------------------------------------------- sorting

Row = dict[str, Any]
SortKey = Callable[[Row], Any]


def _by_id(row: Row) -> Any:
    return row["id"]


def _by_created(row: Row) -> Any:
    # WordPress appends the ID to date orderings "for consistency with pagination".
    return (row["date_created_gmt"], row["id"])


def _by_modified(row: Row) -> Any:
    return (row["date_modified_gmt"], row["id"])


def _by_name(row: Row) -> Any:
    return (f"{row['first_name']} {row['last_name']}".lower(), row["id"])


def _by_position(ids: list[int]) -> SortKey:
    position = {record_id: i for i, record_id in enumerate(ids)}
    return lambda row: position.get(row["id"], len(position))


_ORDER_KEYS: dict[str, SortKey] = {"date": _by_created, "title": _by_created, "modified": _by_modified}
_CUSTOMER_KEYS: dict[str, SortKey] = {"name": _by_name, "registered_date": _by_created}


# ----------------------------------------------------------------------- orders

def list_orders(orders: Mapping[int, dict[str, Any]], params: Mapping[str, str], features: Features,
                utc_offset: timedelta, index: Mapping[str, Sorted] | None = None) -> Listing:
    _paging(params)  # validate before filtering
    statuses = [s for s in (params.get("status") or "any").split(",") if s]
    for status in statuses:
        if status != "any" and status not in ORDER_STATUSES:
            raise invalid("status", f"status[0] is not one of any, {', '.join(ORDER_STATUSES)}.")
    orderby_allowed = ("date", "id", "include", "title", "slug") + (("modified",) if features.orderby_modified else ())
    orderby = _enum(params, "orderby", "date", orderby_allowed)
    order = _enum(params, "order", "desc", ("asc", "desc"))
    gmt = _bool(params, "dates_are_gmt", False) if features.dates_are_gmt else False
    suffix = "_gmt" if gmt else ""
    bounds: list[tuple[str, str, bool]] = []  # (column, value, after?)
    for name, column, after in (("after", "date_created", True), ("before", "date_created", False),
                                ("modified_after", "date_modified", True),
                                ("modified_before", "date_modified", False)):
        if name.startswith("modified") and not features.modified_filters:
            continue
        value = _date(params, name, gmt, utc_offset)
        if value is not None:
            bounds.append((column + suffix, value, after))
    include, exclude = _ids(params, "include"), _ids(params, "exclude")
    customer = params.get("customer")
    customer_id = _int(params, "customer", 0, 0) if customer not in (None, "") else None

    if index is not None:
        fast = _fast_orders(index, statuses, params, orderby, bounds)
        if fast is not None:
            rows, lo, hi = fast
            return _slice(rows, lo, hi, order == "desc", params)
    wanted = set(statuses)
    any_status = "any" in wanted
    candidates = [orders[i] for i in dict.fromkeys(include) if i in orders] if include is not None else orders.values()
    rows = []
    for o in candidates:
        status = o["status"]
        if not ((any_status and status != "trash") or status in wanted):
            continue
        if include is not None and o["id"] not in include:
            continue
        if exclude is not None and o["id"] in exclude:
            continue
        if customer_id is not None and o["customer_id"] != customer_id:
            continue
        if any(not (o[col] > v if after else o[col] < v) for col, v, after in bounds):
            continue
        rows.append(o)
    rows = _search(rows, params.get("search"),
                   lambda o: f"{o['billing'].get('first_name', '')} {o['billing'].get('last_name', '')} "
                             f"{o['billing'].get('email', '')} {o['id']}")
    if orderby == "include" and include:
        return _finish(rows, _by_position(include), order == "desc", params)
    return _finish(rows, _ORDER_KEYS.get(orderby, _by_id), order == "desc", params)


def _fast_orders(index: Mapping[str, Sorted], statuses: list[str], params: Mapping[str, str], orderby: str,
                 bounds: list[tuple[str, str, bool]]) -> tuple[list[dict[str, Any]], int, int] | None:
    """The hot queries of a sync as a slice of a pre-sorted index, or None."""
    if len(statuses) != 1 or any(params.get(p) for p in ("include", "exclude", "customer", "search")):
        return None
    if any(column != "date_modified_gmt" for column, _, _ in bounds):
        return None
    after = next((v for _, v, is_after in bounds if is_after), None)
    before = next((v for _, v, is_after in bounds if not is_after), None)
    table = index.get(statuses[0]) or Sorted()
    lo, hi = table.window(after, before)
    if orderby == "modified":
        return table.by_modified, lo, hi
    if orderby != "id":
        return None
    if not bounds:
        return table.by_id, 0, len(table.by_id)
    if hi > lo and table.modified_keys[lo][0] == table.modified_keys[hi - 1][0]:
        return table.by_modified, lo, hi  # one second: (modified, id) order is id order
    if hi == lo:
        return table.by_modified, lo, lo
    return None


# -------------------------------------------------------------------- customers

def list_customers(customers: Mapping[int, dict[str, Any]], params: Mapping[str, str],
                   index: Mapping[str, Sorted] | None = None) -> Listing:
    _paging(params)
    role = _enum(params, "role", "customer", ROLES)
    orderby = _enum(params, "orderby", "name", ("id", "include", "name", "registered_date"))
    order = _enum(params, "order", "asc", ("asc", "desc"))
    include, exclude = _ids(params, "include"), _ids(params, "exclude")
    email = (params.get("email") or "").strip().lower()
    if (index is not None and orderby == "id" and include is None and exclude is None and not email
            and not params.get("search")):
        by_id = (index.get(role) or Sorted()).by_id
        return _slice(by_id, 0, len(by_id), order == "desc", params)
    candidates = [customers[i] for i in dict.fromkeys(include) if i in customers] if include is not None else customers.values()
    rows = []
    for c in candidates:
        if role != "all" and c["role"] != role:
            continue
        if include is not None and c["id"] not in include:
            continue
        if exclude is not None and c["id"] in exclude:
            continue
        if email and str(c["email"]).strip().lower() != email:
            continue
        rows.append(c)
    rows = _search(rows, params.get("search"),
                   lambda c: f"{c['email']} {c['username']} {c['first_name']} {c['last_name']}")
    if orderby == "include" and include:
        return _finish(rows, _by_position(include), order == "desc", params)
    return _finish(rows, _CUSTOMER_KEYS.get(orderby, _by_id), order == "desc", params)
