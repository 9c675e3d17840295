"""pytest plugin: real PostgreSQL and Redis servers on 127.0.0.1 for scale-out tests.

Opt-in, like the other plugins::

    pytest_plugins = ["copernica_sdk.testing.servers"]

Fixtures:

- ``postgres_server`` (session): a PostgreSQL started from the Debian binaries
  (``initdb`` into a temporary directory, ``postgres -h 127.0.0.1 -p <free port>``),
  stopped after the session; ``.url`` is its ``postgres`` database.
- ``postgres_url`` (per test): a fresh, empty database on that server, so tests
  never see each other's job schemas.
- ``redis_server`` (session): ``redis-server --port <free> --save ''``; ``.url``.
- ``redis_url`` (per test): that server's database 0, emptied first.

Without the binaries (or without psycopg / redis-py, from the ``scale`` extra)
the tests that use these fixtures are skipped with the reason — except under
``CI=true``, where a missing server is a failure: CI always runs them.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

__all__ = ["PostgresServer", "RedisServer", "Unavailable", "postgres_server", "postgres_url",
           "redis_server", "redis_url", "running_postgres", "running_redis"]

#: How long a server may take to accept connections.
_START_TIMEOUT = 60.0


class Unavailable(RuntimeError):
    """A server's binaries (or its Python client) are not installed."""


def _unavailable(reason: str) -> None:
    """Skip — or, in CI, fail: the scale-out tests must run there."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the scale-out tests must run; .ci/run installs "
                    "postgresql and redis-server)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _as_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as ``nobody`` then."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise Unavailable("PostgreSQL cannot run as root and runuser is missing")
        return [str(runuser), "-u", "nobody", "--"]
    return []


def _wait(ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    for attempt in itertools.count():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start ({proc.returncode}):\n"
                               f"{log.read_text(errors='replace')[-2000:]}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not accept connections within {_START_TIMEOUT:.0f} s")
        time.sleep(min(0.02 * (attempt + 1), 0.2))  # polling a readiness probe, not a fixed wait


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class PostgresServer:
    """A running PostgreSQL on 127.0.0.1 (trust authentication, user ``postgres``)."""

    port: int
    directory: Path

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)


@dataclass
class RedisServer:
    """A running Redis on 127.0.0.1 without persistence."""

    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: a "smart" shutdown for postgres, a clean exit for redis
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throw-away PostgreSQL on 127.0.0.1 (for benchmarks and fixtures);
    raises :class:`Unavailable` without the binaries or psycopg."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("psycopg is not installed (pip install 'copernica-sdk[scale]')") \
            from None
    initdb, postgres = _postgres_bin("initdb"), _postgres_bin("postgres")
    if initdb is None or postgres is None:
        raise Unavailable("PostgreSQL server binaries (initdb, postgres) are not installed "
                          "(apt-get install postgresql)")
    prefix = _as_user()
    with tempfile.TemporaryDirectory(prefix="copernica-pg-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        data = root / "data"
        if prefix:
            shutil.chown(root, "nobody")
        log = root / "postgres.log"
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True)
        port = _free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*prefix, postgres, "-D", str(data), "-k", str(root), "-p", str(port),
                 "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
                 "-c", "shared_buffers=16MB"],
                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _pg_ready(port), proc, log, "postgres")
            yield PostgresServer(port, root)
        finally:
            _stop(proc)


def _for_the_session(server: AbstractContextManager[T]) -> Iterator[T]:
    """Run ``server`` for as long as the fixture lives; without its binaries, skip
    (or fail under CI=true: see :func:`_unavailable`)."""
    try:
        started = server.__enter__()
    except Unavailable as exc:
        _unavailable(str(exc))
    try:
        yield started
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (see the module docstring)."""
    yield from _for_the_session(running_postgres())


def _pg_ready(port: int) -> bool:
    import psycopg

    if not _accepts(port):
        return False
    try:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                        connect_timeout=2).close()
    except psycopg.OperationalError:  # "the database system is starting up"
        return False
    return True


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh empty database on the session's server; its URL."""
    name = f"t{os.getpid()}_{next(_databases)}"
    return postgres_server.create_database(name)


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start a throw-away Redis on 127.0.0.1; raises :class:`Unavailable` without
    ``redis-server``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="copernica-redis-") as tmp:
        port = _free_port()
        log = Path(tmp) / "redis.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", tmp],
                stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _accepts(port), proc, log, "redis-server")
            yield RedisServer(port)
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server for the session (see the module docstring)."""
    yield from _for_the_session(running_redis())


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied (``FLUSHALL``) for this test; its URL."""
    try:
        from redis import Redis
    except ImportError:
        _unavailable("redis-py is not installed (pip install 'copernica-sdk[scale]')")
    client = Redis(host="127.0.0.1", port=redis_server.port)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server.url
