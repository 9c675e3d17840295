"""The pytest plugin's ``fake_copernica`` fixture."""

from __future__ import annotations

import pytest
import requests

from copernica_sdk.testing.fake_copernica import FakeCopernica


def test_fixture_yields_a_running_fake_on_loopback(fake_copernica: FakeCopernica) -> None:
    assert fake_copernica.url.startswith("http://127.0.0.1:")
    assert requests.get(fake_copernica.wsdl_url, timeout=5).status_code == 200


@pytest.mark.parametrize("attempt", [1, 2])
def test_fixture_gives_each_test_a_fresh_empty_fake(
    fake_copernica: FakeCopernica, attempt: int
) -> None:
    assert fake_copernica.state.databases == {}
    fake_copernica.create_database("OnlyHere")


@pytest.mark.fake_copernica(tokens={"partner-token": "acme"})
def test_marker_passes_options_to_the_fake(fake_copernica: FakeCopernica) -> None:
    assert fake_copernica.token == "partner-token"
