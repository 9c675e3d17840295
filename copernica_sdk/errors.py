"""One exception tree for everything the SDK raises.

::

    CopernicaError
    ├── ConfigurationError          bad client settings (endpoint, credentials, options)
    ├── ConfigError                 a job's configuration is invalid (every problem listed)
    ├── UnsafeRequestError          refused before sending: the call could touch every profile
    │   └── UnknownFieldError       a requirement or a value names a field that does not exist
    ├── SafetyError                 an answer shows a write touched more than it should: stop
    ├── TransportError              the request or its answer was lost on the way
    │   ├── ConnectError            no connection was made; the request never left
    │   ├── ConnectTimeout          ditto, timed out while connecting
    │   ├── ReadError               connection broke after the request was sent
    │   └── ReadTimeout             no answer in time after the request was sent
    │       └── DeadlineError       the whole call took longer than its deadline
    ├── HTTPStatusError             the service answered with an HTTP error, not SOAP
    │   ├── RateLimitError          429, with ``retry_after`` when the service said so
    │   └── RedirectRefusedError    3xx: the SDK never follows a redirect with credentials
    ├── APIError                    the service understood the call and refused it
    │   ├── AuthenticationError     missing, wrong or expired credentials
    │   ├── NotFoundError           the object does not exist
    │   ├── ValidationError         the request was malformed or a parameter invalid
    │   │   ├── InvalidRequirementError   a search condition the SDK cannot send (bad operator)
    │   │   │   └── UnverifiedOperatorError  an operator not verified on SOAP, not opted in
    │   │   └── ValueTooLongError     a value longer than its field (strict_lengths, or a key)
    │   └── ConstraintError         a value failed the field's type check
    └── ResponseParseError          the answer was not the SOAP we expect

Every error carries ``operation`` (the SOAP operation, when known) and
``retryable`` (whether repeating the same call may succeed).  Messages never
contain credentials: the client redacts them before an error is raised.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigError",
    "ConfigurationError",
    "ConnectError",
    "ConnectTimeout",
    "ConstraintError",
    "CopernicaError",
    "DeadlineError",
    "HTTPStatusError",
    "InvalidRequirementError",
    "NotFoundError",
    "RateLimitError",
    "ReadError",
    "ReadTimeout",
    "RedirectRefusedError",
    "ResponseParseError",
    "SafetyError",
    "TransportError",
    "TruncationWarning",
    "UnknownFieldError",
    "UnsafeRequestError",
    "UnverifiedOperatorError",
    "ValidationError",
    "ValueTooLongError",
]


class CopernicaError(Exception):
    """Base class of every error the SDK raises."""

    retryable: bool = False
    #: How many times the call was tried before this error was raised.
    attempts: int = 1

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation

    def __str__(self) -> str:
        if self.operation:
            return f"{self.operation}: {self.message}"
        return self.message


class ConfigurationError(CopernicaError):
    """The client was set up wrongly; fix the settings, retrying will not help."""


class ConfigError(CopernicaError):
    """A job's configuration is invalid.  ``problems`` lists every problem found,
    each naming its key, so a user can fix them all in one go.

    Defined here, not in ``sync``, because ``sync`` and ``licensing`` both report
    configuration problems and neither may import the other.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class UnsafeRequestError(CopernicaError):
    """The SDK refused to send a call that could change more than intended.

    Raised before any request leaves, e.g. for an upsert whose requirements are
    empty or name a field the database does not have (the service silently drops
    such a requirement and would update every profile).
    """


