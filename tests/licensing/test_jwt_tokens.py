"""Licenses as standard JWTs (EdDSA, RFC 8037): interop, the RFC test vector, CPL1 sunset,
key rotation by kid."""

from __future__ import annotations

import base64
import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt as pyjwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from copernica_sdk.licensing.jws import public_jwk, verify_compact
from copernica_sdk.licensing.keys import KeyRing, key_id
from copernica_sdk.licensing.token import sign_cpl1_token, sign_token
from copernica_sdk.licensing.verify import CPL1_ACCEPTED_UNTIL, LEGACY_TOKEN, State, verify_token
from copernica_sync.cli.cmd_license import license

from .conftest import PLUGIN, T0, make_claims

joserfc = pytest.importorskip("joserfc", reason="the test extra brings joserfc")
from joserfc import jwt as jose_jwt  # noqa: E402
from joserfc.jwk import OKPKey  # noqa: E402

ENV = {"COPERNICA_LICENSE_PASSPHRASE": "test passphrase"}
# RFC 8037, Appendix A.1/A.4: the Ed25519 key and the JWS of "Example of Ed25519 signing".
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPO"
               "t7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jose_key(public: Ed25519PublicKey) -> OKPKey:
    return OKPKey.import_key(public_jwk(public))


def _jose_decode(token: str, key: OKPKey) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc: "EdDSA" is deprecated by RFC 9864
        return jose_jwt.decode(token, key, algorithms=["EdDSA"])


