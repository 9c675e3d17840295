"""The three auth schemes: access_token parameter, Bearer JWT, legacy login + cookie."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
import zeep

from copernica_sdk.testing.fake_copernica import FakeCopernica


def _jwt(fake: FakeCopernica, token: str | None = None) -> str:
    response = requests.post(fake.auth_url, data={"access_token": token or fake.token}, timeout=10)
    assert response.status_code == 200
    return response.text


# ------------------------------------------------------------------ access_token


def test_valid_access_token_is_accepted(kit: Any) -> None:
    assert kit.raw("Account_databases", "").status_code == 200


def test_no_credentials_is_not_logged_on(kit: Any) -> None:
    response = kit.raw("Account_databases", "", token=False)
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Not logged on")


def test_unknown_access_token_is_invalid_access_token(kit: Any) -> None:
    response = kit.raw("Account_databases", "<access_token>nope</access_token>", token=False)
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Invalid access token")


@pytest.mark.copernica_fake(tokens={"token-a": "alpha", "token-b": "beta"})
def test_each_token_sees_only_its_own_account(fake: FakeCopernica, kit: Any) -> None:
    fake.create_database("AlphaDB", account="alpha")
    beta = kit.raw("Account_databases", "<access_token>token-b</access_token>", token=False)
    alpha = kit.raw("Account_databases", "<access_token>token-a</access_token>", token=False)
    assert kit.result_of(beta).findtext("total") == "0"
    assert kit.result_of(alpha).findtext("total") == "1"


@pytest.mark.copernica_fake(tokens={"token-a": "alpha", "token-b": "beta"})
def test_another_accounts_database_id_is_not_found(fake: FakeCopernica, kit: Any) -> None:
    db = fake.create_database("AlphaDB", account="alpha")
    response = kit.raw(
        "Database_retrieve", f"<id>{db}</id><access_token>token-b</access_token>", token=False
    )
    assert kit.fault_of(response) == ("SOAP-ENV:Client", f"No database with id {db}")


# -------------------------------------------------------------------------- JWT


def test_authenticate_returns_an_hs256_jwt_for_the_account(fake: FakeCopernica) -> None:
    response = requests.post(fake.auth_url, data={"access_token": fake.token}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    header, payload, signature = response.text.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"] == "HS256"
    claims = json.loads(base64.urlsafe_b64decode(pad(payload)))
    assert claims["sub"] == "demo" and claims["exp"] > claims["iat"]
    assert signature


def test_authenticate_with_unknown_token_is_400(fake: FakeCopernica) -> None:
    response = requests.post(fake.auth_url, data={"access_token": "nope"}, timeout=10)
    assert response.status_code == 400
    assert response.text == "Invalid access token"


def test_bearer_jwt_authorises_soap_calls(fake: FakeCopernica, kit: Any) -> None:
    jwt = _jwt(fake)
    response = kit.raw(
        "Account_databases", "", token=False, headers={"Authorization": f"Bearer {jwt}"}
    )
    assert response.status_code == 200


def test_bearer_jwt_works_through_zeep(fake: FakeCopernica) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_jwt(fake)}"
    client = zeep.Client(fake.wsdl_url, transport=zeep.transports.Transport(session=session))
    assert client.service.Account_databases(parameters={}).total == 0


def test_forged_jwt_is_401_with_client_fault(kit: Any) -> None:
    response = kit.raw(
        "Account_databases", "", token=False, headers={"Authorization": "Bearer a.b.c"}
    )
    assert response.status_code == 401
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Invalid or expired authorization token")


@pytest.mark.copernica_fake(jwt_ttl=0)
def test_expired_jwt_is_401(fake: FakeCopernica, kit: Any) -> None:
    response = kit.raw(
        "Account_databases", "", token=False, headers={"Authorization": f"Bearer {_jwt(fake)}"}
    )
    assert response.status_code == 401


def test_expire_jwts_invalidates_issued_tokens(fake: FakeCopernica, kit: Any) -> None:
    jwt = _jwt(fake)
    fake.expire_jwts()
    response = kit.raw(
        "Account_databases", "", token=False, headers={"Authorization": f"Bearer {jwt}"}
    )
    assert response.status_code == 401


def test_authenticate_is_never_faulted(fake: FakeCopernica) -> None:
    fake.faults.set_rate(1.0, kinds=["http503"])
    assert (
        requests.post(fake.auth_url, data={"access_token": fake.token}, timeout=10).status_code
        == 200
    )
    assert fake.faults.injected == {}


# ---------------------------------------------------------------- legacy login


def _login(kit: Any, password: str = "secret") -> requests.Response:
    return kit.raw(
        "login",
        f"<username>api@example.com</username><account>demo</account><password>{password}</password>",
        token=False,
    )


def test_login_sets_a_session_cookie_and_returns_true(kit: Any) -> None:
    response = _login(kit)
    assert response.status_code == 200
    assert kit.result_of(response).findtext("value") == "1"
    assert "soap_session" in response.cookies


def test_session_cookie_authorises_later_calls(kit: Any) -> None:
    _login(kit)
    assert kit.raw("Account_databases", "", token=False).status_code == 200


def test_login_with_wrong_password_is_invalid_credentials(kit: Any) -> None:
    assert kit.fault_of(_login(kit, password="wrong")) == ("SOAP-ENV:Client", "Invalid credentials")


def test_login_with_a_foreign_account_name_is_invalid_credentials(kit: Any) -> None:
    response = kit.raw(
        "login",
        "<username>api@example.com</username><account>other</account><password>secret</password>",
        token=False,
    )
    assert kit.fault_of(response)[1] == "Invalid credentials"


def test_expired_session_is_not_logged_on(fake: FakeCopernica, kit: Any) -> None:
    _login(kit)
    fake.expire_sessions()
    response = kit.raw("Account_databases", "", token=False)
    assert kit.fault_of(response) == ("SOAP-ENV:Client", "Not logged on")


def test_login_through_zeep_keeps_the_cookie_in_the_session(fake: FakeCopernica) -> None:
    client = zeep.Client(fake.wsdl_url)
    assert (
        client.service.login(parameters={"username": "api@example.com", "password": "secret"}).value
        == "1"
    )
    assert client.service.Account_databases(parameters={}).total == 0
