"""The pytest plugin's ``copernica_fake`` fixture."""

from __future__ import annotations

import pytest
import requests

from copernica_sdk.testing.fake_copernica import FakeCopernica


def test_fixture_yields_a_running_fake_on_loopback(copernica_fake: FakeCopernica) -> None:
    assert copernica_fake.url.startswith("http://127.0.0.1:")
    assert requests.get(copernica_fake.wsdl_url, timeout=5).status_code == 200


@pytest.mark.parametrize("attempt", [1, 2])
def test_fixture_gives_each_test_a_fresh_empty_fake(
    copernica_fake: FakeCopernica, attempt: int
) -> None:
    assert copernica_fake.state.databases == {}
    copernica_fake.create_database("OnlyHere")


@pytest.mark.copernica_fake(tokens={"partner-token": "acme"})
def test_marker_passes_options_to_the_fake(copernica_fake: FakeCopernica) -> None:
    assert copernica_fake.token == "partner-token"
