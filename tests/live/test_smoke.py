"""Smoke tests against the real Copernica service.

Skipped unless COPERNICA_ACCESS_TOKEN is set (never in CI).  Read-only: they check
the assumptions the bundled WSDL and the fake are built on (docs/copernica-api-notes.md §9), so a
drift shows up here first.  COPERNICA_ENDPOINT overrides the endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from copernica_sdk import AuthenticationError, CopernicaClient
from copernica_sdk.client import DEFAULT_ENDPOINT

pytestmark = pytest.mark.live

ENDPOINT = os.environ.get("COPERNICA_ENDPOINT", DEFAULT_ENDPOINT)


@pytest.fixture(scope="module")
def client() -> Iterator[CopernicaClient]:
    with CopernicaClient(os.environ["COPERNICA_ACCESS_TOKEN"], endpoint=ENDPOINT) as c:
        yield c


def test_the_token_lists_databases(client: CopernicaClient) -> None:
    assert isinstance(list(client.databases.list()), list)


def test_an_unknown_database_name_is_not_a_fault(client: CopernicaClient) -> None:
    assert client.databases.find("copernica-sdk-smoke-no-such-database") is None


def test_the_live_wsdl_declares_the_operations_we_use() -> None:
    with CopernicaClient(os.environ["COPERNICA_ACCESS_TOKEN"], endpoint=ENDPOINT,
                         wsdl=f"{ENDPOINT.rstrip('/')}/?SOAPAPI=WSDL") as live:
        ops = set(live.operations)
    for op in ("Account_database", "Database_fields", "Database_searchProfiles",
               "Database_updateProfiles", "Profile_updateSubProfiles", "Collection_fields"):
        assert op in ops


def test_a_wrong_token_is_an_authentication_error() -> None:
    with CopernicaClient("copernica-sdk-smoke-wrong-token", endpoint=ENDPOINT) as bad, \
            pytest.raises(AuthenticationError):
        bad.databases.find("x")
