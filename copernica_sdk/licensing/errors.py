"""The licensing exceptions; all are :class:`copernica_sdk.errors.CopernicaError`."""

from __future__ import annotations

from ..errors import CopernicaError

__all__ = ["LicenseError", "LicenseKeyError", "LicenseRefusedError", "PlanError", "TokenFormatError"]


class LicenseError(CopernicaError):
    """Base class of licensing errors."""


class LicenseKeyError(LicenseError):
    """A key file is missing, unreadable, too widely readable or the wrong kind."""


class TokenFormatError(LicenseError):
    """A license token is not a well-formed ``CPL1`` token (used by ``inspect``)."""


class PlanError(LicenseError):
    """A price plan or margin plan is invalid."""


class LicenseRefusedError(LicenseError):
    """Enforce mode refused to START a run.  Nothing was synced or changed; the
    message is written for the shop owner.  Maps to exit code 3."""

    exit_code = 3
