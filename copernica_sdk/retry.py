"""Retry policy as data: which calls may be repeated, after which errors, how long to wait.

SOAP has no idempotency keys, so whether a failed call may be repeated depends
on what the call does:

- ``READ``: repeating it changes nothing → retried on every transient error.
- ``IDEMPOTENT_WRITE``: repeating it leaves the same end state (set fields to
  values, upsert by key, remove by id) → retried like a read.
- ``WRITE``: repeating it could create a second object (``*_create*``) → retried
  only when the request provably never left (connection refused, connect
  timeout) or the service refused it outright (HTTP 429).

Operations missing from :data:`OPERATION_KINDS` are treated as ``WRITE``: the
safe default.  Waits are exponential with jitter, at least the ``Retry-After``
the service asked for (capped), and bounded by attempts and total time.
"""

from __future__ import annotations

import enum
import logging
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, TypeVar

import tenacity

from .errors import APIError, CopernicaError, HTTPStatusError, RateLimitError, TransportError

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "OPERATION_KINDS",
    "CallKind",
    "RetryPolicy",
    "kind_of",
    "parse_retry_after",
]

log = logging.getLogger("copernica_sdk.retry")

T = TypeVar("T")


class CallKind(enum.Enum):
    READ = "read"
    IDEMPOTENT_WRITE = "idempotent_write"
    WRITE = "write"


_R, _I, _W = CallKind.READ, CallKind.IDEMPOTENT_WRITE, CallKind.WRITE

