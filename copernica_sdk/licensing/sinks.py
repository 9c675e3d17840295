"""Where usage goes: sink protocol, outcomes, and the HTTP collector sink.

A sink answers per event.  ``ACCEPTED`` and ``DUPLICATE`` both mean delivered
(an "already exists" answer is success, not an error).  ``RETRY`` is sent again
on a later flush; ``REJECTED`` and ``AMBIGUOUS`` are parked for reconciliation.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._net import is_loopback
from ..deadline import DEFAULT_DEADLINE, new_session, request
from .ledger import UsageEvent
from .usage_signing import FLUSH_DOMAIN, sign_document

__all__ = ["HttpCollectorSink", "Outcome", "SigningSink", "SinkResult", "UsageSink",
           "idempotency_key"]


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    REJECTED = "rejected"
    AMBIGUOUS = "ambiguous"

    @property
    def delivered(self) -> bool:
        return self in (Outcome.ACCEPTED, Outcome.DUPLICATE)


@dataclass(frozen=True)
class SinkResult:
    event_id: str
    outcome: Outcome
    detail: str = ""


class UsageSink(Protocol):
    """Sends usage events somewhere; must not raise for a delivery problem."""

    name: str
    max_batch: int
    #: How long the receiver dedupes ids; None = forever (our partner ledger).
    dedupe_window: timedelta | None

    def send(self, events: Sequence[UsageEvent]) -> Sequence[SinkResult]: ...


@runtime_checkable
class SigningSink(Protocol):
    """A sink that signs what it sends with the install's key; :func:`~.flush.flush`
    hands the key over before sending."""

    def use_install_key(self, key: Ed25519PrivateKey) -> None: ...


def idempotency_key(events: Sequence[UsageEvent]) -> str:
    """The hash of a batch's event ids: the same batch always has the same key."""
    return hashlib.sha256("\n".join(sorted(e.event_id for e in events)).encode()).hexdigest()


class HttpCollectorSink:
    """POSTs batches to the partner's collector: ``{"events": [...], "install_id",
    "signature"}`` (signed with the install's key) with an ``Idempotency-Key`` header;
    expects ``{"results": [{"event_id", "outcome"}]}``.  The contract is in
    docs/licensing.md, "The collector's HTTP contract".

    HTTPS only; plain HTTP is accepted for a loopback address (tests, a local relay).
    """

    max_batch = 500
    dedupe_window: timedelta | None = None

    def __init__(self, url: str, *, name: str = "collector", timeout: float = 30.0,
                 deadline: float = DEFAULT_DEADLINE,
                 session: requests.Session | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http"
                                            and is_loopback(parts.hostname or "")):
            raise ValueError(f"collector URL must be https:// (got {parts.scheme}://)")
        self.url = url
        self.name = name
        self.timeout = timeout
        self.deadline = deadline  # the whole POST: a trickling collector cannot hang a run
        self.session = session or new_session()
        self.install_key: Ed25519PrivateKey | None = None

    def use_install_key(self, key: Ed25519PrivateKey) -> None:
        """Sign every batch with ``key`` (the install's own)."""
        self.install_key = key

    def send(self, events: Sequence[UsageEvent]) -> Sequence[SinkResult]:
        ids = [e.event_id for e in events]
        body: dict[str, Any] = {"events": [e.to_json() for e in events],
                                "install_id": events[0].install_id if events else None}
        if self.install_key is not None:
            body = sign_document(body, self.install_key, FLUSH_DOMAIN)
        try:
            # Redirects are not followed: a 307 would carry the events to another host.
            response = request(self.session, "POST", self.url, json=body,
                               timeout=(self.timeout, self.timeout), deadline=self.deadline,
                               headers={"Idempotency-Key": idempotency_key(events)},
                               allow_redirects=False)
        except requests.ConnectionError as exc:
            # Refused or reset before an answer: nothing was accepted for sure, but a
            # reset may come after the server read the request — the ids make a resend safe.
            return [SinkResult(i, Outcome.RETRY, f"connection: {type(exc).__name__}") for i in ids]
        except requests.Timeout:
            return [SinkResult(i, Outcome.AMBIGUOUS, "timed out after sending") for i in ids]
        except requests.RequestException as exc:  # a broken answer: sent, outcome unknown
            return [SinkResult(i, Outcome.AMBIGUOUS, f"broken answer: {type(exc).__name__}")
                    for i in ids]
        status = response.status_code
        if 300 <= status < 400:
            there = urlsplit(urljoin(self.url, response.headers.get("Location", ""))).netloc
            return [SinkResult(i, Outcome.RETRY, f"HTTP {status}: redirect to {there or '?'} "
                               f"refused; set the collector URL to where it should go")
                    for i in ids]
        if status == 409:
            return [SinkResult(i, Outcome.DUPLICATE, "409") for i in ids]
        if status == 429 or status >= 500:
            return [SinkResult(i, Outcome.RETRY, f"HTTP {status}") for i in ids]
        if status >= 400:
            return [SinkResult(i, Outcome.REJECTED, f"HTTP {status}: {response.text[:200]}")
                    for i in ids]
        return _per_event(ids, response)


def _per_event(ids: list[str], response: requests.Response) -> list[SinkResult]:
    try:
        payload: Any = response.json()
        answers = {str(r["event_id"]): r for r in payload["results"]}
    except (ValueError, KeyError, TypeError):
        return [SinkResult(i, Outcome.AMBIGUOUS, "unreadable answer") for i in ids]
    out = []
    for i in ids:
        answer = answers.get(i)
        if answer is None:
            out.append(SinkResult(i, Outcome.RETRY, "not in the answer"))
            continue
        try:
            outcome = Outcome(str(answer.get("outcome")))
        except ValueError:
            outcome = Outcome.AMBIGUOUS
        out.append(SinkResult(i, outcome, str(answer.get("detail", ""))))
    return out