def test_issued_license_verifies_with_an_independent_jose_implementation(
        partner_key: Ed25519PrivateKey) -> None:
    token = sign_token(make_claims(), partner_key)
    decoded = _jose_decode(token, _jose_key(partner_key.public_key()))
    claims = decoded.claims  # type: ignore[attr-defined]
    header = decoded.header  # type: ignore[attr-defined]
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    assert header["kid"] == KeyRing.of(partner_key.public_key()).kids()[0]
    assert claims["aud"] == PLUGIN and claims["iss"] == "acme"
    assert claims["customer"] == {"name": "Shop BV", "ref": "cus_123"}
    assert claims["ent"] == ["orders", "products"] and claims["grace_days"] == 14
    assert claims["bind"]["shops"] == ["shop.example.nl"] and claims["jti"]
    # A different key does not verify it (the independent library agrees on that too).
    other = _jose_key(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(joserfc.errors.BadSignatureError):
        _jose_decode(token, other)


def test_license_signed_by_an_independent_implementation_verifies_here(
        partner_key: Ed25519PrivateKey, keyring: KeyRing) -> None:
    pem = partner_key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    kid = keyring.kids()[0]
    claims = make_claims(customer="Jose BV").to_jwt_payload()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jose_jwt.encode({"alg": "EdDSA", "kid": kid}, claims,
                                OKPKey.import_key(pem), algorithms=["EdDSA"])
    status = verify_token(token, keyring=keyring, plugin_id=PLUGIN, now=T0 + timedelta(days=1))
    assert status.state is State.VALID, status.reasons
    assert status.claims is not None and status.claims.customer == "Jose BV"


def test_rfc8037_test_vector_verifies_with_our_verifier() -> None:
    public = Ed25519PublicKey.from_public_bytes(_b64d(RFC8037_X))
    assert verify_compact(RFC8037_JWS, public) == b"Example of Ed25519 signing"
    flipped = RFC8037_JWS[:-2] + ("A" if RFC8037_JWS[-2] != "A" else "B") + RFC8037_JWS[-1]
    with pytest.raises(pyjwt.InvalidSignatureError):
        verify_compact(flipped, public)


def test_every_flipped_jwt_character_is_invalid(partner_key: Ed25519PrivateKey,
                                                keyring: KeyRing) -> None:
    token = sign_token(make_claims(), partner_key)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    start = token.index(".") + 1  # the header is covered too, but its flips break the kid
    for i in range(start, len(token), 3):
        if token[i] == ".":
            continue
        c = alphabet[(alphabet.index(token[i]) + 1) % 64]
        bad = token[:i] + c + token[i + 1:]
        state = verify_token(bad, keyring=keyring, plugin_id=PLUGIN,
                             now=T0 + timedelta(days=1)).state
        assert state is State.INVALID, i


def test_alg_none_hmac_and_unpinned_kid_are_invalid(partner_key: Ed25519PrivateKey,
                                                    keyring: KeyRing) -> None:
    claims = make_claims().to_jwt_payload()
    kid = keyring.kids()[0]
    none = pyjwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    raw_pub = partner_key.public_key().public_bytes_raw()
    hmac = pyjwt.encode(claims, base64.b64encode(raw_pub), algorithm="HS256",
                        headers={"kid": kid})
    stranger = sign_token(make_claims(), Ed25519PrivateKey.generate())
    for token in (none, hmac, stranger):
        status = verify_token(token, keyring=keyring, plugin_id=PLUGIN,
                              now=T0 + timedelta(days=1))
        assert status.state is State.INVALID, token[:30]


def test_legacy_cpl1_token_still_verifies_until_its_sunset(partner_key: Ed25519PrivateKey,
                                                           keyring: KeyRing) -> None:
    legacy = sign_cpl1_token(make_claims(), partner_key)
    status = verify_token(legacy, keyring=keyring, plugin_id=PLUGIN, now=T0 + timedelta(days=1))
    assert status.state is State.VALID and LEGACY_TOKEN in status.flags
    late = make_claims(not_before=int(CPL1_ACCEPTED_UNTIL.timestamp()) - 86400,
                       expires=int(CPL1_ACCEPTED_UNTIL.timestamp()) + 300 * 86400)
    after = CPL1_ACCEPTED_UNTIL + timedelta(days=1)
    refused = verify_token(sign_cpl1_token(late, partner_key), keyring=keyring,
                           plugin_id=PLUGIN, now=after)
    assert refused.state is State.INVALID and "accepted until 2027-12-31" in refused.reasons[0]
    same_as_jwt = verify_token(sign_token(late, partner_key), keyring=keyring,
                               plugin_id=PLUGIN, now=after)
    assert same_as_jwt.state is State.VALID and not same_as_jwt.flags


def test_fresh_365_day_license_has_365_days_left(partner_key: Ed25519PrivateKey,
                                                 keyring: KeyRing) -> None:
    start = int(T0.timestamp())
    token = sign_token(make_claims(not_before=start, expires=start + 365 * 86400), partner_key)
    status = verify_token(token, keyring=keyring, plugin_id=PLUGIN, now=T0 + timedelta(seconds=3))
    assert status.days_left == 365
    last = verify_token(token, keyring=keyring, plugin_id=PLUGIN,
                        now=T0 + timedelta(days=364, hours=23))
    assert last.days_left == 1


def test_keyring_verifies_licenses_of_every_pinned_key_by_kid() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    ring = KeyRing.of(old.public_key(), new.public_key())
    for key in (old, new):
        status = verify_token(sign_token(make_claims(), key), keyring=ring, plugin_id=PLUGIN,
                              now=T0 + timedelta(days=1))
        assert status.state is State.VALID
        assert status.kid == key_id(key.public_key().public_bytes_raw())
    retired = KeyRing.of(new.public_key())
    assert verify_token(sign_token(make_claims(), old), keyring=retired, plugin_id=PLUGIN,
                        now=T0 + timedelta(days=1)).state is State.INVALID


def test_cli_keygen_rotate_adds_a_key_and_prints_the_whole_ring(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    first = runner.invoke(license, ["keygen", "--out", str(keys), "--label", "2025a"], env=ENV)
    assert first.exit_code == 0, first.output
    again = runner.invoke(license, ["keygen", "--out", str(keys), "--label", "2026a"], env=ENV)
    assert again.exit_code != 0 and "--rotate" in again.output
    nothing = runner.invoke(license, ["keygen", "--out", str(tmp_path / "empty"), "--rotate"],
                            env=ENV)
    assert nothing.exit_code != 0 and "no key yet" in nothing.output
    rotated = runner.invoke(license, ["keygen", "--out", str(keys), "--label", "2026a",
                                      "--rotate"], env=ENV)
    assert rotated.exit_code == 0, rotated.output
    jwks = json.loads((keys / "jwks.json").read_text())
    kids = [k["kid"] for k in jwks["keys"]]
    assert len(kids) == 2 and all(kid in rotated.output for kid in kids)
    # A license from the old key and one from the new verify against both .pub files.
    for label in ("2025a", "2026a"):
        lic = tmp_path / f"{label}.jwt"
        out = runner.invoke(license, ["issue", "--key", str(keys / f"{label}.ed25519.pem"),
                                      "--plugin", "p", "--customer", "c", "--out", str(lic)],
                            env=ENV)
        assert out.exit_code == 0, out.output
        ok = runner.invoke(license, ["verify", str(lic), "--pub", str(keys / "2025a.pub"),
                                     "--pub", str(keys / "2026a.pub"), "--plugin", "p"])
        assert ok.exit_code == 0 and "VALID (365 days left)" in ok.output, ok.output
        header = pyjwt.get_unverified_header(lic.read_text().strip())
        assert header["kid"] in kids and header["alg"] == "EdDSA"


def test_cli_verify_notes_a_legacy_token(tmp_path: Path, partner_key: Ed25519PrivateKey) -> None:
    now = int(datetime.now(UTC).timestamp())
    lic = tmp_path / "old.cpl"
    lic.write_text(sign_cpl1_token(make_claims(not_before=now - 10, expires=now + 86400 * 30),
                                   partner_key) + "\n")
    pub = base64.b64encode(partner_key.public_key().public_bytes_raw()).decode()
    out = CliRunner().invoke(license, ["verify", str(lic), "--pub", pub, "--plugin", PLUGIN])
    assert out.exit_code == 0 and "legacy CPL1 token, accepted until 2027-12-31" in out.output
