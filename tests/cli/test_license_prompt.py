"""The ``license`` passphrase prompt without an answer (stdin closed, as under cron or
CI): nothing is written, exit 2 naming COPERNICA_LICENSE_PASSPHRASE — not click's
"Aborted!" with exit 1 (which means "dead-lettered").  Ctrl-C at the prompt stays 130.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from copernica_sync.cli.cmd_license import PASSPHRASE_ENV
from copernica_sync.cli.main import main

from .conftest import describe


def invoke(*args: str, input: str | io.BytesIO, env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=True)


def keygen(tmp_path: Path) -> Path:
    result = invoke("license", "keygen", "--out", str(tmp_path / "keys"), "--label", "k",
                    input="", env={PASSPHRASE_ENV: "a passphrase"})
    assert result.exit_code == 0, describe(result)
    return tmp_path / "keys" / "k.ed25519.pem"


def commands(tmp_path: Path) -> dict[str, tuple[list[str], Path]]:
    """Each command that asks for the passphrase, with the file it would write."""
    out = tmp_path / "out"
    return {
        "keygen": (["license", "keygen", "--out", str(out), "--label", "k"], out),
        "issue": (["license", "issue", "--key", str(keygen(tmp_path)), "--plugin", "p",
                   "--customer", "c", "--out", str(out)], out),
    }


class _CtrlC(io.BytesIO):
    """stdin whose reader presses Ctrl-C."""

    def read(self, size: int | None = -1) -> bytes:
        if size == 0:  # click's probe for a binary stream
            return b""
        raise KeyboardInterrupt

    def readline(self, size: int | None = -1) -> bytes:
        raise KeyboardInterrupt

    def read1(self, size: int = -1) -> bytes:
        raise KeyboardInterrupt


@pytest.mark.parametrize("name", ["keygen", "issue"])
def test_a_passphrase_prompt_without_an_answer_writes_nothing_and_names_the_variable(
        tmp_path: Path, name: str) -> None:
    args, written = commands(tmp_path)[name]
    result = invoke(*args, input="", env={PASSPHRASE_ENV: None})
    assert result.exit_code == 2, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)  # no traceback
    assert PASSPHRASE_ENV in result.stderr, describe(result)
    assert "Aborted!" not in result.stdout + result.stderr, describe(result)
    assert not written.exists()


@pytest.mark.parametrize("name", ["keygen", "issue"])
def test_ctrl_c_at_the_passphrase_prompt_is_an_interrupt(tmp_path: Path, name: str) -> None:
    args, written = commands(tmp_path)[name]
    result = invoke(*args, input=_CtrlC(), env={PASSPHRASE_ENV: None})
    assert result.exit_code == 130, describe(result)
    assert not written.exists()
