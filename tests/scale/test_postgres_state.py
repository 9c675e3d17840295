"""The job's state in PostgreSQL (``sync.state_url``): schema per job, versioned
migrations (the licensing tables included), clear errors, and the ``state``, ``dlq``,
``usage`` commands plus ``state migrate`` (SQLite file → PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from copernica_sdk._sql import job_location, schema_name
from copernica_sdk.sync import state as state_module
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.state import StateStore, StateVersionError
from copernica_sdk.sync.state_files import StateError
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import toml_text
from ..reliability.conftest import CliJob, apply_schema, describe, make_copernica, make_shop

LICENSING_TABLES = {"license_install", "license_clock", "license_runs", "usage_events",
                    "usage_deliveries"}


def tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = %s", (schema,)).fetchall()
    return {r[0] for r in rows}


def test_postgres_state_lives_in_a_schema_of_its_own_at_the_current_version(
        postgres_url: str) -> None:
    with StateStore(job_location(postgres_url, "Shop EU")) as s:
        assert s.postgres and s._version() == len(state_module.PG_MIGRATIONS)
    names = tables(postgres_url, schema_name("Shop EU"))
    assert {"runs", "bookmarks", "hashes", "identities", "dead_letters", "facts",
            "profile_owners", "schema_version"} <= names


def test_two_jobs_in_one_database_never_see_each_others_state(postgres_url: str) -> None:
    with StateStore(job_location(postgres_url, "a")) as a, \
            StateStore(job_location(postgres_url, "b")) as b:
        with a.checkpoint() as cp:
            cp.set_bookmark("orders", "a-1")
        assert b.bookmark("orders") is None and a.bookmark("orders") == "a-1"


def test_job_names_that_sanitise_alike_get_different_schemas() -> None:
    assert schema_name("shop/eu") != schema_name("shop_eu")
    assert len(schema_name("x" * 200)) <= 63


def test_postgres_state_from_a_newer_release_is_refused_untouched(postgres_url: str) -> None:
    location = job_location(postgres_url, "shop")
    StateStore(location).close()
    newer = len(state_module.PG_MIGRATIONS) + 1
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {schema_name('shop')}.schema_version SET version = {newer}")
    with pytest.raises(StateVersionError, match=rf"version {newer}.*newer") as err:
        StateStore(location)
    assert isinstance(err.value, ConfigError)


def test_unreachable_postgres_is_a_state_error_that_hides_the_password() -> None:
    url = "postgresql://sync:hunter2-S3CRET@127.0.0.1:1/db"
    with pytest.raises(StateError, match="cannot be reached") as err:
        StateStore(job_location(url, "shop"))
    assert "hunter2-S3CRET" not in str(err.value)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_licensing_tables_come_from_the_versioned_migrations(
        engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """No table is created on first use any more: opening the state makes them all."""
    if engine == "sqlite":
        with StateStore(tmp_path / "s.sqlite3") as s:
            assert s._version() == len(state_module.MIGRATIONS)
        conn = sqlite3.connect(tmp_path / "s.sqlite3")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
    else:
        url = request.getfixturevalue("postgres_url")
        StateStore(job_location(url, "shop")).close()
        names = tables(url, schema_name("shop"))
    assert names >= LICENSING_TABLES


def test_a_file_whose_licensing_tables_were_made_on_first_use_migrates_keeping_its_usage(
        tmp_path: Path) -> None:
    """Files from before migration 4 got the tables from the meter (IF NOT EXISTS)."""
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("BEGIN;\n" + ";\n".join(state_module.MIGRATIONS[:3])
                       + ";\nPRAGMA user_version = 3;\nCOMMIT;")
    conn.execute("CREATE TABLE license_clock (singleton INTEGER PRIMARY KEY "
                 "CHECK (singleton = 1), high_water TEXT NOT NULL)")
    conn.execute("INSERT INTO license_clock VALUES (1, '2025-01-01T00:00:00Z')")
    conn.close()
    with StateStore(path) as s:
        assert s._version() == len(state_module.MIGRATIONS)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT high_water FROM license_clock").fetchall() == [
        ("2025-01-01T00:00:00Z",)]
    conn.close()


# -- the commands on a PostgreSQL state ---------------------------------------------------


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with make_shop(customers=6, orders=12, seed=5) as s:
        yield s


@pytest.fixture
def fake(shop: FakeShop) -> Iterator[FakeCopernica]:
    with make_copernica() as f:
        apply_schema(f, shop)
        yield f


def use_state_url(job: CliJob, url: str) -> None:
    """Rewrite the job's config from its SQLite state_path to ``state_url``."""
    import tomllib

    tables_ = tomllib.loads(job.config.read_text(encoding="utf-8"))
    tables_["sync"].pop("state_path")
    tables_["sync"]["state_url"] = url
    job.config.write_text(toml_text(tables_), encoding="utf-8")


def test_state_dlq_and_usage_commands_work_on_a_postgres_state(
        tmp_path: Path, shop: FakeShop, fake: FakeCopernica, postgres_url: str) -> None:
    job = CliJob.create(tmp_path, shop, fake, extra={"sync": {"state_url": postgres_url}})
    assert (r := job.run("run")).returncode == 0, describe(r)
    show = job.run("state", "show")
    assert show.returncode == 0, describe(show)
    assert "bookmark customers:" in show.stdout and "run 1:" in show.stdout
    assert "postgresql://postgres@127.0.0.1" in show.stdout
    assert job.run("dlq", "list").stdout.strip() == "[default] no dead letters"
    assert (u := job.run("usage", "show")).returncode == 0, describe(u)
    reset = job.run("state", "reset", "--yes")
    assert reset.returncode == 0, describe(reset)
    assert "bookmarks: 0" in job.run("state", "show").stdout


def test_state_migrate_moves_a_jobs_sqlite_state_into_postgres_exactly(
        tmp_path: Path, shop: FakeShop, fake: FakeCopernica, postgres_url: str) -> None:
    job = CliJob.create(tmp_path, shop, fake)
    assert (r := job.run("run")).returncode == 0, describe(r)
    before = job.run("state", "show").stdout.splitlines()[1:]
    from copernica_sdk._sql import job_location
    from copernica_sdk.licensing.usage_signing import install_key, public_text
    signing = install_key(job.state_path)  # as a metered run makes it
    assert signing is not None
    moved = job.run("state", "migrate", "--to", postgres_url)
    assert moved.returncode == 0, describe(moved)
    # The install keeps signing its usage with the key the partner pinned.
    kept = install_key(job_location(postgres_url, "default"), create=False)
    assert kept is not None and public_text(kept) == public_text(signing)
    assert "copied" in moved.stdout and "set sync.state_url" in moved.stdout
    use_state_url(job, postgres_url)
    after = job.run("state", "show")
    assert after.stdout.splitlines()[1:] == before, describe(after)
    fake.reset_calls()
    again = job.run("run")  # resumes from the migrated bookmarks and digests
    assert again.returncode == 0, describe(again)
    writes = {k: v for k, v in fake.calls.items() if "update" in k.lower() or "create" in k.lower()}
    assert writes == {}, writes
    # A second migration into the now non-empty schema is refused, naming the fix.
    job.config.write_text(job.config.read_text(encoding="utf-8").replace(
        f'state_url = "{postgres_url}"', f'state_path = "{job.state_path}"'), encoding="utf-8")
    refused = job.run("state", "migrate", "--to", postgres_url)
    assert refused.returncode == 2 and "is not empty" in refused.stderr, describe(refused)
