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

from .clock import Clock, FixedClock, SystemClock
from .errors import LicenseError, LicenseKeyError, LicenseRefusedError, PlanError, TokenFormatError
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
