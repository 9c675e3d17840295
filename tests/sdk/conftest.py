from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses import registries

from copernica_sdk import CopernicaClient
from copernica_sdk.retry import RetryPolicy

from .soapbuild import ENDPOINT


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def client(sleeps: RecordedSleep) -> Iterator[CopernicaClient]:
    with CopernicaClient("secret-token-123", endpoint=ENDPOINT,
                         retry=RetryPolicy(max_attempts=4, sleep=sleeps)) as c:
        yield c


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=registries.OrderedRegistry) as r:
        yield r
