"""License tokens: a JWT signed with Ed25519 (``EdDSA``, RFC 8037), and the legacy ``CPL1``.

:func:`sign_token` issues a standard JWT (see :func:`Claims.to_jwt_payload` for its
claims), which any JOSE library verifies; the header carries the signing key's
``kid``.  Legacy ``CPL1`` tokens (issued before the switch) are still verified
until :data:`copernica_sdk.licensing.verify.CPL1_ACCEPTED_UNTIL`; new ones are
made only by :func:`sign_cpl1_token`, for tests of that verifier.

``CPL1`` text form::

    CPL1.<kid>.<payload_b64url>.<sig_b64url>

The signature covers the UTF-8 bytes of ``"copernica-partner-license/v1\\n" +
kid + "." + payload_b64url`` — the *encoded* payload, so JSON is never
re-serialised, and the prefix keeps a signature from meaning anything in another
protocol.  The payload is canonical JSON (sorted keys, no spaces).  It is
signed, not encrypted: the shop owner can read it, so it holds no secrets.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import TokenFormatError
from .jws import sign_compact
from .keys import key_id

__all__ = [
    "MAX_TOKEN_BYTES",
    "PREFIX",
    "SIGNING_DOMAIN",
    "Claims",
    "DecodedToken",
    "claims_for",
    "decode_token",
    "new_license_id",
    "parse_claims",
    "parse_jwt_claims",
    "read_token_file",
    "sign_cpl1_token",
    "sign_token",
    "signed_message",
    "strict_json",
]

PREFIX = "CPL1"
SIGNING_DOMAIN = "copernica-partner-license/v1\n"
MAX_TOKEN_BYTES = 16 * 1024
MODES = ("observe", "warn", "enforce")

_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_KID = re.compile(r"^[0-9a-f]{16}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_license_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds, 80 random bits, Crockford base32."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    """Strict base64url without padding: one spelling per byte string, so a
    re-encoded token cannot pass as the same token."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise TokenFormatError("not base64url without padding")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64e(raw) != text:  # non-canonical trailing bits
        raise TokenFormatError("non-canonical base64url")
    return raw


def signed_message(kid: str, payload_b64: str) -> bytes:
    """The exact bytes the signature covers."""
    return f"{SIGNING_DOMAIN}{kid}.{payload_b64}".encode()


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes) -> Any:
    """Parse UTF-8 JSON, rejecting duplicate keys and NaN/Infinity."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=_reject_duplicates,
                      parse_constant=_reject_constant)


@dataclass(frozen=True)
class Claims:
    """A license's payload, type-checked."""

    lid: str
    iss: str
    pid: str
    customer: str
    customer_ref: str
    iat: int
    nbf: int
    exp: int
    grace_days: int = 0
    shops: tuple[str, ...] = ()
    installs: tuple[str, ...] = ()
    strict_binding: bool = False
    entitlements: frozenset[str] = frozenset()
    limit_installs: int | None = None
    limit_records_month: int | None = None
    enforce: str = "observe"
    plan: Mapping[str, Any] | None = None
    v: int = 1

    def to_payload(self) -> dict[str, Any]:
        """The JSON object that is signed."""
        return {
            "v": self.v, "lid": self.lid, "iss": self.iss, "pid": self.pid,
            "sub": {"name": self.customer, "ref": self.customer_ref},
            "bind": {"shops": list(self.shops), "installs": list(self.installs),
                     "strict": self.strict_binding},
            "iat": self.iat, "nbf": self.nbf, "exp": self.exp, "grace_days": self.grace_days,
            "ent": sorted(self.entitlements),
            "limits": {"installs": self.limit_installs,
                       "records_month": self.limit_records_month},
            "enforce": self.enforce,
            "plan": dict(self.plan) if self.plan is not None else None,
        }

    def to_jwt_payload(self) -> dict[str, Any]:
        """The JWT claims set: registered claims where one exists (``jti`` the license
        id, ``iss`` the partner, ``aud`` the plugin id, ``iat``/``nbf``/``exp`` in
        seconds), the rest as private claims (``customer``, ``bind``, ``grace_days``,
        ``ent``, ``limits``, ``enforce``, ``plan``, ``v``).  ``exp`` is the license's
        end: a verifier in another language that checks ``exp`` itself must allow
        ``grace_days`` past it (docs/licensing.md)."""
        payload = self.to_payload()
        customer = payload.pop("sub")
        return {**{k: v for k, v in payload.items() if k not in ("lid", "pid")},
                "jti": self.lid, "aud": self.pid, "customer": customer}


def _get(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
         where: str = "") -> Any:
    if key not in obj:
        raise ValueError(f"missing {where}{key}")
    value = obj[key]
    # bool is an int in Python; a claim typed int must not accept true/false.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ValueError(f"{where}{key} has the wrong type")
    if not isinstance(value, kind):
        raise ValueError(f"{where}{key} has the wrong type")
    return value


def _strs(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def _opt_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer or null")
    return value


def parse_jwt_claims(payload: Any) -> Claims:
    """Type-check a JWT claims set (:meth:`Claims.to_jwt_payload`)."""
    if not isinstance(payload, dict):
        raise ValueError("payload is not an object")
    aud = payload.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]  # RFC 7519 allows an array; one plugin per license
    if not isinstance(aud, str):
        raise ValueError("aud (the plugin id) must be a string")
    legacy = {k: v for k, v in payload.items() if k not in ("jti", "aud", "customer")}
    legacy.update(lid=payload.get("jti"), pid=aud, sub=payload.get("customer"))
    if legacy["lid"] is None:
        raise ValueError("missing jti")
    if legacy["sub"] is None:
        raise ValueError("missing customer")
    return parse_claims(legacy)


