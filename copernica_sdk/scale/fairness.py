"""Per-account fairness: at most N SOAP calls in flight per Copernica account,
across every worker, process and thread (a Redis semaphore with leases).

Each call takes a slot — a member of one sorted set per account, scored with the
moment its lease ends (Redis' own clock, so workers' clocks do not matter) — and
gives it back when the answer is in.  Slots whose lease ran out are dropped
before counting, so a worker killed mid-call frees its slots within the lease
without an operator; the lease is longer than a call's whole deadline, so a live
call never loses its slot.  A job keeps its own ``sync.concurrency`` inside the
cap: its writer threads simply wait for a slot.

The account is ``copernica.account`` when set (name the same account alike in
every job that writes into it), else a digest of the endpoint and credentials:
jobs with one token share one cap.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..sync.config import CopernicaSettings

__all__ = ["AccountGate", "account_key"]

# KEYS[1] the account's slots; ARGV: cap, lease seconds, token.  1 when taken.
_ACQUIRE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
  return 1
end
return 0
"""


def account_key(settings: CopernicaSettings) -> str:
    """Which Copernica account a job writes into, as a stable, secret-free name."""
    if settings.account:
        return settings.account
    secret = settings.access_token or f"{settings.username}\x1f{settings.password}"
    digest = hashlib.sha256(f"{settings.endpoint}\x1f{secret}".encode()).hexdigest()[:16]
    return f"token-{digest}"


class AccountGate:
    """A :data:`copernica_sdk.client.CallGate` capping one account's calls in flight.

    ``redis``: a ``redis.Redis`` client; ``cap``: slots per account; ``lease``:
    seconds a slot is kept at most (set it above the client's call deadline).
    """

    def __init__(self, redis: Any, account: str, cap: int, *, lease: float = 180.0) -> None:
        if cap < 1:
            raise ValueError("the per-account cap must be at least 1")
        self.redis = redis
        self.key = f"copernica-sync:calls:{account}"
        self.cap = cap
        self.lease = lease
        self._acquire = redis.register_script(_ACQUIRE)

    @contextmanager
    def __call__(self, operation: str) -> Iterator[None]:
        token = uuid.uuid4().hex
        wait = 0.002
        while not self._acquire(keys=[self.key], args=[self.cap, self.lease, token]):
            # Jittered, growing polls: waiters do not wake in lock-step.
            time.sleep(wait * (0.5 + random.random()))
            wait = min(wait * 2, 0.05)
        try:
            yield
        finally:
            self.redis.zrem(self.key, token)

    def in_use(self) -> int:
        """Slots taken now (leases not yet run out)."""
        now = self.redis.time()
        return int(self.redis.zcount(self.key, now[0] + now[1] / 1e6, "+inf"))
