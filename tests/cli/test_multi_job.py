"""A partner's file with several ``[jobs.NAME]``: two shops into two Copernica accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk import CopernicaClient
from copernica_sdk.testing.fake_copernica import FakeCopernica

from ..config_files import toml_text
from .conftest import TOKEN, TOKEN_B, Project, describe, make_shop, ok
from .test_run import summaries


@pytest.fixture
def two_shops(tmp_path: Path) -> Iterator[Project]:
    """Jobs ``north`` (account a) and ``south`` (account b) on one fake Copernica."""
    with FakeCopernica(tokens={TOKEN: "a", TOKEN_B: "b"}) as copernica, \
            make_shop(customers=6, orders=10, seed=21) as north, \
            make_shop(customers=4, orders=7, seed=22) as south:
        config = tmp_path / "shops.toml"
        project = Project(tmp_path, copernica, north, config, tmp_path / "north.sqlite3")
        project.south = south  # type: ignore[attr-defined]
        project.write(toml_text({
            "copernica": {"endpoint": copernica.url},     # shared by every job
            "sync": {"concurrency": 4},
            "jobs.north.copernica": {"access_token": TOKEN},
            "jobs.north.source": north.source_config(),
            "jobs.north.sync": {"state_path": str(tmp_path / "north.sqlite3")},
            "jobs.south.copernica": {"access_token": TOKEN_B},
            "jobs.south.source": south.source_config(),
            "jobs.south.sync": {"state_path": str(tmp_path / "south.sqlite3")},
        }))
        yield project


def _profiles(copernica: FakeCopernica, token: str) -> int:
    with CopernicaClient(token, endpoint=copernica.url) as client:
        database = client.databases.find("Customers")
        assert database is not None
        return sum(1 for _ in client.profiles.list(database))


def test_all_syncs_every_job_into_its_own_account(two_shops: Project) -> None:
    ok(two_shops.invoke("schema", "apply", "--all"))
    result = two_shops.run("run", "--all")
    assert result.returncode == 0, describe(result)
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "[north] customers", "[north] orders", "[south] customers", "[south] orders"]
    north = summaries("\n".join(line.removeprefix("[north] ") for line in lines[:2]))
    south = summaries("\n".join(line.removeprefix("[south] ") for line in lines[2:]))
    assert north["customers"]["read"] == 6 and south["customers"]["read"] == 4
    assert 0 < _profiles(two_shops.copernica, TOKEN_B) < _profiles(two_shops.copernica, TOKEN)
    assert (two_shops.tmp / "north.sqlite3").exists() and (two_shops.tmp / "south.sqlite3").exists()


def test_a_command_without_job_or_all_asks_for_one(two_shops: Project) -> None:
    result = two_shops.invoke("run")
    assert result.exit_code == 2, describe(result)
    assert "defines jobs north, south" in result.stderr
    assert "--job NAME" in result.stderr and "--all" in result.stderr


def test_job_runs_only_that_job(two_shops: Project) -> None:
    ok(two_shops.invoke("schema", "apply", "--job", "south"))
    result = ok(two_shops.invoke("run", "--job", "south"))
    assert "[south]" not in result.stdout  # one job: no prefix
    assert summaries(result.stdout)["customers"]["read"] == 4
    assert not (two_shops.tmp / "north.sqlite3").exists()


def test_shared_tables_apply_to_every_job_and_show_per_job(two_shops: Project) -> None:
    shown = ok(two_shops.invoke("config", "show", "--all")).stdout
    assert "[north]" in shown and "[south]" in shown
    assert shown.count("sync.concurrency = 4") == 2
    assert TOKEN not in shown and TOKEN_B not in shown


def test_one_failing_job_does_not_stop_the_others_and_sets_the_exit_code(
        two_shops: Project) -> None:
    ok(two_shops.invoke("schema", "apply", "--all"))
    text = two_shops.config.read_text(encoding="utf-8").replace(TOKEN_B, "cop-token-WRONG-1")
    two_shops.write(text)
    result = two_shops.run("run", "--all")
    assert result.returncode == 4, describe(result)
    assert "[north] customers: read 6" in result.stdout
    assert "[south] Authentication failed" in result.stderr


def test_state_and_dlq_commands_take_all(two_shops: Project) -> None:
    ok(two_shops.invoke("schema", "apply", "--all"))
    ok(two_shops.invoke("run", "--all"))
    shown = ok(two_shops.invoke("state", "show", "--all")).stdout
    assert f"[north] state: {two_shops.tmp / 'north.sqlite3'}" in shown
    assert f"[south] state: {two_shops.tmp / 'south.sqlite3'}" in shown
    listed = ok(two_shops.invoke("dlq", "list", "--all")).stdout
    assert listed == "[north] no dead letters\n[south] no dead letters\n"


def test_jobs_sharing_a_state_file_are_refused_or_kept_apart(two_shops: Project) -> None:
    text = two_shops.config.read_text(encoding="utf-8")
    two_shops.write(text.replace(str(two_shops.tmp / "south.sqlite3"),
                                 str(two_shops.tmp / "north.sqlite3")))
    for args in (("schema", "apply", "--all"), ("run", "--job", "north"),
                 ("run", "--job", "south")):
        result = two_shops.invoke(*args)
        if result.exit_code == 2:  # refused: fine, if it says why
            assert "state_path" in result.stderr, describe(result)
            return
        assert result.exit_code == 0, describe(result)
    assert summaries(result.stdout)["customers"]["read"] == 4, result.stdout
