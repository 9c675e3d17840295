"""A config file holding literal secrets and readable by group or others gets a warning
(as ssh does for keys) naming the file, the keys and the fix; ``${VAR}`` or mode 600
gets none."""

from __future__ import annotations

import pytest

from .conftest import TOKEN, Project, describe, ok


def _warning(result_stderr: str) -> str:
    lines = [line for line in result_stderr.splitlines() if "holds secrets as plain values" in line]
    return lines[0] if lines else ""


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_literal_secrets_in_a_readable_file_are_warned_about(project: Project,
                                                             mode: int) -> None:
    project.config.chmod(mode)
    result = ok(project.invoke("config", "show"))
    line = _warning(result.stderr)
    assert line, describe(result)
    assert str(project.config) in line and "chmod 600" in line and "${VAR}" in line
    for key in ("copernica.access_token", "source.consumer_key", "source.consumer_secret"):
        assert key in line
    assert TOKEN not in result.stderr


def test_mode_600_or_environment_references_silence_the_warning(project: Project) -> None:
    project.config.chmod(0o644)
    assert _warning(ok(project.invoke("config", "show")).stderr)
    project.config.chmod(0o600)
    assert not _warning(ok(project.invoke("config", "show")).stderr)
    env = {"COP_TOKEN": TOKEN, "WC_KEY": project.shop.consumer_key,
           "WC_SECRET": project.shop.consumer_secret}
    project.write(project.tables(copernica={"access_token": "${COP_TOKEN}"},
                                 source={"consumer_key": "${WC_KEY}",
                                         "consumer_secret": "${WC_SECRET}"}))
    project.config.chmod(0o644)
    assert not _warning(ok(project.invoke("config", "show", env=env)).stderr)


def test_only_the_literal_ones_are_named(project: Project) -> None:
    env = {"COP_TOKEN": TOKEN}
    project.write(project.tables(copernica={"access_token": "${COP_TOKEN}"}))
    project.config.chmod(0o644)
    line = _warning(ok(project.invoke("config", "show", env=env)).stderr)
    assert "source.consumer_secret" in line and "copernica.access_token" not in line


def test_a_nested_literal_secret_is_warned_about(project: Project) -> None:
    tables = project.tables()
    tables["source"] = {
        "connector": "cms_generic", "base_url": "http://127.0.0.1:9",
        "auth": {"type": "basic", "username": "admin", "password": "wp-app-pass-1234"},
        "streams": {"users": {"path": "/users", "primary_key": "id"}}}
    tables["target"] = {"database": "Contacts",
                        "streams": {"users": {"profile": {"key": "email | normalize_email"}}}}
    project.write(tables)
    project.config.chmod(0o644)
    result = ok(project.invoke("config", "show"))
    line = _warning(result.stderr)
    assert "source.auth.password" in line, describe(result)
    assert "source.auth = {'type': 'basic', 'username': 'admin', 'password': '********'}" \
        in result.stdout, describe(result)
    assert "wp-app-pass-1234" not in result.output + result.stderr
