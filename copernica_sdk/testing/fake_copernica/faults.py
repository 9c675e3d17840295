"""Seeded, thread-safe fault injection for SOAP calls.

Real networks lose responses to writes that succeeded, so each injected fault is
applied either *before* the operation runs (state unchanged) or *after* it ran
(state changed, response lost).  The WSDL GET and ``/authenticate`` are never faulted.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FAULT_KINDS: tuple[str, ...] = (
    "http500",  # 500 with an HTML body, no SOAP
    "http502",  # 502 with an HTML body
    "http503",  # 503 with an empty body
    "http429",  # 429 with Retry-After: 1
    "reset",  # connection closed without a response
    "timeout",  # held longer than timeout_seconds, then dropped
    "truncated",  # a 200 response cut in half
    "fault",  # SOAP-ENV:Server "Internal server error, please try again"
)
WHEN = ("before", "after", "mixed")

ScheduleEntry = str | None | tuple[str, str]


@dataclass(frozen=True, slots=True)
class Injection:
    """One fault to apply to one call: ``kind`` and ``when`` ("before" or "after")."""

    kind: str
    when: str


def _check_kind(kind: str) -> str:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    return kind


def _check_when(when: str) -> str:
    if when not in WHEN:
        raise ValueError(f"when must be one of {WHEN}, not {when!r}")
    return when


class FaultPlan:
    """Which upcoming SOAP calls fail, and how.

    ``schedule()`` entries are consumed first, one per call; then ``set_rate()``
    applies.  Both are deterministic for a given seed and call order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.timeout_seconds: float = 3.0
        """How long a "timeout" fault holds the request before dropping it."""
        self._rate = 0.0
        self._kinds: tuple[str, ...] = FAULT_KINDS
        self._when = "mixed"
        self._rng = random.Random(1)
        self._queue: deque[Injection | None] = deque()
        self._injected: Counter[str] = Counter()
        self._history: list[Injection] = []

    def set_rate(
        self,
        rate: float,
        kinds: Sequence[str] | None = None,
        seed: int = 1,
        when: str = "mixed",
    ) -> None:
        """Fail ``rate`` (0..1) of SOAP calls with a seeded mix of ``kinds`` (default: all)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        chosen = tuple(_check_kind(k) for k in (kinds or FAULT_KINDS))
        if not chosen:
            raise ValueError("kinds must not be empty")
        with self._lock:
            self._rate = rate
            self._kinds = chosen
            self._when = _check_when(when)
            self._rng = random.Random(seed)

    def schedule(
        self, entries: Iterable[ScheduleEntry], *, when: str = "mixed", seed: int = 1
    ) -> None:
        """Apply one entry per upcoming SOAP call, in order (None = no fault).

        An entry is a kind, None, or a ``(kind, "before" | "after")`` pair; plain kinds
        use ``when`` ("mixed" draws before/after from a generator seeded with ``seed``).
        Appends to entries still pending.
        """
        _check_when(when)
        rng = random.Random(seed)
        planned: list[Injection | None] = []
        for entry in entries:
            if entry is None:
                planned.append(None)
            elif isinstance(entry, tuple):
                kind, entry_when = entry
                if entry_when not in ("before", "after"):
                    raise ValueError("a scheduled entry's when must be 'before' or 'after'")
                planned.append(Injection(_check_kind(kind), entry_when))
            else:
                chosen = when if when != "mixed" else rng.choice(("before", "after"))
                planned.append(Injection(_check_kind(entry), chosen))
        with self._lock:
            self._queue.extend(planned)

    def clear(self) -> None:
        """No more faults: drops the schedule and sets the rate to 0 (counters are kept)."""
        with self._lock:
            self._queue.clear()
            self._rate = 0.0

    @property
    def pending(self) -> int:
        """Scheduled entries not yet consumed."""
        with self._lock:
            return len(self._queue)

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        with self._lock:
            return Counter(self._injected)

    @property
    def history(self) -> list[Injection]:
        """Every injected fault, in order (a copy)."""
        with self._lock:
            return list(self._history)

    def next(self) -> Injection | None:
        """Decide the fault, if any, for the SOAP call being handled now."""
        with self._lock:
            if self._queue:
                injection = self._queue.popleft()
            elif self._rate > 0.0 and self._rng.random() < self._rate:
                kind = self._rng.choice(self._kinds)
                when = (
                    self._when if self._when != "mixed" else self._rng.choice(("before", "after"))
                )
                injection = Injection(kind, when)
            else:
                injection = None
            if injection is not None:
                self._injected[injection.kind] += 1
                self._history.append(injection)
            return injection
