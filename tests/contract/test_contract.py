"""Contract tests: every client method against SOAP answers recorded from the fake.

Replays need no server.  ``pytest --record`` re-records every fixture (each
scenario against a freshly seeded fake) and then replays it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import requests

from copernica_sdk import CopernicaClient, Timeout
from copernica_sdk.retry import RetryPolicy
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.fixtures import SoapFixtures, SoapRecorder, find_secrets, replay

from .scenarios import SCENARIOS, World, seed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "soap"
WORLD = FIXTURES / "world.json"
REPLAY_ENDPOINT = "http://127.0.0.1:8/"
NO_WAIT = RetryPolicy(max_attempts=3, sleep=lambda _: None)


def _record(name: str) -> None:
    with FakeCopernica(seed=7) as fake:
        with CopernicaClient(fake.token, endpoint=fake.url, retry=NO_WAIT) as setup:
            world = seed(setup)
        WORLD.write_text(json.dumps(dataclasses.asdict(world), indent=2) + "\n")
        for stale in FIXTURES.glob(f"*/{name}*.*"):
            stale.unlink()
        recorder = SoapRecorder(FIXTURES, secrets=[fake.token, "wrong-token"], source="fake")
        session = recorder.attach(requests.Session())
        client = CopernicaClient(fake.token, endpoint=fake.url, session=session, retry=NO_WAIT,
                                 timeout=Timeout(connect=2, read=0.5))
        with recorder.case(name):
            SCENARIOS[name](client, world, fake)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_client_method_against_recorded_answers(name: str, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--record"):
        _record(name)
    world = World(**json.loads(WORLD.read_text()))
    fixtures = SoapFixtures(FIXTURES)
    mine = [n for n in fixtures.names() if n.split("/", 1)[1].rstrip("_0123456789") == name]
    assert mine, f"no fixtures recorded for {name}; run pytest --record"
    with replay(FIXTURES) as (rsps, loaded):
        # Register in recording order so retried calls get their answers in sequence.
        loaded.use(rsps, *sorted(mine, key=_recording_order))
        client = CopernicaClient("replay-token", endpoint=REPLAY_ENDPOINT, retry=NO_WAIT)
        SCENARIOS[name](client, world, None)


def _recording_order(fixture_name: str) -> tuple[str, int]:
    stem = fixture_name.split("/", 1)[1]
    base, _, number = stem.rpartition("_")
    return (fixture_name.split("/", 1)[0], int(number)) if number.isdigit() and base else (
        fixture_name.split("/", 1)[0], 1)


def test_no_recorded_fixture_contains_a_secret() -> None:
    assert find_secrets(FIXTURES, ["fake-token", "wrong-token", "secret"]) == []
