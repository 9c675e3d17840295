"""The Hello connector's tests: the SDK's standard suite plus a few of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from copernica_sdk.sync.errors import ConfigError, SourceAuthError
from copernica_sdk.testing.connector_suite import ConnectorSuite, Source, SourceFixture

from hello_connector import HelloConnector
from hello_connector.fake_api import FakeMembersApi


class TestHelloConnector(ConnectorSuite):
    """Every standard test, against a fake API with 30 members in pages of 5."""

    connector_class = HelloConnector

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        with FakeMembersApi(members=30) as api:

            def mutate() -> None:
                api.touch(3)
                api.change_email(1, "ann.renamed@example.com")

            def stale(on: bool) -> None:
                api.stale_pages = on

            yield Source(config=api.source_config(page_size=5), mutate=mutate,
                         lie=lambda: stale(True), honest=lambda: stale(False))


def test_a_wrong_token_is_an_auth_error_that_does_not_show_the_token() -> None:
    with FakeMembersApi(members=1) as api:
        connector = HelloConnector(api.source_config(api_token="not-the-token"))
        with pytest.raises(SourceAuthError) as info:
            connector.check()
    assert "not-the-token" not in str(info.value)


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(ConfigError) as info:
        HelloConnector({"base_url": "http://api.hello.example", "api_token": "t"})
    assert info.value.problems[0].startswith("source.base_url:")
