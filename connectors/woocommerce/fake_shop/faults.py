"""Seeded, thread-safe fault injection for the fake shop's API requests.

Mirrors ``copernica_sdk.testing.fake_copernica.faults``: scheduled entries are
consumed first (one per request), then a seeded rate applies.  Entries can be
aimed at one endpoint (``"orders"``, ``"customers"``, ``"system_status"``, …)
so a test can fail exactly the request it cares about.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from typing import Any

FAULT_KINDS: tuple[str, ...] = (
    "http500",  # WordPress "critical error" HTML page
    "http502",  # nginx Bad Gateway HTML
    "http503",  # Service Unavailable, no Retry-After
    "http504",  # Gateway Timeout HTML
    "http429",  # Too Many Requests with Retry-After (FaultPlan.retry_after)
    "maintenance",  # 503 + Retry-After: 600, WordPress maintenance page
    "timeout",  # held for timeout_seconds, then the connection is dropped
    "reset",  # connection closed without an answer
    "php_notice",  # 200 whose body starts with a PHP notice, so not JSON
    "truncated_json",  # 200 application/json cut off mid-way
    # Hostile servers (issue 11):
    "trickle",  # 200 whose body never ends: trickle_bytes every trickle_interval seconds
    "redirect",  # redirect_status to redirect_to (another host), as a hijacked site might
)


def _check(kind: str) -> str:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    return kind


_UNSET: Any = object()
_DEEP = re.compile(r'"\\u0000deep:(\d+)\\u0000"')


class RecordFaults:
    """Hostile values in chosen records, as a plugin filtering the REST answer (or a
    corrupted row) would serve them.  Only the answer changes: the store's own data,
    and so its filters and sorting, stay as they were.

    ``date(kind, id, value)`` serves ``value`` (``"garbage"``, ``None``, a far-future
    date…) as the record's ``date_modified_gmt``; ``deep(kind, id, levels)`` appends a
    ``meta_data`` entry whose value nests ``levels`` deep (more than a JSON parser's
    recursion limit allows).  ``kind`` is ``"orders"`` or ``"customers"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dates: dict[tuple[str, int], str | None] = {}
        self._deep: dict[tuple[str, int], int] = {}

    def date(self, kind: str, record_id: int, value: str | None) -> None:
        with self._lock:
            self._dates[(kind, record_id)] = value

    def deep(self, kind: str, record_id: int, levels: int = 5000) -> None:
        with self._lock:
            self._deep[(kind, record_id)] = levels

    def clear(self) -> None:
        with self._lock:
            self._dates.clear()
            self._deep.clear()

    def apply(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` as served (a copy when something is changed)."""
        record_id = record.get("id")
        if not isinstance(record_id, int):
            return record
        key = (kind, record_id)
        with self._lock:
            date = self._dates.get(key, _UNSET)
            levels = self._deep.get(key)
        if date is _UNSET and levels is None:
            return record
        record = dict(record)
        if date is not _UNSET:
            record["date_modified_gmt"] = date
        if levels is not None:
            meta = list(record.get("meta_data") or [])
            meta.append({"id": 990000 + int(record.get("id") or 0), "key": "_deep",
                         "value": f"\x00deep:{levels}\x00"})
            record["meta_data"] = meta
        return record

    @staticmethod
    def encode(payload: Any) -> bytes:
        """JSON text of an answer, deep values written out (``json`` cannot nest them)."""
        text = json.dumps(payload, ensure_ascii=False)
        if "deep:" in text:
            text = _DEEP.sub(lambda m: '{"a":' * int(m.group(1)) + "1" + "}" * int(m.group(1)), text)
        return text.encode("utf-8")


class FaultPlan:
    """Which upcoming API requests fail, and how.  ``records`` serves hostile
    values in chosen records (see :class:`RecordFaults`)."""

    def __init__(self) -> None:
        self.records = RecordFaults()
        self._lock = threading.Lock()
        self.timeout_seconds: float = 2.0
        """How long a "timeout" fault holds the request before dropping it."""
        self.retry_after: str = "1"
        """The Retry-After header value of "http429" faults."""
        self.trickle_bytes: int = 800
        self.trickle_interval: float = 0.5
        """A "trickle" fault sends ``trickle_bytes`` every ``trickle_interval`` s, forever."""
        self.redirect_to: str = "http://127.0.0.2:9/wp-json/wc/v3/"
        self.redirect_status: int = 307
        """Where (and with which status) a "redirect" fault points the client."""
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ("http500", "http502", "http503", "http504", "http429")
        self._rng = random.Random(1)
        self._queues: dict[str | None, deque[str | None]] = {}
        self._injected: Counter[str] = Counter()
        self._history: list[tuple[str, str]] = []

    def schedule(self, entries: Iterable[str | None], *, endpoint: str | None = None) -> None:
        """Apply one entry per upcoming request (``None`` = no fault), in order.

        With ``endpoint`` only requests to that endpoint (e.g. ``"orders"``,
        ``"orders/{id}"``) consume the entries.  Appends to pending entries.
        """
        planned = [None if e is None else _check(e) for e in entries]
        with self._lock:
            self._queues.setdefault(endpoint, deque()).extend(planned)

    def set_rate(self, rate: float, kinds: Sequence[str] | None = None, seed: int = 1) -> None:
        """Fail ``rate`` (0..1) of requests with a seeded mix of ``kinds``
        (default: the retryable HTTP statuses)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        chosen = tuple(_check(k) for k in kinds) if kinds else self._kinds
        with self._lock:
            self._rate, self._kinds, self._rng = rate, chosen, random.Random(seed)

    def clear(self) -> None:
        """No more faults (counters and history are kept)."""
        self.records.clear()
        with self._lock:
            self._queues.clear()
            self._rate = 0.0

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        with self._lock:
            return Counter(self._injected)

    @property
    def history(self) -> list[tuple[str, str]]:
        """``(endpoint, kind)`` of every injected fault, in order (a copy)."""
        with self._lock:
            return list(self._history)

    def next(self, endpoint: str) -> str | None:
        """The fault, if any, for the request to ``endpoint`` being handled now."""
        with self._lock:
            kind: str | None = None
            for key in (endpoint, None):
                queue = self._queues.get(key)
                if queue:
                    kind = queue.popleft()
                    break
            else:
                if self._rate > 0.0 and self._rng.random() < self._rate:
                    kind = self._rng.choice(self._kinds)
            if kind is not None:
                self._injected[kind] += 1
                self._history.append((endpoint, kind))
            return kind
