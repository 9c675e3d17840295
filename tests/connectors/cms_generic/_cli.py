"""Running ``copernica-sync`` in-process on a cms_generic config against the fakes."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.cli.main import main
from copernica_sync.cli.output import REDACTOR

from ...cli.conftest import describe, preserved_logging
from ...config_files import ENV_PREFIXES
from ...config_files import toml_text as toml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"

__all__ = ["FIXTURES", "describe", "invoke", "toml", "write_config"]


def write_config(path: Path, copernica: FakeCopernica, source: Mapping[str, Any],
                 target: Mapping[str, Any]) -> Path:
    """A single-job config: the fake Copernica, ``source``, ``target``, state beside it."""
    path.write_text(toml({
        "copernica": {"access_token": copernica.token, "endpoint": copernica.url},
        "source": source,
        "target": target,
        "sync": {"state_path": str(path.parent / "state.sqlite3")},
    }), encoding="utf-8")
    return path


@contextmanager
def _clean_environment() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
    for key in saved:
        del os.environ[key]
    try:
        with preserved_logging():
            yield
    finally:
        os.environ.update(saved)


def invoke(config: Path, *args: str, env: Mapping[str, str] | None = None,
           code: int | None = None) -> Result:
    """``copernica-sync --config CONFIG ARGS`` in-process; checks the exit code if given."""
    REDACTOR.secrets.clear()
    with _clean_environment():
        result = CliRunner().invoke(main, ["--config", str(config), *args], env=dict(env or {}),
                                    catch_exceptions=True)
    if code is not None:
        assert result.exit_code == code, describe(result)
    return result

