"""Compact JWS with Ed25519 (``alg: EdDSA``, RFC 8037), through PyJWT.

The one place license tokens are signed and their signatures checked.  A JWS is
the format PHP (``firebase/php-jwt``, ``web-token``), JavaScript (``jose``) and
every other JOSE library verify, so a partner's shop-side plugin can check the
same license the sync checks.  Only ``EdDSA`` is accepted: the algorithm comes
from our allow-list, never from the token's header (no ``none``, no HMAC with
the public key as secret).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.api_jws import PyJWS

from .errors import TokenFormatError

__all__ = ["ALGORITHM", "JwsParts", "looks_like_jws", "public_jwk", "sign_compact",
           "split_compact", "verify_compact"]

ALGORITHM = "EdDSA"
_SEGMENT = r"[A-Za-z0-9_-]+"
_COMPACT = re.compile(rf"^{_SEGMENT}\.{_SEGMENT}\.{_SEGMENT}$")
_JWS = PyJWS(algorithms=[ALGORITHM])


def looks_like_jws(text: str) -> bool:
    """Three base64url segments: a compact JWS (a JWT), not a file path."""
    return bool(_COMPACT.match(text.strip()))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    """The public key as a JWK (an OKP key, RFC 8037): what a PHP or JS plugin loads."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64e(raw), "alg": ALGORITHM, "use": "sig"}
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def sign_compact(payload: bytes, private_key: Ed25519PrivateKey, *,
                 headers: Mapping[str, Any] | None = None) -> str:
    """``base64url(header).base64url(payload).base64url(signature)``; Ed25519 is
    deterministic, so the same payload and key give the same token."""
    return _JWS.encode(payload, private_key, algorithm=ALGORITHM, headers=dict(headers or {}))


@dataclass(frozen=True)
class JwsParts:
    """A compact JWS split; ``header`` is parsed, nothing is verified yet."""

    header: Mapping[str, Any]
    raw: str


def split_compact(token: str) -> JwsParts:
    """The (unverified) protected header, to find the ``kid``."""
    text = token.strip()
    if not looks_like_jws(text):
        raise TokenFormatError("a JWS has three base64url parts separated by dots")
    try:
        header = jwt.get_unverified_header(text)
    except jwt.InvalidTokenError as exc:
        raise TokenFormatError(f"unreadable JWS header: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise TokenFormatError(f"algorithm {str(header.get('alg'))[:16]!r} is not accepted "
                               f"(only {ALGORITHM})")
    return JwsParts(header, text)


def verify_compact(token: str, public_key: Ed25519PublicKey) -> bytes:
    """The payload bytes of ``token`` once its Ed25519 signature checks out.

    Raises :class:`TokenFormatError` for a malformed token and
    :class:`jwt.InvalidSignatureError` for a signature that does not match.
    """
    parts = split_compact(token)
    try:
        decoded = _JWS.decode_complete(parts.raw, public_key, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError:
        raise
    except jwt.InvalidTokenError as exc:
        raise TokenFormatError(f"malformed JWS: {exc}") from None
    payload: bytes = decoded["payload"]
    return payload