def parse_claims(payload: Any) -> Claims:
    """Type-check a decoded payload; raises ``ValueError`` naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError("payload is not an object")
    if _get(payload, "v", int) != 1:
        raise ValueError("unsupported payload version")
    sub = _get(payload, "sub", dict)
    bind = _get(payload, "bind", dict)
    limits = _get(payload, "limits", dict)
    plan = payload.get("plan")
    if plan is not None and not isinstance(plan, dict):
        raise ValueError("plan must be an object or null")
    enforce = _get(payload, "enforce", str)
    if enforce not in MODES:
        raise ValueError(f"enforce must be one of {', '.join(MODES)}")
    grace = _get(payload, "grace_days", int)
    if grace < 0:
        raise ValueError("grace_days must not be negative")
    return Claims(
        lid=_get(payload, "lid", str), iss=_get(payload, "iss", str),
        pid=_get(payload, "pid", str),
        customer=_get(sub, "name", str, "sub."), customer_ref=_get(sub, "ref", str, "sub."),
        iat=_get(payload, "iat", int), nbf=_get(payload, "nbf", int),
        exp=_get(payload, "exp", int), grace_days=grace,
        shops=_strs(bind.get("shops", []), "bind.shops"),
        installs=_strs(bind.get("installs", []), "bind.installs"),
        strict_binding=bool(_get(bind, "strict", bool, "bind.")),
        entitlements=frozenset(_strs(payload.get("ent", []), "ent")),
        limit_installs=_opt_int(limits.get("installs"), "limits.installs"),
        limit_records_month=_opt_int(limits.get("records_month"), "limits.records_month"),
        enforce=enforce, plan=plan,
    )


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _kid_of(private_key: Ed25519PrivateKey) -> str:
    return key_id(private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw))


def sign_token(claims: Claims, private_key: Ed25519PrivateKey) -> str:
    """Sign ``claims`` into a JWT (``alg: EdDSA``, header ``kid``, canonical JSON claims)."""
    token = sign_compact(_canonical(claims.to_jwt_payload()), private_key,
                         headers={"typ": "JWT", "kid": _kid_of(private_key)})
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenFormatError(f"the token would be {len(token)} bytes; the cap is "
                               f"{MAX_TOKEN_BYTES} (a smaller plan?)")
    return token


def sign_cpl1_token(claims: Claims, private_key: Ed25519PrivateKey) -> str:
    """Sign ``claims`` into a legacy ``CPL1`` token.  Deprecated: only for testing
    the verifier of licenses issued before JWTs; issue with :func:`sign_token`."""
    payload = _canonical(claims.to_payload())
    kid = _kid_of(private_key)
    payload_b64 = _b64e(payload)
    signature = private_key.sign(signed_message(kid, payload_b64))
    token = f"{PREFIX}.{kid}.{payload_b64}.{_b64e(signature)}"
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenFormatError(f"the token would be {len(token)} bytes; the cap is "
                               f"{MAX_TOKEN_BYTES} (a smaller plan?)")
    return token


@dataclass(frozen=True)
class DecodedToken:
    """A token split into its parts; nothing here is verified yet."""

    kid: str
    payload_b64: str
    payload: bytes
    signature: bytes
    raw: str = field(repr=False)

    @property
    def message(self) -> bytes:
        return signed_message(self.kid, self.payload_b64)


def decode_token(token: str) -> DecodedToken:
    """Split and base64-decode a token.  Checks structure only: NOT the signature."""
    text = token.strip()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise TokenFormatError("token larger than 16 KiB")
    parts = text.split(".")
    if len(parts) != 4:
        raise TokenFormatError("a CPL1 token has 4 dot-separated parts")
    version, kid, payload_b64, sig_b64 = parts
    if version != PREFIX:
        raise TokenFormatError(f"unknown token version {version[:8]!r} (expected {PREFIX})")
    if not _KID.match(kid):
        raise TokenFormatError("malformed key id")
    payload, signature = _b64d(payload_b64), _b64d(sig_b64)
    if len(signature) != 64:
        raise TokenFormatError("an Ed25519 signature has 64 bytes")
    return DecodedToken(kid, payload_b64, payload, signature, text)


def read_token_file(path: str | os.PathLike[str]) -> str:
    """A token file's text (one line; surrounding whitespace ignored)."""
    with open(path, encoding="utf-8") as fh:
        return fh.read(MAX_TOKEN_BYTES + 1024).strip()


def claims_for(*, lid: str | None = None, issuer: str, plugin_id: str, customer: str,
               customer_ref: str = "", shops: Sequence[str] = (), installs: Sequence[str] = (),
               strict_binding: bool = False, not_before: int, expires: int,
               grace_days: int = 14, entitlements: Sequence[str] = (),
               limit_installs: int | None = None, limit_records_month: int | None = None,
               enforce: str = "observe", plan: Mapping[str, Any] | None = None,
               issued_at: int | None = None) -> Claims:
    """Build claims for issuing, with the defaults the CLI uses."""
    if enforce not in MODES:
        raise ValueError(f"enforce must be one of {', '.join(MODES)}")
    if expires <= not_before:
        raise ValueError("the license must expire after it starts")
    return Claims(lid=lid or new_license_id(), iss=issuer, pid=plugin_id, customer=customer,
                  customer_ref=customer_ref, iat=issued_at if issued_at is not None else not_before,
                  nbf=not_before, exp=expires, grace_days=grace_days, shops=tuple(shops),
                  installs=tuple(installs), strict_binding=strict_binding,
                  entitlements=frozenset(entitlements), limit_installs=limit_installs,
                  limit_records_month=limit_records_month, enforce=enforce, plan=plan)
