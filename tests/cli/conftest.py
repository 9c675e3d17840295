"""Fixtures for the ``copernica-sync`` command-line tests.

Every test gets its own fake Copernica and fake WooCommerce shop on loopback and a
config file in ``tmp_path`` (state inside ``tmp_path`` too).  The CLI runs two
ways: in-process through click's ``CliRunner`` (fast; most tests) and as a real
``copernica-sync`` subprocess (exit codes, the job lock, ``--help``).
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest
from click.testing import CliRunner, Result

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.cli.main import main
from copernica_sync.cli.output import REDACTOR
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import ENV_PREFIXES, clean_env, toml_text

#: Distinctive secrets, so a leak is found by a plain substring search.
TOKEN = "cop-token-S3CRET-7f3a9e1b5c"
TOKEN_B = "cop-token-S3CRET-b-20d4c8aa"
EXECUTABLE = Path(sys.executable).parent / "copernica-sync"


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Project:
    """A config file pointing at the fakes, and two ways to run the CLI on it."""

    tmp: Path
    copernica: FakeCopernica
    shop: FakeShop
    config: Path
    state_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        return [TOKEN, TOKEN_B, self.shop.consumer_secret, self.shop.consumer_key]

    def tables(self, **overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        tables: dict[str, dict[str, Any]] = {
            "copernica": {"access_token": TOKEN, "endpoint": self.copernica.url},
            "source": self.shop.source_config(),
            "sync": {"state_path": str(self.state_path)},
        }
        for name, values in overrides.items():
            tables.setdefault(name, {}).update(values)
        return tables

    def write(self, tables: Mapping[str, Mapping[str, Any]] | str | None = None) -> Path:
        """Rewrite the config file: tables, raw TOML text, or the default tables."""
        text = tables if isinstance(tables, str) else toml_text(tables or self.tables())
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def invoke(self, *args: str, env: Mapping[str, str] | None = None,
               input: str | None = None) -> Result:
        """Run ``copernica-sync --config FILE ARGS`` in-process."""
        REDACTOR.secrets.clear()  # each invocation must find the secrets itself
        runner = CliRunner()
        merged = {**self.env, **(env or {})}
        return runner.invoke(main, ["--config", str(self.config), *args], env=merged,
                             input=input, catch_exceptions=True)

    def run(self, *args: str, env: Mapping[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``copernica-sync --config FILE ARGS`` as a real process."""
        return subprocess.run(
            [str(EXECUTABLE), "--config", str(self.config), *args],
            capture_output=True, text=True, timeout=timeout, cwd=self.tmp,
            env=clean_env(**self.env, **(env or {})),
        )


def output(result: Result | subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr together, for secret searches."""
    return (result.stdout or "") + (result.stderr or "")


def describe(result: Result | subprocess.CompletedProcess[str]) -> str:
    """A failure message showing what the command said."""
    code = result.exit_code if isinstance(result, Result) else result.returncode
    text = f"exit {code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    if isinstance(result, Result) and result.exception is not None \
            and not isinstance(result.exception, SystemExit):
        import traceback
        text += "\n--- exception\n" + "".join(traceback.format_exception(result.exception))
    return text


def ok(result: Result, code: int = 0) -> Result:
    assert result.exit_code == code, describe(result)
    return result


@contextmanager
def preserved_logging() -> Iterator[None]:
    """Undo what the CLI's ``setup_logging`` does to the root logger (its handler
    writes to a stream CliRunner closes afterwards)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("zeep", "urllib3")}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No copernica-sync settings from the developer's environment, a clean cwd,
    and logging as it was."""
    for key in list(os.environ):
        if key.startswith(ENV_PREFIXES):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    with preserved_logging():
        yield


@pytest.fixture
def copernica() -> Iterator[FakeCopernica]:
    """A fake Copernica with one account ("demo") and a distinctive token."""
    with FakeCopernica(tokens={TOKEN: "demo"}) as fake:
        yield fake


class Gate:
    """Shop latency that holds the ``at``-th request until released: the run is then
    mid-stream, with pages committed before it and one page in flight."""

    def __init__(self, at: int) -> None:
        self.at, self.seen = at, 0
        self.arrived, self.release = threading.Event(), threading.Event()

    def __call__(self, rng: Random) -> float:
        self.seen += 1
        if self.seen == self.at:
            self.arrived.set()
            self.release.wait(60)
        return 0.0


def make_shop(**kwargs: Any) -> FakeShop:
    """A small fake shop whose clock is an hour behind: changes made by a test land
    safely before the run's start (a run never reads past the second it started)."""
    kwargs.setdefault("customers", 8)
    kwargs.setdefault("orders", 16)
    kwargs.setdefault("seed", 11)
    kwargs.setdefault("now", datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    return FakeShop(**kwargs)


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    with make_shop() as fake:
        yield fake


@pytest.fixture
def project(tmp_path: Path, copernica: FakeCopernica, shop: FakeShop) -> Project:
    """A valid single-job config for the fakes, schema not yet applied."""
    proj = Project(tmp_path, copernica, shop, tmp_path / "copernica-sync.toml",
                   tmp_path / "state" / "shop.sqlite3")
    proj.write()
    return proj


@pytest.fixture
def ready(project: Project) -> Project:
    """``project`` with ``schema apply`` done."""
    ok(project.invoke("schema", "apply"))
    return project
