"""``FakeCms``: a loopback fake of CMS APIs for tests of configs and of this connector.

One WSGI app (werkzeug) serves, over the same set of contacts:

- ``/wp-json/wp/v2/users`` — WordPress core: ``page``/``per_page`` (≤ 100),
  ``X-WP-Total``/``X-WP-TotalPages`` and ``Link`` headers, HTTP Basic
  (application password), ``email`` etc. only with ``context=edit``; also as
  ``/?rest_route=/wp/v2/users`` (a site without pretty permalinks).  As a real
  WordPress: names come through its HTML filter (``Tom &amp; Jerry``), ``roles``
  filters by role (``wp_roles`` sets a contact's roles; default subscriber),
  ``application_passwords=False`` is a site over plain http (Basic credentials
  ignored: 401 ``rest_user_cannot_view`` / ``rest_forbidden_context``) and a wrong
  password gets WordPress's HTML error message;
- ``/jsonapi/user/user`` — Drupal JSON:API: ``page[offset]``/``page[limit]``
  (≤ 50), ``links.next.href``, ``filter[changed][condition][…]`` on epoch
  seconds, ``sort=changed``; records under ``data`` with ``attributes``;
- ``/api/<style>/contacts`` — one listing per pagination style (``page``,
  ``offset``, ``cursor``, ``next``, ``link``, ``single``) plus faults:
  ``/api/loop``, ``/api/same``, ``/api/html``, ``/api/malformed``, ``/api/text``,
  ``/api/deep`` (a list whose last record nests 5,000 levels deep; ``/api/deep_object``: the
  same list under ``items``),
  ``/api/flaky`` (503 with ``Retry-After`` ``flaky_failures`` times).

``lies`` (a :class:`ListingLies`, ``None`` = honest) makes the listings above
(except ``single`` and the fault endpoints) lie: repeat a page, answer an empty
or reversed page, announce a wrong total, send a cursor back to the start.

Auth for ``/api`` is ``FakeCms(auth=…)``: ``none``, ``basic``, ``bearer``,
``header`` (``X-API-Key``) or ``query`` (``api_key``).  ``requests`` records
every request (path and query) that arrived.

Hostile knobs (attributes, also constructor keywords), applied to every request
while set:

- ``trickle``: answer 200 with a JSON body that never ends — ``trickle_bytes``
  every ``trickle_interval`` seconds (800 bytes / 0.5 s), until the fake stops;
- ``redirect_to``: answer ``redirect_status`` (307) with ``Location:
  redirect_to`` + the request's path and query.
"""

from __future__ import annotations

import base64
import html
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from copernica_sdk.testing.http_server import LoopbackServer

__all__ = ["FakeCms", "ListingLies"]

USER = "admin"
PASSWORD = "abcd EFGH 1234 ijkl"
TOKEN = "tok-3f9a7c1e5b"
API_KEY = "key-8d2e4b6a0c"


@dataclass(frozen=True)
class ListingLies:
    """How the fake's listings lie (each ``None``/0 = honest in that respect).
    Positions count records from 0 in the listing's order; a rule fires for the
    page that holds that position.

    - ``repeat_at``: that page answers with the records of the page before it;
    - ``empty_at``: that page answers no records (totals and links honest);
    - ``reverse_at``: that page answers its records in reverse order;
    - ``total_delta``: added to every announced total (``X-WP-Total``, ``total``,
      and the page counts derived from it: ``X-WP-TotalPages``, ``total_pages``);
    - ``cursor_back_at``: the page holding that position sends, as its next
      cursor or link, the one for the start of the listing.
    """

    repeat_at: int | None = None
    empty_at: int | None = None
    reverse_at: int | None = None
    total_delta: int = 0
    cursor_back_at: int | None = None

    def hits(self, position: int | None, start: int, size: int) -> bool:
        return position is not None and start <= position < start + max(size, 1)

    def page(self, records: list[dict[str, Any]], start: int, size: int) -> list[dict[str, Any]]:
        """The page of ``records`` at ``start`` as these lies serve it."""
        chunk = records[start:start + size]
        if self.hits(self.repeat_at, start, size) and start > 0:
            chunk = records[max(0, start - size):start]
        if self.hits(self.empty_at, start, size):
            chunk = []
        if self.hits(self.reverse_at, start, size):
            chunk = chunk[::-1]
        return chunk


