"""A state file that cannot be used: a clear message naming the file, exit 6, nothing lost.

Damaged (not a database, truncated, one corrupt page), a directory where the file
should be, a full disk.  Each command says what is wrong with which file and what
to do; after the fix (restore the backup, free space) the next run resumes from
what was committed: it writes nothing that was already synced.
"""

from __future__ import annotations

import resource
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from copernica_sdk.sync.state import StateStore
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import clean_env
from .conftest import EXECUTABLE, Project, describe, make_shop, ok

STATE = 6  # docs/cli.md: the state file cannot be used


#: Enough records that a full refresh writes well over the file size limits of the
#: full-disk test; the other tests need only a few pages of state, and a smaller shop.
LARGE_SHOP = {"customers": 50, "orders": 100}
SMALL_SHOP = {"customers": 12, "orders": 24}


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> Iterator[FakeShop]:
    """A small shop, or ``LARGE_SHOP`` where a test asks for it (indirect parameter)."""
    with make_shop(**getattr(request, "param", SMALL_SHOP)) as fake:
        yield fake


def synced(project: Project) -> tuple[Path, dict[str, str]]:
    """A first full run, and a backup of its state file (as an operator would keep)."""
    ok(project.invoke("run"))
    backup = project.tmp / "backup.sqlite3"
    shutil.copy(project.state_path, backup)
    with StateStore(project.state_path) as store:
        bookmarks = store.bookmarks()
    assert bookmarks
    return backup, bookmarks


def assert_state_problem(project: Project, result: object, *phrases: str) -> None:
    from click.testing import Result

    assert isinstance(result, Result)
    text = describe(result)
    assert result.exit_code == STATE, text
    assert isinstance(result.exception, SystemExit), text  # no traceback
    assert str(project.state_path) in result.stderr, text
    for phrase in phrases:
        assert phrase in result.stderr, text


