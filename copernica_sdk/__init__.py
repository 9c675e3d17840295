"""copernica-sdk: a typed Python SDK for Copernica's SOAP API.

Quick start::

    from copernica_sdk import CopernicaClient

    with CopernicaClient(access_token="…") as client:
        db = client.databases.get("Customers")
        client.profiles.upsert(db, key={"customer_key": "ann@example.com"},
                               fields={"firstname": "Ann"})

The client (and with it zeep) is imported lazily, so importing models, errors or
values from this package stays cheap for command-line start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

from .errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectTimeout,
    ConstraintError,
    CopernicaError,
    DeadlineError,
    HTTPStatusError,
    InvalidRequirementError,
    NotFoundError,
    RateLimitError,
    ReadError,
    ReadTimeout,
    RedirectRefusedError,
    ResponseParseError,
    SafetyError,
    TransportError,
    TruncationWarning,
    UnknownFieldError,
    UnsafeRequestError,
    UnverifiedOperatorError,
    ValidationError,
    ValueTooLongError,
)
from .models import (
    BulkResult,
    Callback,
    Collection,
    Database,
    Field,
    Page,
    Profile,
    Requirement,
    Subprofile,
)

if TYPE_CHECKING:
    from .auth import AccessTokenAuth, Auth, BearerAuth, LoginAuth
    from .client import ConnectionPool, CopernicaClient, Timeout
    from .retry import RetryPolicy

__all__ = [
    "APIError",
    "AccessTokenAuth",
    "Auth",
    "AuthenticationError",
    "BearerAuth",
    "BulkResult",
    "Callback",
    "Collection",
    "ConfigurationError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionPool",
    "ConstraintError",
    "CopernicaClient",
    "CopernicaError",
    "Database",
    "DeadlineError",
    "Field",
    "HTTPStatusError",
    "InvalidRequirementError",
    "LoginAuth",
    "NotFoundError",
    "Page",
    "Profile",
    "RateLimitError",
    "ReadError",
    "ReadTimeout",
    "RedirectRefusedError",
    "Requirement",
    "ResponseParseError",
    "RetryPolicy",
    "SafetyError",
    "Subprofile",
    "Timeout",
    "TransportError",
    "TruncationWarning",
    "UnknownFieldError",
    "UnsafeRequestError",
    "UnverifiedOperatorError",
    "ValidationError",
    "ValueTooLongError",
    "__version__",
]

# PEP 562: heavy modules load on first use.
_LAZY = {
    "CopernicaClient": ".client",
    "ConnectionPool": ".client",
    "Timeout": ".client",
    "Auth": ".auth",
    "AccessTokenAuth": ".auth",
    "BearerAuth": ".auth",
    "LoginAuth": ".auth",
    "RetryPolicy": ".retry",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