OPERATION_KINDS: Mapping[str, CallKind] = MappingProxyType({
    "login": _R,
    "Account_retrieve": _R, "Account_databases": _R, "Account_database": _R,
    "Database_retrieve": _R, "Database_fields": _R, "Database_field": _R,
    "Database_collections": _R, "Database_collection": _R, "Database_searchProfiles": _R,
    "Database_distinctProfiles": _R, "Database_unsubscribeValues": _R, "Database_callbacks": _R,
    "Collection_retrieve": _R, "Collection_fields": _R, "Collection_field": _R,
    "Collection_searchSubProfiles": _R, "Collection_subProfile": _R,
    "Profile_retrieve": _R, "Profile_fields": _R, "Profile_searchSubProfiles": _R,
    "SubProfile_retrieve": _R,
    # Upserts by key and "set to value" calls end in the same state when repeated.
    "Database_updateProfiles": _I, "View_updateProfiles": _I, "Profile_updateSubProfiles": _I,
    "Profile_updateFields": _I, "SubProfile_updateFields": _I, "Database_update": _I,
    "Field_update": _I, "CollectionField_update": _I, "Database_setUnsubscribeValues": _I,
    "Database_remove": _I, "Collection_remove": _I, "Profile_remove": _I,
    "SubProfile_remove": _I, "Database_removeProfiles": _I, "Collection_removeSubProfiles": _I,
    "Collection_unsubscribe": _I, "SubProfile_moveToProfile": _I, "Profile_move": _I,
    # Everything named *_create* is a plain WRITE (the default).
})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def kind_of(operation: str) -> CallKind:
    """How safe it is to repeat ``operation`` (unknown operations count as ``WRITE``)."""
    return OPERATION_KINDS.get(operation, CallKind.WRITE)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.  Immutable; derive variants with :meth:`with_`.

    ``sleep`` and ``rng`` are injectable so tests can run retries without waiting
    and assert exact attempt counts and delays.
    """

    max_attempts: int = 5
    max_elapsed: float = 60.0
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def with_(self, **changes: Any) -> RetryPolicy:
        return replace(self, **changes)

    def should_retry(self, exc: BaseException, kind: CallKind) -> bool:
        """The retry predicate: is repeating this call after ``exc`` both useful and safe?"""
        if not isinstance(exc, CopernicaError) or not exc.retryable:
            return False
        if isinstance(exc, TransportError):
            return kind is not CallKind.WRITE or not exc.request_sent
        if isinstance(exc, HTTPStatusError):
            if exc.status_code not in self.retry_statuses:
                return False
            return kind is not CallKind.WRITE or isinstance(exc, RateLimitError)
        if isinstance(exc, APIError):  # a Server fault: the call may have half-run
            return kind is not CallKind.WRITE
        return False

    def backoff(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        delay = base / 2 + self.rng.uniform(0, base / 2)  # jitter in [base/2, base]
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.max_retry_after))
        return delay

    def call(self, operation: str, attempt: Callable[[], T], kind: CallKind | None = None) -> T:
        """Run ``attempt`` (one try of ``operation``) under this policy; its result, or
        the last error.

        The same loop as iterating :meth:`retrying`, but the first try runs before
        any tenacity controller is built: nearly every call succeeds at once, and
        building and driving the controller cost more than rendering the request.
        After a failure the controller takes over with that failure as its first
        attempt (same start time, attempt numbers, waits, log lines and stops).
        """
        started = time.monotonic()
        try:
            return attempt()
        except BaseException:
            failure = sys.exc_info()
        retrying = self.retrying(operation, kind)
        retrying.begin()
        state = tenacity.RetryCallState(retry_object=retrying, fn=None, args=(), kwargs={})
        state.start_time = started
        state.set_exception(failure)  # type: ignore[arg-type]
        while True:
            do = retrying.iter(retry_state=state)
            if isinstance(do, tenacity.DoAttempt):
                try:
                    result = attempt()
                except BaseException:
                    state.set_exception(sys.exc_info())  # type: ignore[arg-type]
                else:
                    state.set_result(result)
            elif isinstance(do, tenacity.DoSleep):
                state.prepare_for_next_attempt()
                retrying.sleep(do)
            else:
                return do  # type: ignore[no-any-return]

    def retrying(self, operation: str, kind: CallKind | None = None, *,
                 strict: bool = False) -> tenacity.Retrying:
        """A tenacity controller for one call of ``operation``.

        ``strict`` (the REST client of sources uses it): give up *before* a wait that
        would end past ``max_elapsed``, and at once when the service asks
        (``Retry-After``) for a longer wait than ``max_retry_after`` — a source read
        that fails stops its stream, and the next run picks up where it stopped.
        """
        call_kind = kind or kind_of(operation)
        # The wait is drawn once per attempt (it has jitter): the strict stop looks at
        # the same wait the controller then sleeps.
        drawn: dict[int, float] = {}

        def delay(state: tenacity.RetryCallState) -> float:
            if state.attempt_number not in drawn:
                exc = state.outcome.exception() if state.outcome else None
                drawn[state.attempt_number] = self.backoff(state.attempt_number, exc)
            return drawn[state.attempt_number]

        def wait(state: tenacity.RetryCallState) -> float:
            return delay(state)

        class _Overrun(tenacity.stop.stop_base):
            def __call__(_, state: tenacity.RetryCallState) -> bool:
                exc = state.outcome.exception() if state.outcome else None
                if isinstance(exc, RateLimitError) and exc.retry_after is not None \
                        and exc.retry_after > self.max_retry_after:
                    return True
                return (state.seconds_since_start or 0.0) + delay(state) > self.max_elapsed

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc: BaseException | None = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s failed (attempt %d of %d: %s); retrying in %.2f s",
                operation, state.attempt_number, self.max_attempts, _describe(exc),
                state.upcoming_sleep,
            )

        stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(self.max_attempts) \
            | tenacity.stop_after_delay(self.max_elapsed)
        if strict:
            stop = stop | _Overrun()
        return tenacity.Retrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(lambda e: self.should_retry(e, call_kind)),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    detail = getattr(exc, "status_code", None) or getattr(exc, "fault_code", None)
    return f"{type(exc).__name__}{f' {detail}' if detail else ''}"


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)