def assert_resumes(project: Project, backup: Path, bookmarks: dict[str, str]) -> None:
    """Restore the backup: the next run writes nothing and keeps every bookmark."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{project.state_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, project.state_path)
    result = ok(project.invoke("run"))
    assert "written 0" in result.stdout, describe(result)
    with StateStore(project.state_path) as store:
        assert store.bookmarks() == bookmarks


def test_a_file_that_is_not_a_database_is_named_with_what_to_do(ready: Project) -> None:
    ready.state_path.parent.mkdir(parents=True, exist_ok=True)
    ready.state_path.write_bytes(b"this is not an SQLite file\n" * 200)
    for command in (("run",), ("state", "show"), ("dlq", "list"), ("state", "reset", "--yes"),
                    ("check",)):
        result = ready.invoke(*command)
        assert_state_problem(ready, result, "not a copernica-sync state file", "Move it aside",
                             "restore")


def test_a_truncated_state_file_is_reported_and_a_restored_backup_resumes(
        ready: Project) -> None:
    backup, bookmarks = synced(ready)
    size = ready.state_path.stat().st_size
    with ready.state_path.open("r+b") as handle:
        handle.truncate(size // 2)
    result = ready.invoke("run")
    assert_state_problem(ready, result, "Move it aside", "restore")
    assert_resumes(ready, backup, bookmarks)


def test_a_truncated_header_is_reported(ready: Project) -> None:
    synced(ready)
    with ready.state_path.open("r+b") as handle:
        handle.truncate(50)
    assert_state_problem(ready, ready.invoke("run"), "Move it aside")


def corrupt_one_page(project: Project, table: str = "hashes") -> None:
    """Overwrite the root page of ``table``: the rest of the file stays readable."""
    with sqlite3.connect(project.state_path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    conn.close()
    with project.state_path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff\x00\xa5" * (page_size // 3))


def test_one_corrupt_page_is_found_before_the_run_builds_on_it(ready: Project) -> None:
    backup, bookmarks = synced(ready)
    corrupt_one_page(ready)
    result = ready.invoke("run")
    assert_state_problem(ready, result, "damaged", "Move it aside")
    assert_resumes(ready, backup, bookmarks)


@pytest.mark.parametrize("command", [
    ("state", "show"), ("state", "reset", "--yes"), ("state", "reset", "--stream", "orders", "--yes"),
    ("dlq", "list"), ("dlq", "retry"), ("dlq", "purge", "--yes")], ids=" ".join)
def test_every_state_command_finds_one_corrupt_page_and_changes_nothing(
        ready: Project, command: tuple[str, ...]) -> None:
    """Like ``run``: the damage is found before the command reads or changes the
    file, even where the page it would touch is intact (here: a page that neither
    the bookmarks nor the dead letters live on)."""
    backup, bookmarks = synced(ready)
    corrupt_one_page(ready)
    before = ready.state_path.read_bytes()
    assert_state_problem(ready, ready.invoke(*command), "damaged", "Move it aside")
    assert ready.state_path.read_bytes() == before
    assert_resumes(ready, backup, bookmarks)


def test_a_directory_where_the_state_file_belongs(ready: Project) -> None:
    ready.state_path.mkdir(parents=True)
    for command in (("run",), ("state", "show"), ("dlq", "list")):
        assert_state_problem(ready, ready.invoke(*command), "is a directory",
                             "sync.state_path")


def test_a_parent_that_is_a_file(ready: Project) -> None:
    ready.state_path.parent.write_text("a file, not a directory")
    result = ready.invoke("run")
    assert result.exit_code == STATE, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert str(ready.state_path) in result.stderr


def _run_with_file_size_limit(project: Project, limit: int, *args: str
                              ) -> subprocess.CompletedProcess[str]:
    """The real command with RLIMIT_FSIZE: writes past ``limit`` bytes fail as on a full
    disk (EFBIG; Python ignores SIGXFSZ), which needs no privileges."""
    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([str(EXECUTABLE), "--config", str(project.config), *args],
                          capture_output=True, text=True, timeout=120, cwd=project.tmp,
                          env=clean_env(**project.env), preexec_fn=limit_files)


@pytest.mark.parametrize("shop", [LARGE_SHOP], indirect=True, ids=["large"])
@pytest.mark.parametrize("limit_kib", [0, 48])
def test_a_full_disk_is_named_and_the_next_run_resumes(ready: Project, limit_kib: int) -> None:
    _, bookmarks = synced(ready)
    # Something to write: half the customers changed in the shop.
    for customer in ready.shop.customers[::2]:
        ready.shop.update_customer(customer["id"], first_name="Changed")
    with StateStore(ready.state_path) as store:
        committed = store.counts()
    result = _run_with_file_size_limit(ready, limit_kib * 1024, "run", "--full-refresh")
    assert result.returncode == STATE, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert str(ready.state_path) in result.stderr, describe(result)
    assert "free space" in result.stderr.lower(), describe(result)
    # Nothing committed before is lost; after freeing space the run completes.
    with StateStore(ready.state_path) as store:
        for name, count in committed.items():
            if name != "runs":
                assert store.counts()[name] >= count, name
        assert store.bookmarks().keys() == bookmarks.keys()
    again = ok(ready.invoke("run"))
    assert "FAILED" not in again.output, describe(again)
    final = ok(ready.invoke("run"))
    assert "written 0" in final.stdout, describe(final)
    changed = {p["fields"].get("firstname") for p in ready.copernica.profiles("Customers")}
    assert "Changed" in changed


def test_a_full_state_database_mid_run_is_a_state_error(ready: Project) -> None:
    """SQLite's own SQLITE_FULL (max_page_count), met by a checkpoint mid-run."""
    from copernica_sdk.jobs import open_job, run_job
    from copernica_sdk.sync.config import load_config
    from copernica_sdk.sync.state_files import StateError

    job_config = load_config(ready.config).job(None)
    with pytest.raises(StateError) as err, open_job(job_config) as job:
        pages = job.state._conn.execute("PRAGMA page_count").fetchone()[0]
        job.state._conn.execute(f"PRAGMA max_page_count = {pages}")
        run_job(job, job.options())
    assert "disk is full" in str(err.value) and str(ready.state_path) in str(err.value)
    # What was committed stays: a run with room completes and then has nothing to do.
    ok(ready.invoke("run"))
    assert "written 0" in ok(ready.invoke("run")).stdout


def _without_root_file_access() -> None:
    """Tests run as root in containers, where chmod stops nobody: drop the
    capabilities that bypass file permissions (for the child only)."""
    import ctypes
    import os

    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("read_only", ["file", "directory", "both"])
def test_a_read_only_state_file_or_directory_is_named_and_resumes_after_chmod(
        ready: Project, read_only: str) -> None:
    _, bookmarks = synced(ready)
    directory = ready.state_path.parent
    if read_only in ("file", "both"):
        ready.state_path.chmod(0o444)
    if read_only in ("directory", "both"):
        directory.chmod(0o555)
    try:
        for command in (("run",), ("state", "reset", "--yes"), ("dlq", "retry")):
            result = subprocess.run(
                [str(EXECUTABLE), "--config", str(ready.config), *command],
                capture_output=True, text=True, timeout=120, cwd=ready.tmp,
                env=clean_env(**ready.env), preexec_fn=_without_root_file_access)
            assert result.returncode == STATE, describe(result)
            assert "Traceback" not in result.stderr, describe(result)
            assert str(directory) in result.stderr, describe(result)
            assert "writable" in result.stderr, describe(result)
    finally:
        directory.chmod(0o700)
        ready.state_path.chmod(0o600)
    result = ok(ready.invoke("run"))
    assert "written 0" in result.stdout, describe(result)
    with StateStore(ready.state_path) as store:
        assert store.bookmarks() == bookmarks
