"""Stream.state with the job's state in PostgreSQL: committed and rolled back with
the page's bookmark, loaded by the next run, cleared by a reset."""

from __future__ import annotations

import pytest

from copernica_sdk._sql import job_location
from copernica_sdk.sync.state import StateStore
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ..sync.test_stream_state import _Boom, _FailAtCheckpoint, _run, _Source


def test_stream_state_in_postgres_commits_rolls_back_and_resets_with_the_bookmark(
        postgres_url: str, copernica_fake: FakeCopernica) -> None:
    with StateStore(job_location(postgres_url, "csv")) as state:
        assert state.postgres
        with pytest.raises(_Boom):
            _run(copernica_fake, state, _Source(), hooks=[_FailAtCheckpoint(2)])
        assert state.stream_state("people") == {"pages": 1}
        assert state.bookmark("people") == "2024-01-01T10:00:01"
        again = _Source()
        _run(copernica_fake, state, again)
        assert again.seen == [{"pages": 1}]
        assert state.stream_state("people") == {"pages": 3, "done": True}
        state.reset("people")
        assert state.stream_state("people") == {} and state.bookmark("people") is None
