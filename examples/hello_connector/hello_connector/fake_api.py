"""A fake Hello Members API on loopback HTTP, for tests and for trying the connector.

::

    with FakeMembersApi(members=30) as api:
        connector = HelloConnector(api.source_config(page_size=5))
        api.touch(3)                      # three members change

Members are generated from ``seed``; their ``updated_at`` values lie before a
frozen clock (``now``) and several share a second, as real data does.  Every
change stamps the changed members with the clock after moving it a minute on,
so a change is always newer than anything read before it.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeMembersApi"]

_FIRST = ["Ann", "Bram", "Chloé", "Daan", "Eva", "Finn", "Gijs", "Hanna", "Ivo", "Jet"]
_LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Mulder", "de Boer", "Meijer"]
_PLANS = ["basic", "plus", "pro"]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeMembersApi:
    """``GET /v1/members`` and ``GET /v1/ping`` with a Bearer token, on 127.0.0.1."""

    def __init__(self, members: int = 30, *, seed: int = 1, token: str = "hello-test-token",
                 now: datetime = datetime(2024, 5, 1, 12, 0, tzinfo=UTC), port: int = 0) -> None:
        self.token = token
        self.port = port
        self.now = now
        self.lock = threading.Lock()
        rng = random.Random(seed)
        self._members: dict[int, dict[str, Any]] = {}
        subscription_id = 0
        for i in range(1, members + 1):
            # Every third member shares the previous one's second: paging must cope.
            minutes = (members - i + (i % 3 == 0)) * 7
            subscriptions = []
            for _ in range(rng.randint(0, 2)):
                subscription_id += 1
                subscriptions.append({
                    "id": subscription_id, "plan": rng.choice(_PLANS),
                    "status": rng.choice(["active", "active", "cancelled"]),
                    "started_at": _stamp(now - timedelta(days=rng.randint(30, 900)))})
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            self._members[i] = {
                "id": i,
                "email": f"{first.lower()}.{i}@example.com",
                "first_name": first, "last_name": last,
                "newsletter": rng.random() < 0.5,
                "updated_at": _stamp(now - timedelta(minutes=minutes + 60)),
                "subscriptions": subscriptions,
            }
        self._rng = rng
        self.stale_pages = False
        """A hostile cache in front of the API: requests with a cursor get the
        first page again (with its next cursor), as if the cursor were ignored."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeMembersApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = api.handle(self.path, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeMembersApi:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeMembersApi is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def source_config(self, **overrides: Any) -> dict[str, Any]:
        """A ``[source]`` table for the hello connector pointing at this API."""
        return {"connector": "hello", "base_url": self.url, "api_token": self.token, **overrides}

    # -- data -----------------------------------------------------------------------

    @property
    def members(self) -> list[dict[str, Any]]:
        """Copies of every member, by id."""
        with self.lock:
            return [copy.deepcopy(self._members[i]) for i in sorted(self._members)]

    def _changed(self, member: dict[str, Any]) -> None:
        self.now += timedelta(minutes=1)
        member["updated_at"] = _stamp(self.now)

    def touch(self, n: int) -> list[int]:
        """``n`` seeded-random members flip their newsletter opt-in; returns their ids."""
        with self.lock:
            picked = sorted(self._rng.sample(sorted(self._members), min(n, len(self._members))))
            for member_id in picked:
                member = self._members[member_id]
                member["newsletter"] = not member["newsletter"]
                self._changed(member)
            return picked

    def change_email(self, member_id: int, email: str) -> None:
        """A member changes their e-mail address."""
        with self.lock:
            member = self._members[member_id]
            member["email"] = email
            self._changed(member)

    # -- the API --------------------------------------------------------------------

    def handle(self, target: str, authorization: str) -> tuple[int, Any]:
        """Answer one GET: ``(status, JSON body)``."""
        if authorization != f"Bearer {self.token}":
            return 401, {"error": "invalid token"}
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/v1/ping":
            return 200, {"ok": True}
        if url.path == "/v1/members":
            return self._members_page(query)
        return 404, {"error": "not found"}

    def _members_page(self, query: Mapping[str, str]) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            return 400, {"error": "limit must be a number"}
        since, before = query.get("updated_since"), query.get("updated_before")
        after = tuple(query["cursor"].split(",", 1)) if "cursor" in query else None
        if self.stale_pages:
            after = None
        with self.lock:
            # Keyset paging on (updated_at, id): a member changed while a client
            # pages moves to the end instead of shifting the others.  Timestamps
            # in one format compare correctly as text.
            rows = sorted(self._members.values(), key=lambda m: (m["updated_at"], m["id"]))
            rows = [m for m in rows
                    if (since is None or m["updated_at"] >= since)
                    and (before is None or m["updated_at"] < before)
                    and (after is None or (m["updated_at"], m["id"]) > (after[0], int(after[1])))]
            page = copy.deepcopy(rows[:limit])
        more = len(rows) > limit
        cursor = f"{page[-1]['updated_at']},{page[-1]['id']}" if more else None
        return 200, {"members": page, "next_cursor": cursor}


def main() -> None:
    """``python -m hello_connector.fake_api [PORT [MEMBERS]]``: serve until Ctrl-C."""
    import sys
    import time

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    members = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    with FakeMembersApi(members=members, port=port) as api:
        print(f"Hello Members API on {api.url} (api_token {api.token}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
