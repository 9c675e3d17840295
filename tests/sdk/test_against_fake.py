"""The client end to end against the fake service over loopback HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from copernica_sdk import (
    AuthenticationError,
    BearerAuth,
    ConnectionPool,
    CopernicaClient,
    LoginAuth,
    RetryPolicy,
    UnsafeRequestError,
)
from copernica_sdk.testing.fake_copernica import FakeCopernica

NO_WAIT = RetryPolicy(max_attempts=5, sleep=lambda _: None)


@pytest.fixture
def fake(copernica_fake: FakeCopernica) -> FakeCopernica:
    copernica_fake.create_database(
        "Customers", {"customer_key": {"type": "text", "index": True}, "firstname": "text",
                      "age": "integer"},
        {"Orders": {"order_id": {"type": "text", "index": True}, "status": "text"}})
    return copernica_fake


def client_for(fake: FakeCopernica, **kw: object) -> CopernicaClient:
    kw.setdefault("retry", NO_WAIT)
    return CopernicaClient(fake.token, endpoint=fake.url, **kw)  # type: ignore[arg-type]


def test_the_fake_would_overwrite_every_profile_but_the_sdk_refuses(fake):
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        for n in range(3):
            client.profiles.upsert(db, key={"customer_key": f"k{n}"}, fields={"firstname": f"F{n}"})
        with pytest.raises(UnsafeRequestError):
            client.profiles.upsert(db, key={"customerkey": "k0"}, fields={"firstname": "X"})
    assert [p["fields"]["firstname"] for p in fake.profiles("Customers")] == ["F0", "F1", "F2"]


def test_bearer_auth_fetches_a_jwt_and_renews_it_after_expiry(fake):
    auth = BearerAuth(fake.token, auth_endpoint=fake.auth_url)
    with CopernicaClient(auth=auth, endpoint=fake.url, retry=NO_WAIT) as client:
        assert client.databases.get("Customers").name == "Customers"
        fake.expire_jwts()
        assert client.databases.get("Customers").name == "Customers"


def test_bearer_auth_with_a_wrong_token_is_an_authentication_error(fake):
    auth = BearerAuth("wrong", auth_endpoint=fake.auth_url)
    with CopernicaClient(auth=auth, endpoint=fake.url) as client, \
            pytest.raises(AuthenticationError, match="refused the access token"):
        client.databases.get("Customers")


def test_login_auth_logs_in_once_and_again_after_the_session_expired(fake):
    auth = LoginAuth("api@example.com", "secret")
    with CopernicaClient(auth=auth, endpoint=fake.url, retry=NO_WAIT) as client:
        client.databases.get("Customers")
        client.databases.get("Customers")
        assert fake.calls["login"] == 1
        fake.expire_sessions()
        client.databases.get("Customers")
        assert fake.calls["login"] == 2


def test_login_with_wrong_password_is_not_retried(fake):
    with CopernicaClient(auth=LoginAuth("api@example.com", "nope"), endpoint=fake.url) as client, \
            pytest.raises(AuthenticationError):
        client.databases.get("Customers")
    assert fake.calls["login"] == 1


def test_a_wrong_access_token_is_an_authentication_error(fake):
    with CopernicaClient("wrong", endpoint=fake.url) as client, \
            pytest.raises(AuthenticationError, match="Invalid access token"):
        client.databases.get("Customers")


def test_reads_survive_injected_faults_of_every_kind(fake):
    fake.faults.timeout_seconds = 0.3
    fake.faults.schedule(["http500", "http502", "http503", "http429"], when="before")
    with client_for(fake, timeout=2.0) as client:
        assert client.databases.get("Customers").name == "Customers"
    assert fake.faults.injected.total() == 4


def test_upserts_survive_lost_answers_without_duplicates(fake):
    # "after": the write happened, the answer was lost; the retry must not duplicate.
    fake.faults.schedule([("reset", "after"), ("http502", "after"), ("truncated", "after")])
    with client_for(fake) as client:
        db = client.databases.get("Customers")
        client.field_names.has("database", db.id, "customer_key")  # warm the field cache
        client.profiles.upsert(db, key={"customer_key": "k"}, fields={"firstname": "A"})
    assert len(fake.profiles("Customers")) == 1
    assert fake.duplicates("Customers", "customer_key") == {}


def test_many_threads_share_one_client_without_losing_writes(fake):
    with client_for(fake, pool=ConnectionPool(maxsize=16)) as client:
        db = client.databases.get("Customers")

        def work(n: int) -> int:
            return client.profiles.upsert(db, key={"customer_key": f"k{n}"},
                                          fields={"firstname": str(n)}).id

        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(work, range(400)))
    assert len(set(ids)) == 400 and len(fake.profiles("Customers")) == 400


def test_clients_of_two_accounts_share_a_pool_but_not_credentials():
    tokens = {"token-a": "account-a", "token-b": "account-b"}
    with FakeCopernica(tokens=tokens) as fake:
        pool = ConnectionPool()
        a = CopernicaClient("token-a", endpoint=fake.url, pool=pool)
        b = CopernicaClient("token-b", endpoint=fake.url, pool=pool)
        a.databases.create("OnlyInA")
        assert b.databases.find("OnlyInA") is None
        assert a.databases.get("OnlyInA").name == "OnlyInA"


def test_a_client_built_from_the_fakes_served_wsdl_works(fake):
    with client_for(fake, wsdl=fake.wsdl_url) as client:
        assert client.databases.get("Customers").name == "Customers"
        assert "Database_updateProfiles" in client.operations


def test_no_request_the_client_sends_reveals_the_token_in_a_url(fake):
    seen: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.url))
    with client_for(fake, session=session) as client:
        client.databases.get("Customers")
    assert seen and all(fake.token not in url for url in seen)
