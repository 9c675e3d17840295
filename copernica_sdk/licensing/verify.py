"""Offline verification of a license token: statuses, clock leeway, grace, binding.

A token is a JWT signed with Ed25519 (``EdDSA``, through PyJWT) or, until
:data:`CPL1_ACCEPTED_UNTIL`, a legacy ``CPL1`` token.  Order (each failure is
``INVALID`` unless noted): structure → the key id is pinned → the Ed25519
signature over the exact encoded bytes, BEFORE the claims are parsed → strict
JSON and types → plugin id and issuer
(``WRONG_PRODUCT``) → time (``NOT_YET_VALID`` / ``VALID`` / ``GRACE`` /
``EXPIRED``) → shop and install binding (``WRONG_SHOP``).  A clock behind the
high-water mark adds the flag ``clock_suspect``; it never changes the state.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .install import is_staging, normalize_shop

if TYPE_CHECKING:
    from .keys import KeyRing
    from .token import Claims

__all__ = ["CLOCK_SUSPECT", "CPL1_ACCEPTED_UNTIL", "LEEWAY", "LEGACY_TOKEN",
           "ROLLBACK_TOLERANCE", "LicenseStatus", "State", "verify_token"]

#: Clock skew tolerated at both ends of the validity window.
LEEWAY = timedelta(minutes=5)
#: How far behind the high-water mark the clock may be before it is suspect.
ROLLBACK_TOLERANCE = timedelta(hours=24)
CLOCK_SUSPECT = "clock_suspect"
#: Flag of a status verified from a legacy ``CPL1`` token.
LEGACY_TOKEN = "legacy_cpl1"
#: The last moment a ``CPL1`` token is accepted (licenses run at most a year and JWTs
#: are issued since 2026-12, so every CPL1 license has ended by then); after it, a
#: CPL1 token is ``INVALID`` with a reason that asks for a new license.
CPL1_ACCEPTED_UNTIL = datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)


class State(enum.StrEnum):
    """A license's verified state."""

    VALID = "valid"
    GRACE = "grace"
    EXPIRED = "expired"
    MISSING = "missing"
    INVALID = "invalid"
    WRONG_PRODUCT = "wrong_product"
    WRONG_SHOP = "wrong_shop"
    NOT_YET_VALID = "not_yet_valid"

    @property
    def licensed(self) -> bool:
        """Usage under this state is paid for by a license (not ``unlicensed``)."""
        return self in (State.VALID, State.GRACE, State.WRONG_SHOP)


