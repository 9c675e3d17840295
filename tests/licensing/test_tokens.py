"""License tokens: keys, issue, verify (every state, every flipped byte), inspect."""

from __future__ import annotations

import base64
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copernica_sdk.licensing.errors import LicenseKeyError, TokenFormatError
from copernica_sdk.licensing.keys import (
    KeyRing,
    generate_keypair,
    load_private_key,
    load_public_key,
)
from copernica_sdk.licensing.token import decode_token, sign_cpl1_token, sign_token, strict_json
from copernica_sdk.licensing.verify import LEEWAY, State, verify_token

from .conftest import EXP, NBF, PLUGIN, T0, make_claims

GRACE = timedelta(days=14)


@pytest.fixture
def cpl1_token(partner_key: Ed25519PrivateKey) -> str:
    """A legacy CPL1 token (still verified until CPL1_ACCEPTED_UNTIL)."""
    return sign_cpl1_token(make_claims(), partner_key)


def check(token: str | None, keyring: KeyRing, at: object = None, **kw: object):  # type: ignore[no-untyped-def]
    return verify_token(token, keyring=keyring, plugin_id=kw.pop("plugin", PLUGIN),  # type: ignore[arg-type]
                        now=at or T0 + timedelta(days=1), **kw)  # type: ignore[arg-type]


