"""The sync state store (copernica_sdk.sync.state): one SQLite file per job."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk._sql import job_location
from copernica_sdk.sync import state as state_module
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.state import Identity, StateStore, StateVersionError


class Boom(Exception):
    pass


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "job.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[StateStore]:
    """The store on each engine: the same semantics on both."""
    with StateStore(location(request, db_path)) as s:
        yield s


def location(request: pytest.FixtureRequest, db_path: Path) -> str | Path:
    if request.param == "sqlite":
        return db_path
    return job_location(request.getfixturevalue("postgres_url"), "job")


def write_everything(store: StateStore, tag: str) -> None:
    with store.checkpoint() as cp:
        cp.set_bookmark("orders", f"bookmark-{tag}")
        cp.set_hashes("orders", {"o1": f"hash-{tag}"})
        cp.set_profile_ids(7, {"ann@example.com": 101})
        cp.set_identity("woo", "42", "ann@example.com", 101)
        cp.add_dead_letter(run_id=None, stream="orders", record_key="o2", reason=tag,
                           payload={"id": "o2"})


def snapshot(store: StateStore) -> tuple[object, ...]:
    return (store.bookmarks(), store.hashes("orders", ["o1"]),
            store.profile_ids(7, ["ann@example.com"]), store.identity("woo", "42"),
            [(d.record_key, d.reason) for d in store.dead_letters(status=None)],
            store.counts())


# -- opening and settings ------------------------------------------------------------


def test_opening_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "job.sqlite3"
    with StateStore(path) as s:
        assert s.path == path
    assert path.is_file()


def test_file_is_in_wal_mode_with_full_sync_and_foreign_keys(db_path: Path) -> None:
    with StateStore(db_path) as store:
        check_sqlite_settings(store)


def check_sqlite_settings(store: StateStore) -> None:
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_new_state_file_is_readable_by_its_owner_only(db_path: Path) -> None:
    StateStore(db_path).close()
    assert db_path.stat().st_mode & 0o077 == 0


def test_default_path_is_in_the_user_state_dir_named_for_the_job() -> None:
    path = StateStore.default_path("my-shop")
    assert path.name == "my-shop.sqlite3"
    assert path.parent.name == "copernica-sync"


def test_default_path_sanitises_job_names_without_collisions() -> None:
    slash = StateStore.default_path("shop/eu")
    underscore = StateStore.default_path("shop_eu")
    assert "/" not in slash.name and slash.parent == underscore.parent
    assert slash != underscore
    assert StateStore.default_path("..").name.startswith("job-")


def test_close_is_idempotent(db_path: Path) -> None:
    s = StateStore(db_path)
    s.close()
    s.close()


# -- migrations ----------------------------------------------------------------------


def test_empty_file_is_migrated_to_the_current_version(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.touch()
    with StateStore(db_path) as s:
        assert s._version() == len(state_module.MIGRATIONS)
        assert s.counts()["runs"] == 0


def test_version_zero_database_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()
    with StateStore(db_path) as s:
        assert s._version() == len(state_module.MIGRATIONS)


def test_older_file_gets_only_the_missing_migrations_and_keeps_its_data(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with StateStore(db_path) as s:
        write_everything(s, "v1")
    monkeypatch.setattr(state_module, "MIGRATIONS",
                        [*state_module.MIGRATIONS, "CREATE TABLE extra (x INTEGER);"])
    with StateStore(db_path) as s:
        assert s._version() == len(state_module.MIGRATIONS)
        assert s.bookmark("orders") == "bookmark-v1"
        s._conn.execute("SELECT x FROM extra").fetchall()


def test_failed_migration_leaves_the_file_at_its_old_version(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    StateStore(db_path).close()
    old = len(state_module.MIGRATIONS)
    monkeypatch.setattr(state_module, "MIGRATIONS", [
        *state_module.MIGRATIONS, "CREATE TABLE half (x); INSERT INTO no_such_table VALUES (1);"])
    with pytest.raises(sqlite3.OperationalError):
        StateStore(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == old
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    conn.close()


def test_file_from_a_newer_release_is_refused_untouched(db_path: Path) -> None:
    StateStore(db_path).close()
    too_new = len(state_module.MIGRATIONS) + 1
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {too_new}")
    conn.close()
    with pytest.raises(StateVersionError, match=rf"schema version {too_new}.*newer") as err:
        StateStore(db_path)
    assert isinstance(err.value, ConfigError)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == too_new
    conn.close()


# -- checkpoints ---------------------------------------------------------------------


def test_exception_inside_checkpoint_leaves_every_table_unchanged(store: StateStore) -> None:
    write_everything(store, "first")
    before = snapshot(store)
    with pytest.raises(Boom), store.checkpoint() as cp:
        cp.set_bookmark("orders", "bookmark-second")
        cp.set_bookmark("customers", "new stream")
        cp.set_hashes("orders", {"o1": "hash-second", "o9": "h"})
        cp.set_profile_ids(7, {"ann@example.com": 999, "bob@example.com": 5})
        cp.forget_profile_ids(7, ["ann@example.com"])
        cp.set_identity("woo", "42", "new@example.com", 5)
        cp.add_dead_letter(run_id=None, stream="orders", record_key="o3", reason="x",
                           payload={})
        cp.resolve_dead_letters("orders", ["o2"])
        raise Boom
    assert snapshot(store) == before


def test_rows_a_hook_writes_through_the_connection_roll_back_with_the_checkpoint(
        store: StateStore) -> None:
    with store.checkpoint() as cp:
        cp.connection.execute("CREATE TABLE usage (n INTEGER)")
    with pytest.raises(Boom), store.checkpoint() as cp:
        cp.connection.execute("INSERT INTO usage VALUES (1)")
        raise Boom
    with store.checkpoint() as cp:
        cp.connection.execute("INSERT INTO usage VALUES (2)")
    assert store._conn.execute("SELECT n FROM usage").fetchall() == [(2,)]


def test_committed_checkpoint_survives_reopening_the_file(db_path: Path) -> None:
    with StateStore(db_path) as s:
        write_everything(s, "kept")
        expected = snapshot(s)
    with StateStore(db_path) as s:
        assert snapshot(s) == expected


def test_store_is_usable_after_a_rolled_back_checkpoint(store: StateStore) -> None:
    with pytest.raises(Boom), store.checkpoint():
        raise Boom
    with store.checkpoint() as cp:
        cp.set_bookmark("s", "1")
    assert store.bookmark("s") == "1"


def test_checkpoint_cannot_be_used_after_its_block(store: StateStore) -> None:
    with store.checkpoint() as cp:
        pass
    with pytest.raises(RuntimeError, match="already been committed"):
        cp.set_bookmark("s", "1")


def test_checkpoints_do_not_nest(store: StateStore) -> None:
    with store.checkpoint() as cp, pytest.raises(RuntimeError, match="nest"):
        cp.set_bookmark("s", "outer")
        with store.checkpoint():
            pass
    assert store.bookmark("s") == "outer"


def test_checkpoint_run_id_defaults_to_the_current_run_and_is_settable(
        store: StateStore) -> None:
    with store.checkpoint() as cp:
        assert cp.run_id is None
    run = store.start_run("job")
    with store.checkpoint() as cp:
        assert cp.run_id == run
        cp.run_id = 12
        assert cp.run_id == 12
    store.finish_run(run, 0, {})
    with store.checkpoint() as cp:
        assert cp.run_id is None


# Loops checkpoints from where the previous life stopped.  Bounded in time so a
# broken test can never leave it running.
_KILLED_CHILD = textwrap.dedent("""
    import sys, time
    from copernica_sdk.sync.state import StateStore

    store = StateStore(sys.argv[1])
    i = int(store.bookmark("s") or -1) + 1
    deadline = time.monotonic() + 20
    done = 0
    while time.monotonic() < deadline:
        with store.checkpoint() as cp:
            cp.set_hashes("s", {f"{i}-{j}": "h" for j in range(200)})
            cp.set_bookmark("s", str(i))
            cp.add_dead_letter(run_id=None, stream="s", record_key=str(i), reason="r",
                               payload={"i": i})
            cp.set_hashes("s", {str(i): "h"})
        done += 1
        if done == 3:
            print("ready", flush=True)
        i += 1