@dataclass(frozen=True)
class LicenseStatus:
    """The outcome of :func:`verify_token`."""

    state: State
    flags: frozenset[str] = frozenset()
    claims: Claims | None = None
    days_left: int | None = None
    reasons: tuple[str, ...] = ()
    kid: str | None = None
    checked_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """VALID or GRACE: what ``license verify`` exits 0 for."""
        return self.state in (State.VALID, State.GRACE)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able report (``license verify --json``)."""
        return {
            "state": str(self.state), "ok": self.ok, "flags": sorted(self.flags),
            "days_left": self.days_left, "reasons": list(self.reasons), "kid": self.kid,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "claims": self.claims.to_payload() if self.claims else None,
        }


def _ts(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def verify_token(token: str | None, *, keyring: KeyRing, plugin_id: str, now: datetime,
                 issuers: Collection[str] | None = None, shop: str | None = None,
                 install_id: str | None = None,
                 high_water: datetime | None = None) -> LicenseStatus:
    """Verify ``token`` for ``plugin_id`` at ``now`` (tz-aware).  Never raises for a bad
    token: every problem is a :class:`State` with a reason."""
    # Imported here, not above: the states and the status are needed by every run,
    # PyJWT and cryptography only by one that verifies a token.
    import jwt
    from cryptography.exceptions import InvalidSignature

    from .errors import TokenFormatError
    from .jws import looks_like_jws, split_compact, verify_compact
    from .token import MAX_TOKEN_BYTES, decode_token, parse_claims, parse_jwt_claims, strict_json

    if now.tzinfo is None:
        raise ValueError("now must be tz-aware")
    flags: set[str] = set()
    if high_water is not None and now < high_water - ROLLBACK_TOLERANCE:
        flags.add(CLOCK_SUSPECT)

    def status(state: State, *reasons: str, claims: Claims | None = None,
               kid: str | None = None, days_left: int | None = None) -> LicenseStatus:
        notes = list(reasons)
        if CLOCK_SUSPECT in flags:
            notes.append(f"the clock ({now:%Y-%m-%d %H:%M}Z) is behind a time this install "
                         f"has already seen ({high_water:%Y-%m-%d %H:%M}Z)")
        return LicenseStatus(state, frozenset(flags), claims, days_left, tuple(notes), kid, now)

    if token is None or not token.strip():
        return status(State.MISSING, "no license token (file or COPERNICA_PLUGIN_LICENSE)")
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES + 1024:
        return status(State.INVALID, "malformed token: larger than 16 KiB")
    altered = "the signature does not match: the token was altered or signed by another key"
    if looks_like_jws(token):
        try:
            kid = str(split_compact(token).header.get("kid", ""))
        except TokenFormatError as exc:
            return status(State.INVALID, f"malformed token: {exc}")
        key = keyring.get(kid)
        if key is None:
            return status(State.INVALID, f"key {kid or '(no kid)'} is not one this plugin "
                          "trusts", kid=kid or None)
        try:
            payload = verify_compact(token, key)
        except jwt.InvalidSignatureError:
            return status(State.INVALID, altered, kid=kid)
        except TokenFormatError as exc:
            return status(State.INVALID, f"malformed token: {exc}", kid=kid)
        parse = parse_jwt_claims
    else:
        try:
            decoded = decode_token(token)
        except TokenFormatError as exc:
            return status(State.INVALID, f"malformed token: {exc}")
        kid = decoded.kid
        if now > CPL1_ACCEPTED_UNTIL:
            return status(State.INVALID, f"CPL1 tokens are accepted until "
                          f"{CPL1_ACCEPTED_UNTIL:%Y-%m-%d}; ask for a new license (a JWT)",
                          kid=kid)
        key = keyring.get(kid)
        if key is None:
            return status(State.INVALID, f"key {kid} is not one this plugin trusts", kid=kid)
        try:
            key.verify(decoded.signature, decoded.message)
        except InvalidSignature:
            return status(State.INVALID, altered, kid=kid)
        flags.add(LEGACY_TOKEN)
        payload, parse = decoded.payload, parse_claims
    try:
        claims = parse(strict_json(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        return status(State.INVALID, f"payload: {exc}", kid=kid)
    if claims.pid != plugin_id:
        return status(State.WRONG_PRODUCT, f"the license is for plugin {claims.pid!r}, "
                      f"not {plugin_id!r}", claims=claims, kid=kid)
    if issuers is not None and claims.iss not in issuers:
        return status(State.WRONG_PRODUCT, f"issuer {claims.iss!r} is not trusted",
                      claims=claims, kid=kid)

    nbf, exp = _ts(claims.nbf), _ts(claims.exp)
    grace_end = exp + timedelta(days=claims.grace_days)
    if now + LEEWAY < nbf:
        return status(State.NOT_YET_VALID, f"valid from {nbf:%Y-%m-%d %H:%M}Z",
                      claims=claims, kid=kid)
    if now <= exp + LEEWAY:
        state, days_left, why = State.VALID, _days_until(exp, now), ""
    elif now <= grace_end:
        state, days_left = State.GRACE, _days_until(grace_end, now)
        why = f"expired {exp:%Y-%m-%d}; grace period ends {grace_end:%Y-%m-%d}"
    else:
        return status(State.EXPIRED, f"expired {exp:%Y-%m-%d}, grace ended "
                      f"{grace_end:%Y-%m-%d}", claims=claims, kid=kid, days_left=0)

    mismatch = _binding_mismatch(claims, shop, install_id)
    if mismatch:
        return status(State.WRONG_SHOP, mismatch, *([why] if why else []), claims=claims,
                      kid=kid, days_left=days_left)
    return status(state, *([why] if why else []), claims=claims, kid=kid,
                  days_left=days_left)


def _days_until(end: datetime, now: datetime) -> int:
    """Whole days left, counting a started day: a fresh 365-day license has 365."""
    return max(0, -((now - end) // timedelta(days=1)))


def _binding_mismatch(claims: Claims, shop: str | None, install_id: str | None) -> str:
    if claims.shops and shop is not None:
        norm = normalize_shop(shop)
        if not is_staging(norm) and norm not in {normalize_shop(s) for s in claims.shops}:
            return (f"the license is for {', '.join(claims.shops)}, this shop is "
                    f"{norm or '(unknown)'}")
    if claims.installs and install_id is not None and install_id not in claims.installs:
        return f"the license is bound to other installs, not {install_id}"
    return ""
