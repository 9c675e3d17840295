"""Throwaway license keys and licenses for a partner's own tests.

A licensed plugin pins its real public keys; its tests cannot sign with the real
private key (and should not have it).  :func:`throwaway_license` makes a fresh
Ed25519 key and a license signed with it, and :meth:`ThrowawayLicense.pin`
gives the connector class a subclass that trusts that key instead::

    from copernica_sdk.testing.licenses import throwaway_license

    lic = throwaway_license("acme-woo", entitlements=["orders"])
    Licensed = lic.pin(AcmeWoo)                  # AcmeWoo, trusting the throwaway key
    monkeypatch.setenv("COPERNICA_PLUGIN_LICENSE", lic.token)

Nothing touches disk unless asked (:meth:`ThrowawayLicense.write`).  The key
is unencrypted and lives only in memory: never use it for a real license.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..licensing.keys import KeyRing
from ..licensing.preflight import ENV_TOKEN
from ..licensing.token import Claims, claims_for, sign_token

__all__ = ["ThrowawayLicense", "throwaway_license"]

C = TypeVar("C", bound=type)


@dataclass(frozen=True)
class ThrowawayLicense:
    """A license, the key that signed it, and how to make a plugin trust that key."""

    token: str
    claims: Claims
    private_key: Ed25519PrivateKey

    @property
    def kid(self) -> str:
        """The key id in the token's header."""
        return KeyRing.of(self.private_key.public_key()).kids()[0]

    @property
    def public_keys(self) -> dict[str, str]:
        """``{kid: base64}``: what a connector's ``license_public_keys`` holds."""
        raw = self.private_key.public_key().public_bytes_raw()
        return {self.kid: base64.b64encode(raw).decode("ascii")}

    def pin(self, connector_class: C) -> C:
        """A subclass of ``connector_class`` that trusts this license's key (and no
        other); everything else — plugin id, gates, streams — is inherited."""
        attrs: dict[str, Any] = {"license_public_keys": self.public_keys,
                                 "__module__": connector_class.__module__}
        return type(connector_class.__name__, (connector_class,), attrs)  # type: ignore[return-value]

    def env(self) -> dict[str, str]:
        """``{"COPERNICA_PLUGIN_LICENSE": token}`` for a subprocess or CliRunner."""
        return {ENV_TOKEN: self.token}

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the token to ``path`` (for a ``[license] file`` setting)."""
        target = Path(path)
        target.write_text(self.token + "\n", encoding="utf-8")
        return target

    def reissue(self, **changes: Any) -> ThrowawayLicense:
        """Another license signed by the same key, with claims changed (e.g.
        ``entitlements=frozenset()``, ``exp=…``): a renewal, a downgrade."""
        claims = replace(self.claims, **changes)
        return ThrowawayLicense(sign_token(claims, self.private_key), claims, self.private_key)


def throwaway_license(plugin_id: str, *, entitlements: Sequence[str] = (),
                      customer: str = "Test Shop BV", customer_ref: str = "cus_test",
                      issuer: str = "partner", shops: Sequence[str] = (),
                      valid_for: timedelta = timedelta(days=365), grace_days: int = 14,
                      not_before: datetime | None = None, enforce: str = "observe",
                      plan: Mapping[str, Any] | None = None,
                      key: Ed25519PrivateKey | None = None) -> ThrowawayLicense:
    """A fresh key (or ``key``) and a license for ``plugin_id`` signed with it, valid
    from ``not_before`` (default: now) for ``valid_for``."""
    start = int(not_before.timestamp()) if not_before is not None else int(time.time())
    private = key or Ed25519PrivateKey.generate()
    claims = claims_for(issuer=issuer, plugin_id=plugin_id, customer=customer,
                        customer_ref=customer_ref, shops=list(shops), not_before=start,
                        expires=start + int(valid_for.total_seconds()), grace_days=grace_days,
                        entitlements=list(entitlements), enforce=enforce, plan=plan)
    return ThrowawayLicense(sign_token(claims, private), claims, private)