""")


def test_process_killed_mid_sync_leaves_every_checkpoint_all_or_nothing(
        db_path: Path) -> None:
    StateStore(db_path).close()
    for delay in (0.05, 0.13, 0.31):
        child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(db_path)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
            time.sleep(delay)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            assert child.stdout is not None
            child.stdout.close()
        with StateStore(db_path) as s:
            last = int(s.bookmark("s") or -1)
            assert last >= 3
            done = [str(i) for i in range(last + 1)]
            assert s.hashes("s", [*done, str(last + 1)]).keys() == set(done)
            assert len(s.hashes("s", [f"{last}-{j}" for j in range(200)])) == 200
            assert s.hashes("s", [f"{last + 1}-{j}" for j in range(200)]) == {}
            assert [d.record_key for d in s.dead_letters()] == done


# -- lookups -------------------------------------------------------------------------


def test_hash_lookup_over_more_keys_than_one_query_binds(store: StateStore) -> None:
    with store.checkpoint() as cp:
        cp.set_hashes("profiles", {str(i): f"h{i}" for i in range(0, 1300, 2)})
    found = store.hashes("profiles", (str(i) for i in range(1300)))
    assert found == {str(i): f"h{i}" for i in range(0, 1300, 2)}


def test_hash_lookup_is_per_scope(store: StateStore) -> None:
    with store.checkpoint() as cp:
        cp.set_hashes("a", {"k": "ha"})
        cp.set_hashes("b", {"k": "hb"})
    assert store.hashes("a", ["k"]) == {"k": "ha"}
    assert store.hashes("c", ["k"]) == {}


def test_set_hashes_overwrites_the_previous_hash(store: StateStore) -> None:
    for h in ("old", "new"):
        with store.checkpoint() as cp:
            cp.set_hashes("a", {"k": h})
    assert store.hashes("a", ["k"]) == {"k": "new"}


def test_profile_id_lookup_over_more_keys_than_one_query_binds(store: StateStore) -> None:
    ids = {f"p{i}@example.com": i for i in range(1201)}
    with store.checkpoint() as cp:
        cp.set_profile_ids(3, ids)
        cp.set_profile_ids(4, {"p0@example.com": 99})
    assert store.profile_ids(3, [*ids, "nobody"]) == ids
    assert store.profile_ids(4, ["p0@example.com", "p1@example.com"]) == {"p0@example.com": 99}


def test_forgotten_profile_ids_are_gone_over_many_keys(store: StateStore) -> None:
    ids = {str(i): i for i in range(1100)}
    with store.checkpoint() as cp:
        cp.set_profile_ids(3, ids)
    with store.checkpoint() as cp:
        cp.forget_profile_ids(3, (str(i) for i in range(1099)))
    assert store.profile_ids(3, list(ids)) == {"1099": 1099}


def test_identity_follows_the_latest_profile_key(store: StateStore) -> None:
    assert store.identity("woo", "42") is None
    with store.checkpoint() as cp:
        cp.set_identity("woo", "42", "old@example.com", 101)
    with store.checkpoint() as cp:
        cp.set_identity("woo", "42", "new@example.com", 101)
    assert store.identity("woo", "42") == Identity("new@example.com", 101)
    assert store.identity("other", "42") is None


def test_identity_keeps_a_known_profile_id_when_only_the_key_is_confirmed(
        store: StateStore) -> None:
    with store.checkpoint() as cp:
        cp.set_identity("woo", "42", "ann@example.com", 101)
        cp.set_identity("woo", "42", "ann@example.com", None)
        cp.set_identity("woo", "43", "bob@example.com", 102)
        cp.set_identity("woo", "43", "rob@example.com", None)
    assert store.identity("woo", "42") == Identity("ann@example.com", 101)
    assert store.identity("woo", "43") == Identity("rob@example.com", None)


def test_identities_looks_up_a_page_at_once(store: StateStore) -> None:
    with store.checkpoint() as cp:
        for i in range(0, 600, 3):
            cp.set_identity("woo", str(i), f"c{i}@example.com", i)
    found = store.identities("woo", (str(i) for i in range(600)))
    assert len(found) == 200
    assert found["3"] == Identity("c3@example.com", 3)


def test_keys_with_lone_surrogates_are_stored_and_found_again(store: StateStore) -> None:
    key = "bad\ud800key"
    with store.checkpoint() as cp:
        cp.set_hashes("s", {key: "h"})
    assert store.hashes("s", [key]) == {key: "h"}


# -- bookmarks and reset -------------------------------------------------------------


def test_bookmarks_are_opaque_per_stream_strings(store: StateStore) -> None:
    assert store.bookmark("orders") is None
    with store.checkpoint() as cp:
        cp.set_bookmark("orders", '{"modified": "2024-01-01T00:00:00Z", "id": 5}')
        cp.set_bookmark("customers", "page=7")
    assert store.bookmark("orders") == '{"modified": "2024-01-01T00:00:00Z", "id": 5}'
    assert store.bookmarks() == {"customers": "page=7",
                                 "orders": '{"modified": "2024-01-01T00:00:00Z", "id": 5}'}


def fill_for_reset(store: StateStore) -> None:
    with store.checkpoint() as cp:
        for stream in ("orders", "orders:shop2", "orders_archive", "customers"):
            cp.set_bookmark(stream, "b")
            cp.set_hashes(stream, {"k": "h"})
        cp.set_profile_ids(1, {"k": 1})
        cp.set_identity("woo", "1", "k", 1)
        cp.add_dead_letter(run_id=None, stream="orders", record_key="k", reason="r",
                           payload={})
    store.start_run("job")


def test_reset_of_one_stream_forgets_its_bookmark_and_hashes_only(store: StateStore) -> None:
    fill_for_reset(store)
    store.reset("orders")
    assert store.bookmarks() == {"orders_archive": "b", "customers": "b"}
    assert store.hashes("orders", ["k"]) == {}
    assert store.hashes("orders:shop2", ["k"]) == {}
    assert store.hashes("orders_archive", ["k"]) == {"k": "h"}
    assert store.hashes("customers", ["k"]) == {"k": "h"}


def test_reset_of_all_streams_keeps_ids_identities_dead_letters_and_runs(
        store: StateStore) -> None:
    fill_for_reset(store)
    store.reset()
    assert store.counts() == {"bookmarks": 0, "hashes": 0, "profile_ids": 1, "identities": 1,
                              "open_dead_letters": 1, "runs": 1}


def test_reset_can_keep_the_hashes(store: StateStore) -> None:
    fill_for_reset(store)
    store.reset("orders", hashes=False)
    assert store.bookmark("orders") is None
    assert store.hashes("orders", ["k"]) == {"k": "h"}


# -- runs ----------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_their_outcome(store: StateStore) -> None:
    first = store.start_run("shop")
    store.finish_run(first, 1, {"written": 10, "dead_lettered": 2})
    second = store.start_run("shop")
    runs = store.runs()
    assert [r.id for r in runs] == [second, first]
    assert runs[0].ended_at is None and runs[0].exit_code is None and runs[0].counts == {}
    assert runs[1].exit_code == 1
    assert runs[1].counts == {"written": 10, "dead_lettered": 2}
    assert runs[1].started_at <= runs[1].ended_at  # type: ignore[operator]
    assert runs[1].started_at.endswith("Z")
    assert [r.id for r in store.runs(limit=1)] == [second]


def test_finishing_an_unknown_run_is_an_error(store: StateStore) -> None:
    with pytest.raises(KeyError):
        store.finish_run(404, 0, {})


# -- dead letters --------------------------------------------------------------------


def add_letters(store: StateStore, stream: str, keys: list[str]) -> list[int]:
    with store.checkpoint() as cp:
        return [cp.add_dead_letter(run_id=cp.run_id, stream=stream, record_key=k,
                                   reason=f"bad {k}", payload={"key": k}) for k in keys]


def test_dead_letters_are_listed_oldest_first_with_their_payload(store: StateStore) -> None:
    run = store.start_run("job")
    add_letters(store, "orders", ["o1"])
    add_letters(store, "customers", ["c1"])
    add_letters(store, "orders", ["o2"])
    letters = store.dead_letters()
    assert [d.record_key for d in letters] == ["o1", "c1", "o2"]
    assert letters[0].payload == {"key": "o1"}
    assert letters[0].reason == "bad o1"
    assert letters[0].run_id == run
    assert (letters[0].status, letters[0].attempts) == ("open", 0)
    assert [d.record_key for d in store.dead_letters(stream="orders")] == ["o1", "o2"]
    assert [d.record_key for d in store.dead_letters(limit=2)] == ["o1", "c1"]


def test_dead_letter_payload_keeps_unicode_and_stringifies_odd_types(
        store: StateStore) -> None:
    from datetime import date
    from decimal import Decimal
    with store.checkpoint() as cp:
        cp.add_dead_letter(run_id=None, stream="s", record_key="k", reason="r",
                           payload={"name": "Zoë ✓", "total": Decimal("9.95"),
                                    "day": date(2024, 5, 1), "bad": "\ud800"})
    raw = store._conn.execute("SELECT payload FROM dead_letters").fetchone()[0]
    assert "Zoë ✓" in raw
    assert store.dead_letters()[0].payload == {"name": "Zoë ✓", "total": "9.95",
                                               "day": "2024-05-01", "bad": "\ud800"}


def test_dead_letter_of_an_unknown_run_is_refused(store: StateStore) -> None:
    refused: type[Exception] = sqlite3.IntegrityError
    if store.postgres:
        import psycopg

        refused = psycopg.IntegrityError
    with pytest.raises(refused), store.checkpoint() as cp:
        cp.add_dead_letter(run_id=404, stream="s", record_key="k", reason="r", payload={})


def test_marking_dead_letters_retried_counts_attempts(store: StateStore) -> None:
    ids = add_letters(store, "s", ["a", "b"])
    store.mark_dead_letters([ids[0]], "retried")
    store.mark_dead_letters([ids[0]], "retried")
    store.mark_dead_letters([ids[1]], "resolved")
    letters = {d.record_key: d for d in store.dead_letters(status=None)}
    assert (letters["a"].status, letters["a"].attempts) == ("retried", 2)
    assert (letters["b"].status, letters["b"].attempts) == ("resolved", 0)
    assert store.dead_letters() == []
    assert [d.record_key for d in store.dead_letters(status="retried")] == ["a"]


def test_unknown_dead_letter_status_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="status"):
        store.mark_dead_letters([1], "done")
    with pytest.raises(ValueError, match="status"):
        store.dead_letters(status="done")


def test_record_that_later_synced_resolves_its_open_and_retried_dead_letters(
        store: StateStore) -> None:
    ids = add_letters(store, "orders", ["o1", "o2", "o3"])
    add_letters(store, "customers", ["o1"])
    store.mark_dead_letters([ids[1]], "retried")
    with store.checkpoint() as cp:
        assert cp.resolve_dead_letters("orders", ["o1", "o2", "o9"]) == 2
    with store.checkpoint() as cp:
        assert cp.resolve_dead_letters("orders", ["o1"]) == 0
    open_now = [(d.stream, d.record_key) for d in store.dead_letters()]
    assert open_now == [("orders", "o3"), ("customers", "o1")]


def test_resolving_more_keys_than_one_query_binds(store: StateStore) -> None:
    keys = [str(i) for i in range(1200)]
    add_letters(store, "s", keys)
    with store.checkpoint() as cp:
        assert cp.resolve_dead_letters("s", iter(keys)) == 1200
    assert store.counts()["open_dead_letters"] == 0


def test_purge_deletes_only_what_matches_every_filter(store: StateStore) -> None:
    a = add_letters(store, "orders", ["o1", "o2", "o3"])
    add_letters(store, "customers", ["c1"])
    store.mark_dead_letters([a[0]], "resolved")
    assert store.purge_dead_letters(stream="orders", status="resolved") == 1
    assert store.purge_dead_letters(ids=[a[1]], stream="customers") == 0
    assert store.purge_dead_letters(ids=[a[1]]) == 1
    assert store.purge_dead_letters(ids=[]) == 0
    assert [d.record_key for d in store.dead_letters(status=None)] == ["o3", "c1"]
    assert store.purge_dead_letters() == 2
    assert store.dead_letters(status=None) == []


def test_counts_summarise_every_table(store: StateStore) -> None:
    write_everything(store, "x")
    store.start_run("job")
    assert store.counts() == {"bookmarks": 1, "hashes": 1, "profile_ids": 1, "identities": 1,
                              "open_dead_letters": 1, "runs": 1}


# -- threads -------------------------------------------------------------------------


def test_threads_read_consistently_while_checkpoints_commit(store: StateStore) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0] * 8

    def reader(n: int) -> None:
        try:
            while not stop.is_set():
                seen = store.bookmark("s")
                if seen is not None:
                    # A bookmark is never visible without the hash of its checkpoint.
                    assert store.hashes("s", [seen]) == {seen: "h"}
                    assert store.profile_ids(1, [seen]) == {seen: int(seen)}
                store.counts()
                reads[n] += 1
                time.sleep(0.001)  # as a writer thread would, between service calls
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        for i in range(100):
            with store.checkpoint() as cp:
                cp.set_bookmark("s", str(i))
                cp.set_hashes("s", {str(i): "h"})
                cp.set_profile_ids(1, {str(i): i})
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert all(reads)
    assert store.bookmark("s") == "99"


def test_other_threads_do_not_see_an_open_checkpoint_but_its_own_thread_does(
        store: StateStore) -> None:
    seen: list[str | None] = []
    with store.checkpoint() as cp:
        cp.set_bookmark("s", "uncommitted")
        assert store.bookmark("s") == "uncommitted"
        reader = threading.Thread(target=lambda: seen.append(store.bookmark("s")))
        reader.start()
        reader.join(timeout=5)
    assert seen == [None]
    assert store.bookmark("s") == "uncommitted"


def test_closing_the_store_closes_every_thread_s_reader(db_path: Path) -> None:
    s = StateStore(db_path)
    ready, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        s.bookmark("s")
        ready.set()
        release.wait(5)
        try:
            s.bookmark("s")
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    ready.wait(5)
    s.close()
    release.set()
    t.join(5)
    assert [type(e) for e in errors] == [sqlite3.ProgrammingError]
    with pytest.raises(sqlite3.ProgrammingError):
        s.counts()


def test_a_record_failing_again_updates_its_open_letter_instead_of_adding_one(
        store: StateStore) -> None:
    first = add_letters(store, "orders", ["o1"])[0]
    with store.checkpoint() as cp:
        again = cp.add_dead_letter(run_id=None, stream="orders", record_key="o1",
                                   reason="still broken", payload={"id": "o1"})
    letters = store.dead_letters()
    assert again == first and len(letters) == 1
    assert letters[0].reason == "still broken" and letters[0].attempts == 1
