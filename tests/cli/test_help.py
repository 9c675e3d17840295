"""``copernica-sync --help`` lists every command; each command's help has an example."""

from __future__ import annotations

import re
import shlex
import subprocess

import click
import pytest
from click.testing import CliRunner

from copernica_sync.cli.main import COMMANDS, main

from ..config_files import clean_env
from .conftest import EXECUTABLE, describe, preserved_logging


def _all_commands() -> list[tuple[str, ...]]:
    """Every command path: ("run",), ("schema",), ("schema", "plan"), …"""
    ctx = click.Context(main)
    paths: list[tuple[str, ...]] = []
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None, name
        paths.append((name,))
        if isinstance(command, click.Group):
            paths.extend((name, sub) for sub in command.list_commands(ctx))
    return paths



def _params() -> list[object]:
    params: list[object] = []
    for path in _all_commands():
        params.append(pytest.param(path, id=" ".join(path)))
    return params


def test_top_level_help_lists_every_command_with_its_summary() -> None:
    proc = subprocess.run([str(EXECUTABLE), "--help"], capture_output=True, text=True,
                          timeout=60, env=clean_env())
    assert proc.returncode == 0, describe(proc)
    commands = proc.stdout.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s+\S", commands, re.MULTILINE), f"{name} not listed"
    assert "Exit codes:" in proc.stdout
    assert proc.stderr == ""


def test_top_level_help_shows_the_setup_sequence() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    order = [result.stdout.index(f"copernica-sync {step}")
             for step in ("init", "check", "schema apply", "run")]
    assert order == sorted(order)


def test_short_help_option_works() -> None:
    assert CliRunner().invoke(main, ["-h"]).exit_code == 0


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("copernica-sync, version ")


@pytest.mark.parametrize("path", _params())
def test_every_command_help_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, describe(result)
    assert re.search(r"^\s*Examples?:\s*$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\s+(\S+ ){0,5}copernica-sync ", result.stdout, re.MULTILINE)


#: Commands whose examples run until they are stopped (a whole demo sync, a server,
#: a worker): only their help is checked.
LONG_RUNNING = {("demo",), ("partner", "collector"), ("worker",), ("scheduler",)}


def _examples() -> list[object]:
    """Every ``copernica-sync …`` example line in every command's help."""
    params: list[object] = []
    for path in _all_commands():
        if path[:2] in LONG_RUNNING or path[:1] in LONG_RUNNING:
            continue  # its examples run until stopped; its `--help` is covered above
        with preserved_logging():  # runs at collection time
            text = CliRunner().invoke(main, [*path, "--help"]).stdout
        # An example may go on over several lines ending in a backslash.
        text = re.sub(r"\\\n\s*", "", text)
        for line in text.splitlines():
            match = re.search(r"copernica-sync (.*)$", line)
            if match is None or "#" in line:
                continue
            params.append(pytest.param(match.group(1), id=match.group(1)))
    return params


@pytest.mark.parametrize("example", _examples())
def test_every_help_example_is_accepted_by_the_parser(example: str) -> None:
    # No config exists here, so a well-formed command stops at "no such config file"
    # (or does its harmless thing: init writes into the test's cwd).
    result = CliRunner().invoke(main, shlex.split(example), input="n\n")
    # A file the example names need not exist here: the syntax is what is checked.
    missing_file = re.search(r"(Path|File) '.*' does not exist", result.output)
    assert "No such option" not in result.output, describe(result)
    assert "Usage:" not in result.output or missing_file, describe(result)