def test_keygen_writes_encrypted_0600_private_key_and_pub(tmp_path: Path) -> None:
    paths = generate_keypair(tmp_path / "keys", "2025a", b"correct horse")
    assert stat.S_IMODE(paths.private.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in paths.private.read_bytes()
    assert b"correct horse" not in paths.private.read_bytes()
    key = load_private_key(paths.private, b"correct horse")
    assert KeyRing.of(load_public_key(paths.public)).kids() == [paths.kid]
    assert KeyRing.of(key.public_key()).kids() == [paths.kid]


def test_keygen_refuses_empty_passphrase_and_overwrite(tmp_path: Path) -> None:
    with pytest.raises(LicenseKeyError):
        generate_keypair(tmp_path, "k", b"")
    generate_keypair(tmp_path, "k", b"pw")
    with pytest.raises(LicenseKeyError):
        generate_keypair(tmp_path, "k", b"pw")


def test_private_key_wrong_passphrase_and_wide_mode_refused(tmp_path: Path) -> None:
    paths = generate_keypair(tmp_path, "k", b"secret-pass")
    with pytest.raises(LicenseKeyError) as err:
        load_private_key(paths.private, b"nope")
    assert "secret-pass" not in str(err.value) and "nope" not in str(err.value)
    os.chmod(paths.private, 0o640)
    with pytest.raises(LicenseKeyError, match="readable by others"):
        load_private_key(paths.private, b"secret-pass")


def test_valid_license_roundtrip(token: str, keyring: KeyRing) -> None:
    status = check(token, keyring, shop="https://www.shop.example.nl/")
    assert status.state is State.VALID and status.ok
    assert status.claims is not None
    assert status.claims.customer_ref == "cus_123"
    assert status.claims.entitlements == {"orders", "products"}
    assert status.claims.pid == PLUGIN
    assert status.flags == frozenset()


def test_token_is_one_line_with_four_parts(cpl1_token: str) -> None:
    token = cpl1_token
    assert "\n" not in token and token.count(".") == 3 and token.startswith("CPL1.")


def _flip(token: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = token[index]
    repl = alphabet[(alphabet.index(c) + 1) % 64] if c in alphabet else "A"
    return token[:index] + repl + token[index + 1:]


def test_every_flipped_payload_or_signature_character_is_invalid(cpl1_token: str,
                                                                 keyring: KeyRing) -> None:
    token = cpl1_token
    prefix_len = len("CPL1.") + 16 + 1
    for i in range(prefix_len, len(token)):
        if token[i] == ".":
            continue
        assert check(_flip(token, i), keyring).state is State.INVALID, i


def test_every_flipped_payload_byte_is_invalid(cpl1_token: str, keyring: KeyRing,
                                               partner_key: Ed25519PrivateKey) -> None:
    token = cpl1_token
    decoded = decode_token(token)
    head = f"CPL1.{decoded.kid}."
    sig = token.rsplit(".", 1)[1]
    for i in range(len(decoded.payload)):
        raw = bytearray(decoded.payload)
        raw[i] ^= 0x01
        payload = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        assert check(f"{head}{payload}.{sig}", keyring).state is State.INVALID, i
    raw_sig = bytearray(decoded.signature)
    for i in range(len(raw_sig)):
        bad = bytearray(raw_sig)
        bad[i] ^= 0x80
        enc = base64.urlsafe_b64encode(bytes(bad)).rstrip(b"=").decode()
        assert check(f"{head}{decoded.payload_b64}.{enc}", keyring).state is State.INVALID


def test_truncated_swapped_and_reencoded_tokens_are_invalid(cpl1_token: str, keyring: KeyRing,
                                                            partner_key: Ed25519PrivateKey) -> None:
    token = cpl1_token
    other = sign_cpl1_token(make_claims(customer="Other BV"), partner_key)
    v, kid, payload, sig = token.split(".")
    cases = [
        token[:-1], token[: len(token) // 2], f"{v}.{kid}.{other.split('.')[2]}.{sig}",
        f"{v}.{kid}.{payload}=.{sig}", f"{v}.{kid}.{payload}.{sig}==",
        f"{v}.{kid}.{payload.replace('-', '+').replace('_', '/')}.{sig}" if ("-" in payload
                                                                            or "_" in payload)
        else f"{v}.{kid}.{payload}+.{sig}",
        f"CPL2.{kid}.{payload}.{sig}", f"{token}.x", "", "garbage", "CPL1....",
        "CPL1." + "A" * 20000,
    ]
    for case in cases:
        state = check(case, keyring).state
        assert state in (State.INVALID, State.MISSING), case[:40]
        assert state is State.INVALID or case == ""


def test_wrong_key_and_unknown_kid_rejected(cpl1_token: str, keyring: KeyRing) -> None:
    token = cpl1_token
    stranger = Ed25519PrivateKey.generate()
    foreign = sign_token(make_claims(), stranger)
    assert check(foreign, KeyRing.of(stranger.public_key())).state is State.VALID
    ring = KeyRing.of(Ed25519PrivateKey.generate().public_key())
    assert check(token, ring).state is State.INVALID        # unknown kid
    # A token whose kid names the pinned key but is signed by another key.
    _, kid, payload, _ = token.split(".")
    forged_sig = stranger.sign(f"copernica-partner-license/v1\n{kid}.{payload}".encode())
    forged = f"CPL1.{kid}.{payload}.{base64.urlsafe_b64encode(forged_sig).rstrip(b'=').decode()}"
    assert check(forged, keyring).state is State.INVALID


def test_signature_over_other_domain_is_invalid(partner_key: Ed25519PrivateKey,
                                                keyring: KeyRing, cpl1_token: str) -> None:
    token = cpl1_token
    _, kid, payload, _ = token.split(".")
    sig = partner_key.sign(f"{kid}.{payload}".encode())  # no domain prefix
    enc = base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    assert check(f"CPL1.{kid}.{payload}.{enc}", keyring).state is State.INVALID


def test_wrong_plugin_rejected(token: str, keyring: KeyRing) -> None:
    status = check(token, keyring, plugin="other-plugin")
    assert status.state is State.WRONG_PRODUCT
    assert check(token, keyring, issuers={"someone-else"}).state is State.WRONG_PRODUCT
    assert check(token, keyring, issuers={"acme"}).state is State.VALID


@pytest.mark.parametrize(("at", "expected"), [
    (lambda: NBF - LEEWAY.total_seconds() - 1, State.NOT_YET_VALID),
    (lambda: NBF - LEEWAY.total_seconds(), State.VALID),
    (lambda: EXP + LEEWAY.total_seconds(), State.VALID),
    (lambda: EXP + LEEWAY.total_seconds() + 1, State.GRACE),
    (lambda: EXP + GRACE.total_seconds(), State.GRACE),
    (lambda: EXP + GRACE.total_seconds() + 1, State.EXPIRED),
])
def test_expiry_boundaries(token: str, keyring: KeyRing, at: object, expected: State) -> None:
    from datetime import UTC, datetime
    moment = datetime.fromtimestamp(at(), UTC)  # type: ignore[operator]
    assert check(token, keyring, at=moment).state is expected


def test_grace_reports_days_left(token: str, keyring: KeyRing) -> None:
    from datetime import UTC, datetime
    status = check(token, keyring, at=datetime.fromtimestamp(EXP, UTC) + timedelta(days=4))
    assert status.state is State.GRACE and status.days_left == 10
    assert any("grace" in r for r in status.reasons)


def test_clock_rollback_flagged_not_punished(token: str, keyring: KeyRing) -> None:
    seen = T0 + timedelta(days=10)
    status = check(token, keyring, at=seen - timedelta(days=3), high_water=seen)
    assert status.state is State.VALID and "clock_suspect" in status.flags
    assert check(token, keyring, at=seen - timedelta(hours=23), high_water=seen).flags == set()
    missing = check(None, keyring, high_water=T0 + timedelta(days=30))
    assert missing.state is State.MISSING and "clock_suspect" in missing.flags


def test_missing_token_is_missing(keyring: KeyRing) -> None:
    assert check(None, keyring).state is State.MISSING
    assert check("  \n", keyring).state is State.MISSING


def test_binding_and_staging(partner_key: Ed25519PrivateKey, keyring: KeyRing) -> None:
    token = sign_token(make_claims(shops=["shop.example.nl"]), partner_key)
    assert check(token, keyring, shop="HTTPS://WWW.Shop.Example.NL/").state is State.VALID
    assert check(token, keyring, shop="staging.shop.example.nl").state is State.VALID
    assert check(token, keyring, shop="localhost:8080").state is State.VALID
    assert check(token, keyring, shop="new-shop.nl").state is State.WRONG_SHOP
    bound = sign_token(make_claims(shops=[], installs=["i-1"]), partner_key)
    assert check(bound, keyring, install_id="i-1").state is State.VALID
    assert check(bound, keyring, install_id="i-2").state is State.WRONG_SHOP


def test_payload_with_duplicate_keys_or_nan_is_rejected_by_strict_json() -> None:
    with pytest.raises(ValueError):
        strict_json(b'{"a":1,"a":2}')
    with pytest.raises(ValueError):
        strict_json(b'{"a":NaN}')


def test_signed_but_ill_typed_payload_is_invalid(partner_key: Ed25519PrivateKey,
                                                 keyring: KeyRing) -> None:
    from copernica_sdk.licensing.keys import key_id
    from copernica_sdk.licensing.token import signed_message
    raw = partner_key.public_key().public_bytes_raw()
    kid = key_id(raw)
    for body in (b'{"v":1}', b'{"a":1,"a":2}', b'[1]', b'\xff', b'{"v":true}'):
        p = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        sig = base64.urlsafe_b64encode(partner_key.sign(signed_message(kid, p))).rstrip(b"=")
        assert check(f"CPL1.{kid}.{p}.{sig.decode()}", keyring).state is State.INVALID


def test_inspect_decodes_without_verifying(cpl1_token: str) -> None:
    token = cpl1_token
    decoded = decode_token(token)
    assert strict_json(decoded.payload)["pid"] == PLUGIN
    with pytest.raises(TokenFormatError):
        decode_token("CPL1.nothex.x.y")
