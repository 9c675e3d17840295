"""The per-account cap's semaphore (copernica_sdk.scale.fairness) on a real Redis."""

from __future__ import annotations

import threading
import time

from redis import Redis

from copernica_sdk.scale.fairness import AccountGate, account_key
from copernica_sdk.sync.config import CopernicaSettings


def test_no_more_than_the_cap_is_in_flight_at_once(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    gates = [AccountGate(redis, "acct", 3) for _ in range(4)]  # four "workers"
    lock = threading.Lock()
    now = peak = 0

    def call(gate: AccountGate) -> None:
        nonlocal now, peak
        for _ in range(5):
            with gate("Database_updateProfiles"):
                with lock:
                    now += 1
                    peak = max(peak, now)
                time.sleep(0.005)
                with lock:
                    now -= 1

    threads = [threading.Thread(target=call, args=(g,)) for g in gates for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 3
    assert gates[0].in_use() == 0


def test_a_dead_holders_slot_comes_back_when_its_lease_ends(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    dead = AccountGate(redis, "acct", 1, lease=1.0)
    held = dead("Database_updateProfiles")
    held.__enter__()  # never left: the worker holding it was killed
    assert dead.in_use() == 1
    started = time.monotonic()
    with AccountGate(redis, "acct", 1, lease=1.0)("Database_updateProfiles"):
        waited = time.monotonic() - started
    assert 0.5 < waited < 10


def test_other_accounts_are_not_held_back(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    with AccountGate(redis, "a", 1)("x"), AccountGate(redis, "b", 1)("x"):
        pass


def test_jobs_with_one_token_share_an_account_and_the_name_holds_no_secret() -> None:
    one = CopernicaSettings(access_token="tok-S3CRET")
    assert account_key(one) == account_key(CopernicaSettings(access_token="tok-S3CRET"))
    assert account_key(one) != account_key(CopernicaSettings(access_token="other"))
    assert "S3CRET" not in account_key(one)
    assert account_key(CopernicaSettings(access_token="x", account="agency-eu")) == "agency-eu"