class UnknownFieldError(UnsafeRequestError):
    """A requirement or a field value names a field the database or collection lacks.

    Copernica silently ignores both: a requirement on an unknown field matches
    every record, a value for an unknown field is dropped.  ``field`` is the name
    given, ``known`` the fields that exist, ``suggestion`` the closest of them.
    """

    def __init__(self, message: str, *, operation: str | None = None, field: str = "",
                 known: tuple[str, ...] = (), suggestion: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.field = field
        self.known = known
        self.suggestion = suggestion


class SafetyError(CopernicaError):
    """A write's answer shows it touched more than one record for a unique key.

    Raised *after* the call: the service matched several profiles (or
    subprofiles) where the key should identify one, because the key field was
    renamed or removed since the SDK last checked it, or because duplicates
    exist.  Not retryable, and not a per-record problem: a sync run stops at
    once (see docs/guarantees.md, "Writes that could touch every profile").
    ``touched`` is how many records the answer reported.
    """

    def __init__(self, message: str, *, operation: str | None = None, touched: int = 0) -> None:
        super().__init__(message, operation=operation)
        self.touched = touched


class TransportError(CopernicaError):
    """The request or its answer was lost in transit.

    ``request_sent`` tells whether the service may have received (and acted on)
    the request; only when it is ``False`` is a non-idempotent write safe to repeat.
    """

    retryable = True
    request_sent: bool = True


class ConnectError(TransportError):
    """No connection could be made (refused, DNS failure); the request never left."""

    request_sent = False


class ConnectTimeout(TransportError):
    """Connecting timed out; the request never left."""

    request_sent = False


class ReadError(TransportError):
    """The connection broke after the request was sent (reset, truncated answer)."""


class ReadTimeout(TransportError):
    """The service did not answer within the read timeout."""


class DeadlineError(ReadTimeout):
    """The whole call — connecting, sending and reading the complete answer — took
    longer than the client's deadline (``Timeout.total``), e.g. because the server
    trickles its answer.  Retryable like any timeout; the call may have been processed."""


class HTTPStatusError(CopernicaError):
    """The service answered with an HTTP error status and no SOAP fault."""

    RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        operation: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message, operation=operation)
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        self.retryable = status_code in self.RETRYABLE_STATUSES


class RateLimitError(HTTPStatusError):
    """HTTP 429: too many requests.  ``retry_after`` is in seconds, when given."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        operation: str | None = None,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, operation=operation, body_excerpt=body_excerpt
        )
        self.retry_after = retry_after


class RedirectRefusedError(HTTPStatusError):
    """The endpoint answered with a redirect.  The SDK never follows one: the
    request carries the access token, which must reach the configured host only.
    ``location`` is where the service pointed to.  Not retryable: fix the endpoint."""

    def __init__(self, message: str, *, status_code: int, location: str,
                 operation: str | None = None) -> None:
        super().__init__(message, status_code=status_code, operation=operation)
        self.location = location
        self.retryable = False


class APIError(CopernicaError):
    """The service understood the call and refused it (usually a SOAP fault)."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        fault_code: str | None = None,
        status_code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message, operation=operation)
        self.fault_code = fault_code
        self.status_code = status_code
        self.retryable = retryable


class AuthenticationError(APIError):
    """Credentials are missing, wrong or expired."""


class NotFoundError(APIError):
    """The database, collection, field, profile or subprofile does not exist."""


class ValidationError(APIError):
    """The request was malformed or one of its parameters was invalid."""


class InvalidRequirementError(ValidationError):
    """A search condition the SDK will not send: an operator Copernica does not take.

    Raised before any request leaves (``operator`` is what was given).
    """

    def __init__(self, message: str, *, operator: str = "", field: str = "",
                 operation: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.operator = operator
        self.field = field


class UnverifiedOperatorError(InvalidRequirementError):
    """An operator Copernica documents for REST but nobody has verified on SOAP.

    Sent only when asked for by name: ``Requirement(..., unverified=True)`` or the
    helpers in :mod:`copernica_sdk.requirements` ``unverified`` (docs/sdk.md,
    "Search operators").
    """


class ValueTooLongError(ValidationError):
    """A text value is longer than its field, and cutting it is not acceptable.

    Always raised for a key (a cut key matches another record, or none, and the
    next upsert creates a duplicate); for other fields only with the client's
    ``strict_lengths=True`` (otherwise the value is cut with a
    :class:`TruncationWarning`).
    """

    def __init__(self, message: str, *, operation: str | None = None, field: str = "",
                 length: int = 0, limit: int = 0) -> None:
        super().__init__(message, operation=operation)
        self.field = field
        self.length = length
        self.limit = limit


class TruncationWarning(UserWarning):
    """The SDK cut a text value to its field's length before sending it."""


class ConstraintError(APIError):
    """A value failed the field's type check, so nothing was changed."""


class ResponseParseError(CopernicaError):
    """The answer could not be parsed as the SOAP response we expect."""
