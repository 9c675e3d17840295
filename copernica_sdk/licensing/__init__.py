"""Licensing hook for partner plugins: signed licenses, usage metering, billing.

Shop side: :func:`preflight` once before a run (enforce can only refuse to
START it), then the decision's :class:`UsageMeter` hook writes usage rows in the
engine's checkpoint transaction; :func:`flush` / :func:`export_period` move them
to the partner.  Partner side: keys and :func:`sign_token` here; the partner
ledger, its collector, price plans, statement previews and the margin report in
:mod:`copernica_sdk.licensing.partner` (the ``partner`` extra), which the shop
side never imports.  See docs/licensing.md.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .clock import Clock, FixedClock, SystemClock
    from .errors import (
        LicenseError,
        LicenseKeyError,
        LicenseRefusedError,
        PlanError,
        TokenFormatError,
    )
    from .export import export_period
    from .flush import flush
    from .install import Install, is_staging, normalize_shop
    from .keys import KeyRing, generate_keypair, load_private_key, load_public_key
    from .meter import UsageMeter
    from .policy import Mode
    from .preflight import LicenseDecision, preflight
    from .sinks import HttpCollectorSink, Outcome, SinkResult, UsageSink
    from .token import Claims, sign_token
    from .verify import LicenseStatus, State, verify_token

__all__ = [
    "Claims", "Clock", "FixedClock", "HttpCollectorSink", "Install", "KeyRing",
    "LicenseDecision", "LicenseError", "LicenseKeyError", "LicenseRefusedError",
    "LicenseStatus", "Mode", "Outcome", "PlanError",
    "SinkResult", "State", "SystemClock", "TokenFormatError", "UsageMeter", "UsageSink",
    "export_period", "flush", "generate_keypair", "is_staging", "load_private_key",
    "load_public_key", "normalize_shop", "preflight", "sign_token", "verify_token",
]

# PEP 562: each name loads its module on first use, so a run that only needs the
# preflight does not pay for cryptography, PyJWT, requests and the export code.
_LAZY = {
    "Clock": ".clock",
    "FixedClock": ".clock",
    "SystemClock": ".clock",
    "LicenseError": ".errors",
    "LicenseKeyError": ".errors",
    "LicenseRefusedError": ".errors",
    "PlanError": ".errors",
    "TokenFormatError": ".errors",
    "export_period": ".export",
    "flush": ".flush",
    "Install": ".install",
    "is_staging": ".install",
    "normalize_shop": ".install",
    "KeyRing": ".keys",
    "generate_keypair": ".keys",
    "load_private_key": ".keys",
    "load_public_key": ".keys",
    "UsageMeter": ".meter",
    "Mode": ".policy",
    "LicenseDecision": ".preflight",
    "preflight": ".preflight",
    "HttpCollectorSink": ".sinks",
    "Outcome": ".sinks",
    "SinkResult": ".sinks",
    "UsageSink": ".sinks",
    "Claims": ".token",
    "sign_token": ".token",
    "LicenseStatus": ".verify",
    "State": ".verify",
    "verify_token": ".verify",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())


class _Package(types.ModuleType):
    """Keeps ``flush`` and ``preflight`` the functions: importing the submodules of the
    same name (``from copernica_sdk.licensing.flush import …``) would otherwise bind
    the package attribute to the module, as it does for any submodule."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == f".{name}":
            return  # the module stays reachable as sys.modules[f"{__name__}.{name}"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
