"""``max_connections`` sizes a client's own keep-alive pool; a shared pool is sized by its owner."""

from __future__ import annotations

import pytest

from copernica_sdk import ConnectionPool, CopernicaClient
from copernica_sdk.errors import ConfigurationError
from copernica_sdk.testing.fake_copernica import FakeCopernica


def test_a_client_asked_for_both_a_shared_pool_and_a_size_is_a_config_error(
        copernica_fake: FakeCopernica) -> None:
    with pytest.raises(ConfigurationError, match="max_connections"):
        CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url,
                        pool=ConnectionPool(), max_connections=16)
    with pytest.raises(ConfigurationError, match="at least 1"):
        CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url, max_connections=0)