HONEST = ListingLies()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class FakeCms:
    """The fake on ``127.0.0.1`` (ephemeral port); a context manager."""

    def __init__(self, contacts: int = 25, *, auth: str = "none", flaky_failures: int = 2,
                 base: datetime | None = None, wp_roles: Mapping[int, list[str]] | None = None,
                 application_passwords: bool = True,
                 trickle: bool = False, redirect_to: str | None = None) -> None:
        self.auth = auth
        self.application_passwords = application_passwords
        self.flaky_failures = flaky_failures
        self.lies: ListingLies | None = None
        """Hostile pagination (see ListingLies); ``None`` = honest listings."""
        # Hostile knobs (see the module docstring).
        self.trickle = trickle
        self.trickle_bytes = 800
        self.trickle_interval = 0.5
        self.redirect_to = redirect_to
        self.redirect_status = 307
        self._stopping = threading.Event()
        self.requests: list[str] = []
        start = base or (datetime.now(UTC).replace(microsecond=0) - timedelta(days=30))
        self.contacts: list[dict[str, Any]] = [
            {"id": i, "email": f"person{i}@example.com", "first_name": f"First{i}",
             "last_name": f"Last{i}", "registered": _iso(start + timedelta(hours=i)),
             "modified": start + timedelta(hours=i, minutes=(i * 7) % 60),
             "roles": list((wp_roles or {}).get(i, ["subscriber"]))}
            for i in range(1, contacts + 1)]
        self._http = LoopbackServer(self._handle)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeCms:
        self._stopping.clear()
        self._http.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopping.set()  # ends trickling answers
        self._http.__exit__(exc_type, exc, tb)

    @property
    def url(self) -> str:
        """The fake's address, without a trailing slash."""
        return self._http.url.rstrip("/")

    # ------------------------------------------------------------------- helpers

    def touch(self, count: int, *, now: datetime | None = None) -> list[int]:
        """Rename the first ``count`` contacts and stamp them modified ``now``."""
        moment = (now or datetime.now(UTC)).replace(microsecond=0)
        touched = []
        with self._lock:
            for contact in self.contacts[:count]:
                contact["first_name"] += "X"
                contact["modified"] = moment
                touched.append(contact["id"])
        return touched

    def sorted_contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.contacts]

    # ---------------------------------------------------------------------- app

    def _handle(self, request: Request) -> Response:
        self.requests.append(request.full_path.rstrip("?"))
        return self._route(request)

    def _route(self, request: Request) -> Response:
        path = request.path
        if self.redirect_to is not None:
            return Response("", self.redirect_status,
                            headers={"Location": self.redirect_to.rstrip("/") + request.full_path})
        if self.trickle:
            return Response(self._trickling(), 200, content_type="application/json",
                            direct_passthrough=True)
        if path in ("/", "/index.php") and "rest_route" in request.args:
            path = "/wp-json" + request.args["rest_route"]  # plain permalinks
        if path == "/wp-json/wp/v2/users":
            return self._wordpress(request)
        if path == "/jsonapi/user/user":
            return self._drupal(request)
        if path.startswith("/api/"):
            refused = self._check_api_auth(request)
            if refused is not None:
                return refused
            return self._api(request, path.removeprefix("/api/"))
        return _json({"error": "not found"}, 404)

    def _trickling(self) -> Iterator[bytes]:
        yield b"["
        while not self._stopping.is_set():
            yield b" " * self.trickle_bytes
            self._stopping.wait(self.trickle_interval)

    def _basic_ok(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return request.headers.get("Authorization") == expected

    def _check_api_auth(self, request: Request) -> Response | None:
        ok = {
            "none": True,
            "basic": self._basic_ok(request),
            "bearer": request.headers.get("Authorization") == f"Bearer {TOKEN}",
            "header": request.headers.get("X-API-Key") == API_KEY,
            "query": request.args.get("api_key") == API_KEY,
        }[self.auth]
        return None if ok else _json({"message": "Invalid credentials"}, 401)

    # WordPress core /wp/v2/users
    def _wordpress(self, request: Request) -> Response:
        given = request.headers.get("Authorization", "")
        logged_in = self._basic_ok(request) and self.application_passwords
        if given.startswith("Basic ") and not self._basic_ok(request):
            return _json({"code": "incorrect_password",
                          "message": f"<strong>Error:</strong> The password you entered for the "
                                     f"username <strong>{USER}</strong> is incorrect.",
                          "data": None}, 401)
        if not logged_in:
            # wp-includes/rest-api/endpoints/class-wp-rest-users-controller.php,
            # get_items_permissions_check: 401 when nobody is logged in.
            if request.args.get("roles"):
                return _json({"code": "rest_user_cannot_view",
                              "message": "Sorry, you are not allowed to filter users by role.",
                              "data": {"status": 401}}, 401)
            if request.args.get("context") == "edit":
                return _json({"code": "rest_forbidden_context",
                              "message": "Sorry, you are not allowed to list users.",
                              "data": {"status": 401}}, 401)
            if not given:
                return _json({"code": "rest_not_logged_in",
                              "message": "You are not currently logged in.",
                              "data": {"status": 401}}, 401)
        per_page = int(request.args.get("per_page", 10))
        page = int(request.args.get("page", 1))
        if not 1 <= per_page <= 100:
            return _json({"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page"},
                         400)
        users = sorted(self.sorted_contacts(), key=lambda c: c["id"])
        roles = {r.strip() for r in request.args.get("roles", "").split(",") if r.strip()}
        if roles:
            users = [u for u in users if roles & set(u["roles"])]
        lies = self.lies or HONEST
        total = max(0, len(users) + lies.total_delta)
        pages = max(1, -(-total // per_page))
        if page > pages:
            return _json({"code": "rest_post_invalid_page_number",
                          "message": "The page number requested is larger than the number of "
                                     "pages available."}, 400)
        edit = request.args.get("context") == "edit"
        chunk = lies.page(users, (page - 1) * per_page, per_page)
        body = []
        for u in chunk:
            # WordPress's HTML filter (wp_filter_kses) stores & < > as entities.
            first, last = _kses(u["first_name"]), _kses(u["last_name"])
            item: dict[str, Any] = {"id": u["id"], "name": f"{first} {last}",
                                    "slug": f"person{u['id']}", "link": f"{self.url}/author/{u['id']}"}
            if edit:
                item.update(email=u["email"], first_name=first, last_name=last,
                            username=f"person{u['id']}",
                            registered_date=u["registered"] + "+00:00", roles=list(u["roles"]))
            body.append(item)
        response = _json(body)
        response.headers["X-WP-Total"] = str(total)
        response.headers["X-WP-TotalPages"] = str(pages)
        if page < pages:
            args = {**request.args.to_dict(), "page": str(page + 1)}
            response.headers["Link"] = f'<{self.url}{request.path}?{urlencode(args)}>; rel="next"'
        return response

    # Drupal core JSON:API /jsonapi/user/user
    def _drupal(self, request: Request) -> Response:
        if not self._basic_ok(request):
            return _json({"errors": [{"title": "Unauthorized", "status": "401",
                                      "detail": "No authentication credentials provided."}]}, 401)
        limit = min(50, int(request.args.get("page[limit]", 50)))
        offset = int(request.args.get("page[offset]", 0))
        users = self.sorted_contacts()
        cond = "filter[changed][condition]"
        if request.args.get(f"{cond}[path]") == "changed":
            if request.args.get(f"{cond}[operator]") != ">=":
                return _json({"errors": [{"title": "Bad Request", "detail": "operator"}]}, 400)
            since = int(request.args[f"{cond}[value]"])
            users = [u for u in users if u["modified"].timestamp() >= since]
        if request.args.get("sort") == "changed":
            users.sort(key=lambda u: (u["modified"], u["id"]))
        lies = self.lies or HONEST
        chunk = lies.page(users, offset, limit)
        data = [{"type": "user--user", "id": f"uuid-{u['id']:04d}",
                 "attributes": {"drupal_internal__uid": u["id"], "name": f"person{u['id']}",
                                "mail": u["email"], "display_name": u["first_name"],
                                "created": u["registered"] + "+00:00",
                                "changed": u["modified"].strftime("%Y-%m-%dT%H:%M:%S+00:00")}}
                for u in chunk]
        body: dict[str, Any] = {"jsonapi": {"version": "1.0"}, "data": data,
                                "links": {"self": {"href": request.url}}}
        if offset + limit < len(users):
            back = lies.hits(lies.cursor_back_at, offset, limit)
            args = {**request.args.to_dict(), "page[offset]": str(0 if back else offset + limit),
                    "page[limit]": str(limit)}
            body["links"]["next"] = {"href": f"{self.url}{request.path}?{urlencode(args)}"}
        return _json(body, content_type="application/vnd.api+json")

    # Generic listings and faults
    def _records(self) -> list[dict[str, Any]]:
        # A contact's "modified" set to anything but a datetime is served as it is
        # (hostile values: "garbage", None…).
        return [{**c, "modified": _iso(c["modified"]) + "Z"
                 if isinstance(c["modified"], datetime) else c["modified"]}
                for c in self.sorted_contacts()]

    def _api(self, request: Request, rest: str) -> Response:
        args = request.args
        records = self._records()
        style = rest.split("/")[0]
        lies = self.lies or HONEST
        total = max(0, len(records) + lies.total_delta)
        if style == "page":
            size = int(args.get("per_page", 10))
            page = int(args.get("page", 1))
            chunk = lies.page(records, (page - 1) * size, size)
            return _json({"items": chunk, "meta": {"total_pages": -(-total // size)}})
        if style == "offset":
            offset, limit = int(args.get("offset", 0)), int(args.get("limit", 10))
            return _json({"results": lies.page(records, offset, limit), "total": total})
        if style == "cursor":
            after = int(args.get("after", 0))
            start = sum(1 for r in records if r["id"] <= after)
            chunk = lies.page(records, start, 7)
            last = records[min(start + 7, len(records)) - 1]["id"] if records else 0
            more = start + 7 < len(records)
            back = lies.hits(lies.cursor_back_at, start, 7)
            cursor = ("0" if back else str(last)) if more else None
            return _json({"data": chunk, "paging": {"next": cursor}})
        if style in ("next", "link"):
            offset = int(args.get("o", 0))
            chunk = lies.page(records, offset, 8)
            back = lies.hits(lies.cursor_back_at, offset, 8)
            nxt = f"/api/{style}/contacts?o={0 if back else offset + 8}" \
                if offset + 8 < len(records) else None
            if style == "next":
                return _json({"records": chunk, "next": nxt})
            response = _json(chunk)
            if nxt:
                response.headers["Link"] = f'<{self.url}{nxt}>; rel="next", <{self.url}/api/' \
                                           f'{style}/contacts>; rel="first"'
            return response
        if style == "single":
            return _json(records)
        if style == "loop":
            return _json({"records": records[:3], "next": "/api/loop/contacts?o=0"})
        if style == "same":
            return _json(records[:5])
        if style == "html":
            return Response("<!DOCTYPE html><html><head><title>Site under maintenance</title>"
                            "</head><body>Back soon</body></html>", 200, content_type="text/html")
        if style == "malformed":
            return Response('{"items": [{"id": 1,', 200, content_type="application/json")
        if style == "text":
            return Response("OK", 200, content_type="text/plain")
        if style == "flaky":
            with self._lock:
                self.flaky_failures -= 1
                failing = self.flaky_failures >= 0
            if failing:
                return Response("busy", 503, headers={"Retry-After": "1"})
            return _json(records[:2])
        if style in ("deep", "deep_object"):  # a record whose value nests 5,000 levels deep
            nested = '{"a":' * 5000 + "1" + "}" * 5000
            text = json.dumps(records[:3])[:-1] + f', {{"id": 99, "email": "deep@example.com", ' \
                f'"extra": {nested}}}]'
            if style == "deep_object":
                text = f'{{"items": {text}}}'
            return Response(text, 200, content_type="application/json")
        if style == "server_error":
            return Response("<html><title>Fatal error</title></html>", 500,
                            content_type="text/html")
        return _json({"error": "not found"}, 404)


def _kses(text: str) -> str:
    return html.escape(text, quote=False)


def _json(body: Any, status: int = 200, *, content_type: str = "application/json") -> Response:
    return Response(json.dumps(body), status, content_type=content_type)
