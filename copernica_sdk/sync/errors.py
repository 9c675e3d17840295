"""Errors of the sync framework; part of the SDK's one exception tree."""

from __future__ import annotations

from ..errors import ConfigError, CopernicaError

__all__ = [
    "ConfigError",
    "JobLockedError",
    "ListingInconsistentError",
    "MappingError",
    "SourceAuthError",
    "SourceError",
    "SourceUnavailableError",
]


class MappingError(CopernicaError):
    """A record could not be mapped (missing key, wrong type…).  The record is
    dead-lettered with this message; the run continues."""


class SourceError(CopernicaError):
    """The source (shop, CMS, file) failed."""


class SourceAuthError(SourceError):
    """The source refused the configured credentials."""


class SourceUnavailableError(SourceError):
    """The source could not be reached or kept failing after retries."""

    retryable = True


class ListingInconsistentError(SourceError):
    """A paginated listing contradicted itself: a page repeated an earlier one, a
    page was empty or short before the announced end, more records were served
    than announced, or an ordered listing went backwards.

    The stream stops (exit code 5) and its bookmark does not move past what the
    listing may have hidden; the message names the request and what was wrong.
    See :mod:`copernica_sdk.sync.integrity`.
    """


class JobLockedError(CopernicaError):
    """Another run of the same job holds its lock."""
