"""The connector framework: what partners import to build a connector.

Everything a connector needs is importable from here::

    from copernica_sdk.sync import (ConfigField, Connector, HeaderLinkPaginator,
                                    RestClient, RestStream, SourceAuthError)

- the connector API: :class:`Connector`, :class:`Stream`, :class:`ConfigField`,
  :data:`Record`, :data:`PageItem`, :class:`Skipped`, :class:`Rejected`,
  :data:`DEFERRED`;
- the source errors: :class:`SourceError`, :class:`SourceAuthError`,
  :class:`SourceUnavailableError`, :class:`ListingInconsistentError`,
  :class:`ConfigError`, :class:`MappingError`;
- listing integrity: :class:`ListingChecker`;
- the REST building blocks (:mod:`copernica_sdk.sync.rest`): :class:`RestClient`,
  the authenticators, the paginators, :class:`RestStream`;
- timestamps: :func:`to_utc`, :func:`parse_utc`, :func:`format_for`.

The modules (``copernica_sdk.sync.connector``, ``.errors``, ``.integrity``, …)
stay importable as before.  Guide: docs/writing-a-connector.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .connector import (
    DEFERRED,
    ConfigField,
    Connector,
    PageItem,
    Record,
    Rejected,
    Skipped,
    Stream,
)
from .errors import (
    ConfigError,
    ListingInconsistentError,
    MappingError,
    SourceAuthError,
    SourceError,
    SourceUnavailableError,
)
from .integrity import ListingChecker, PageVerdict
from .timestamps import format_for, parse_utc, to_utc

if TYPE_CHECKING:
    from .rest import (
        APIKeyAuth,
        Authenticator,
        BearerTokenAuth,
        HeaderLinkPaginator,
        HttpBasicAuth,
        JSONLinkPaginator,
        JSONResponseCursorPaginator,
        NoAuth,
        OAuth1Auth,
        OffsetPaginator,
        PageNumberPaginator,
        Paginator,
        QueryParamsAuth,
        RestClient,
        RestResponse,
        RestStream,
        SinglePagePaginator,
        SourceHTTPError,
    )

__all__ = [
    "DEFERRED",
    "APIKeyAuth",
    "Authenticator",
    "BearerTokenAuth",
    "ConfigError",
    "ConfigField",
    "Connector",
    "HeaderLinkPaginator",
    "HttpBasicAuth",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "ListingChecker",
    "ListingInconsistentError",
    "MappingError",
    "NoAuth",
    "OAuth1Auth",
    "OffsetPaginator",
    "PageItem",
    "PageNumberPaginator",
    "PageVerdict",
    "Paginator",
    "QueryParamsAuth",
    "Record",
    "Rejected",
    "RestClient",
    "RestResponse",
    "RestStream",
    "SinglePagePaginator",
    "Skipped",
    "SourceAuthError",
    "SourceError",
    "SourceHTTPError",
    "SourceUnavailableError",
    "Stream",
    "format_for",
    "parse_utc",
    "to_utc",
]

# PEP 562: the REST building blocks (requests, oauthlib, tenacity) load on first use,
# not with every import of the connector framework.
_LAZY = {
    "APIKeyAuth": ".rest",
    "Authenticator": ".rest",
    "BearerTokenAuth": ".rest",
    "HeaderLinkPaginator": ".rest",
    "HttpBasicAuth": ".rest",
    "JSONLinkPaginator": ".rest",
    "JSONResponseCursorPaginator": ".rest",
    "NoAuth": ".rest",
    "OAuth1Auth": ".rest",
    "OffsetPaginator": ".rest",
    "PageNumberPaginator": ".rest",
    "Paginator": ".rest",
    "QueryParamsAuth": ".rest",
    "RestClient": ".rest",
    "RestResponse": ".rest",
    "RestStream": ".rest",
    "SinglePagePaginator": ".rest",
    "SourceHTTPError": ".rest",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
