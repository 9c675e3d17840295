"""REST building blocks for sources: a client, authenticators, paginators and a stream.

::

    from copernica_sdk.sync.rest import (BearerTokenAuth, HeaderLinkPaginator,
                                         RestClient, RestStream)

- :mod:`.client` — :class:`RestClient`: session, retries (``RetryPolicy``),
  whole-call deadlines, redirect rules, redaction, JSON decoding, HTTP status →
  source errors;
- :mod:`.auth` — :class:`HttpBasicAuth`, :class:`BearerTokenAuth`,
  :class:`APIKeyAuth`, :class:`QueryParamsAuth`, :class:`OAuth1Auth`;
- :mod:`.paginators` — :class:`OffsetPaginator`, :class:`PageNumberPaginator`,
  :class:`JSONResponseCursorPaginator`, :class:`JSONLinkPaginator`,
  :class:`HeaderLinkPaginator`, :class:`SinglePagePaginator`, each with the
  listing-integrity checks;
- :mod:`.stream` — :class:`RestStream`: path, params, record selector,
  paginator, incremental parameter and its format;
- :mod:`copernica_sdk.sync.paths` — the one path grammar (``links.next.href``,
  ``data[*]``, ``links[rel=next].href``) the others take.

The guide: docs/writing-a-connector.md, "REST building blocks".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports

if TYPE_CHECKING:
    from ..paths import PathError, parse_path
    from .auth import (
        APIKeyAuth,
        Authenticator,
        BearerTokenAuth,
        HttpBasicAuth,
        NoAuth,
        OAuth1Auth,
        QueryParamsAuth,
    )
    from .client import DEFAULT_SOURCE_RETRY, RestClient, RestResponse, SourceHTTPError, same_origin
    from .paginators import (
        HeaderLinkPaginator,
        JSONLinkPaginator,
        JSONResponseCursorPaginator,
        OffsetPaginator,
        Page,
        PageNumberPaginator,
        Paginator,
        SinglePagePaginator,
        paginate,
    )
    from .stream import RestStream

__all__ = [
    "DEFAULT_SOURCE_RETRY",
    "APIKeyAuth",
    "Authenticator",
    "BearerTokenAuth",
    "HeaderLinkPaginator",
    "HttpBasicAuth",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "NoAuth",
    "OAuth1Auth",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "Paginator",
    "PathError",
    "QueryParamsAuth",
    "RestClient",
    "RestResponse",
    "RestStream",
    "SinglePagePaginator",
    "SourceHTTPError",
    "paginate",
    "parse_path",
    "same_origin",
]

# PEP 562: each name loads its module on first use, so importing the framework (or a
# connector that uses only the client) does not load every paginator and the stream.
_LAZY = {
    "PathError": "..paths",
    "parse_path": "..paths",
    "APIKeyAuth": ".auth",
    "Authenticator": ".auth",
    "BearerTokenAuth": ".auth",
    "HttpBasicAuth": ".auth",
    "NoAuth": ".auth",
    "OAuth1Auth": ".auth",
    "QueryParamsAuth": ".auth",
    "DEFAULT_SOURCE_RETRY": ".client",
    "RestClient": ".client",
    "RestResponse": ".client",
    "SourceHTTPError": ".client",
    "same_origin": ".client",
    "HeaderLinkPaginator": ".paginators",
    "JSONLinkPaginator": ".paginators",
    "JSONResponseCursorPaginator": ".paginators",
    "OffsetPaginator": ".paginators",
    "Page": ".paginators",
    "PageNumberPaginator": ".paginators",
    "Paginator": ".paginators",
    "SinglePagePaginator": ".paginators",
    "paginate": ".paginators",
    "RestStream": ".stream",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
