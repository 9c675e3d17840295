"""The licensing exceptions; all are :class:`copernica_sdk.errors.CopernicaError`."""

from __future__ import annotations

from ..errors import ConfigError, CopernicaError

__all__ = ["InputFileError", "LicenseError", "LicenseKeyError", "LicenseRefusedError",
           "PlanError", "TokenFormatError"]


class LicenseError(CopernicaError):
    """Base class of licensing errors."""


class LicenseKeyError(LicenseError):
    """A key file is missing, unreadable, too widely readable or the wrong kind."""


class TokenFormatError(LicenseError):
    """A license token is malformed: not a JWS (JWT) nor a legacy ``CPL1`` token."""


class PlanError(LicenseError, ConfigError):
    """A price plan is invalid: a configuration problem (exit code 2)."""


class InputFileError(LicenseError, ConfigError):
    """A usage file given to a partner command is unreadable; the message names the
    file, the line and the column (exit code 2)."""

    def __init__(self, path: object, line: int, column: int, problem: str) -> None:
        self.path, self.line, self.column = str(path), line, column
        super().__init__(f"{path}: line {line}, column {column}: {problem}")


class LicenseRefusedError(LicenseError):
    """Enforce mode refused to START a run.  Nothing was synced or changed; the
    message is written for the shop owner.  Maps to exit code 3."""

    exit_code = 3
