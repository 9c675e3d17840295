"""``copernica_sdk.sync`` is the one place partners import from."""

from __future__ import annotations

import copernica_sdk.sync as sync
from copernica_sdk.sync import connector, errors, integrity, rest


def test_the_front_exports_the_connector_api_the_errors_and_the_building_blocks() -> None:
    wanted = {"Connector", "Stream", "ConfigField", "Record", "PageItem", "Skipped", "Rejected",
              "SourceError", "SourceAuthError", "SourceUnavailableError",
              "ListingInconsistentError", "ConfigError", "ListingChecker", "RestClient",
              "RestStream", "HttpBasicAuth", "BearerTokenAuth", "APIKeyAuth", "OAuth1Auth",
              "OffsetPaginator", "PageNumberPaginator", "JSONResponseCursorPaginator",
              "JSONLinkPaginator", "HeaderLinkPaginator", "SinglePagePaginator", "to_utc"}
    assert wanted <= set(sync.__all__)
    assert all(hasattr(sync, name) for name in sync.__all__)


def test_the_old_import_paths_name_the_same_objects() -> None:
    assert sync.Connector is connector.Connector and sync.Stream is connector.Stream
    assert sync.SourceAuthError is errors.SourceAuthError
    assert sync.ListingChecker is integrity.ListingChecker
    assert sync.RestStream is rest.RestStream
