"""Secrets — the Copernica token, the shop's consumer key and secret — never appear in
stdout, stderr (any verbosity, any log format), the state file or dead letters."""

from __future__ import annotations

import pytest

from .conftest import Project, describe, ok, output

COMMANDS = [
    ("config", "show"),
    ("check",),
    ("schema", "plan"),
    ("schema", "apply"),
    ("run", "--dry-run"),
    ("run",),
    ("run", "--full-refresh"),
    ("state", "show"),
    ("dlq", "list", "--payload", "--all-statuses"),
    ("dlq", "retry"),
    ("connectors", "list"),
]


def _assert_no_secret(project: Project, text: str, *extra: str) -> None:
    for secret in (*project.secrets, *extra):
        assert secret not in text, f"secret {secret[:6]}… leaked:\n{text}"


@pytest.mark.parametrize("verbosity", ["-vv", "-v", "-q"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_command_prints_a_secret(ready: Project, verbosity: str, log_format: str) -> None:
    for command in COMMANDS:
        result = ready.invoke(verbosity, "--log-format", log_format, *command)
        assert result.exit_code == 0, describe(result)
        _assert_no_secret(ready, output(result))


def test_debug_output_of_a_real_process_has_no_secret(ready: Project) -> None:
    result = ready.run("-vv", "run")
    assert result.returncode == 0, describe(result)
    assert "DEBUG" in result.stderr
    _assert_no_secret(ready, output(result))


def test_keys_sent_in_the_query_string_are_not_logged(ready: Project) -> None:
    # Over loopback the connector allows query-string keys: they are in every URL.
    ready.write(ready.tables(source={"query_string_auth": True}))
    result = ready.run("-vv", "run")
    assert result.returncode == 0, describe(result)
    assert "GET http://127.0.0.1" in result.stderr  # URLs are logged …
    _assert_no_secret(ready, output(result))        # … without the keys


@pytest.mark.parametrize("query_string_auth", [False, True])
def test_a_refused_shop_secret_is_not_echoed(ready: Project, query_string_auth: bool) -> None:
    wrong = "cs_wrong_secret_5e6f7a8b"
    ready.write(ready.tables(source={"consumer_secret": wrong,
                                     "query_string_auth": query_string_auth}))
    result = ready.run("-vv", "check")
    assert result.returncode == 4, describe(result)
    _assert_no_secret(ready, output(result), wrong)


def test_a_refused_copernica_token_is_not_echoed(ready: Project) -> None:
    wrong = "cop-token-WRONG-0a1b2c3d"
    ready.write(ready.tables(copernica={"access_token": wrong}))
    for command in (("check",), ("run",), ("schema", "plan")):
        result = ready.run("-vv", *command)
        assert result.returncode == 4, describe(result)
        _assert_no_secret(ready, output(result), wrong)


def test_config_errors_do_not_echo_secrets(project: Project) -> None:
    # A secret in the wrong place: an unknown key under [copernica] holding the token.
    project.write(project.tables(copernica={"token": project.secrets[0]}, sync={"concurrency": 0}))
    result = project.invoke("-vv", "check")
    assert result.exit_code == 2, describe(result)
    _assert_no_secret(project, output(result))


def test_state_file_and_dead_letters_hold_no_secret(ready: Project) -> None:
    # Keys in every URL (query-string auth) and every customer dead-lettered, since
    # Copernica refuses 'not-an-email' for the e-mail field.
    ready.write(ready.tables(source={"query_string_auth": True}, **{
        "target.streams.customers.profile.fields": {"email": {"source": "'not-an-email'"}}}))
    result = ready.invoke("run")
    assert result.exit_code == 1, describe(result)
    listed = ok(ready.invoke("dlq", "list", "--payload", "--all-statuses"))
    assert listed.stdout.count("[default] #") == len(ready.shop.customers)
    _assert_no_secret(ready, output(listed))
    raw = b"".join(path.read_bytes() for path in ready.state_path.parent.iterdir())
    for secret in ready.secrets:
        assert secret.encode() not in raw


@pytest.mark.parametrize("auth", ["bearer", "login"])
def test_other_auth_schemes_leak_nothing_either(ready: Project, auth: str) -> None:
    if auth == "bearer":
        settings = {"auth": "bearer", "auth_endpoint": ready.copernica.auth_url}
    else:  # the fake's default login
        settings = {"auth": "login", "username": "api@example.com", "password": "secret"}
    tables = ready.tables(copernica=settings)
    if auth == "login":
        del tables["copernica"]["access_token"]
    ready.write(tables)
    result = ready.run("-vv", "run")
    assert result.returncode == 0, describe(result)
    text = output(result)
    _assert_no_secret(ready, text)
    assert "eyJ" not in text  # no JWT
    if auth == "login":
        assert "secret" not in text.replace("consumer_secret", "")
    shown = ok(ready.invoke("config", "show")).stdout
    if auth == "login":
        assert "copernica.password = ********" in shown
