"""Wrong types and special numbers in any key of the config: exit 2, the key named, no traceback.

The test walks the whole schema — every key of ``[copernica]``, ``[sync]`` and
``[license]`` (the models of ``copernica_sdk.sync.config.SECTION_MODELS``), ``source.connector`` and
every field of every registered connector's spec — and writes each wrong kind of
value there: a number where text is due, text where a number is, a list, a table,
a boolean, infinity, NaN, a huge number, a negative count.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from click.testing import Result

from copernica_sdk.sync.config import SECTION_MODELS, load_config
from copernica_sdk.sync.connector import ConfigField

from ..installed import own_connectors
from .conftest import Project, describe, ok

INF, NAN = math.inf, math.nan


def setting_kind(section: str, key: str) -> str:
    """``text``, ``url``, ``choice``, ``count`` or ``number``: read off the model's field."""
    info = SECTION_MODELS[section].model_fields[key]
    if "Literal" in str(info.annotation):
        return "choice"
    if info.annotation in (int, float):
        return "count" if info.annotation is int else "number"
    return "url" if "https?" in str(info.annotation) + str(info.metadata) else "text"


def wrong_values(kind: str) -> list[Any]:
    """Values of every wrong kind for a job-level setting."""
    if kind in ("text", "url"):
        values: list[Any] = [5, 1.5, True, [1], {"a": 1}]
        return values + (["ftp://example.com", "soap.copernica.com"] if kind == "url"
                         else [])
    if kind == "choice":
        return [5, True, "nonsense", [1], {"a": 1}]
    values = ["ten", True, [1], {"a": 1}, INF, -INF, NAN, 1e300, 10**30, -1]
    return values + ([2.5] if kind == "count" else [])


def wrong_field_values(field: ConfigField) -> list[Any]:
    """Values of every wrong kind for a connector's spec field."""
    return {
        "str": [5, 1.5, True, [1], {"a": 1}],
        "int": ["ten", True, [1], {"a": 1}, 2.5, INF, -INF, NAN, 1e300, 10**30, -5],
        "float": ["ten", True, [1], {"a": 1}, INF, -INF, NAN, 1e300, 10**30],
        "bool": [5, "maybe", [1], {"a": 1}],
        "dict": [5, "text", [1], True],
        "list": [5, "text", {"a": 1}, True],
    }[field.type]


def assert_config_error(result: Result, key: str, value: Any) -> None:
    context = f"{key} = {value!r}\n{describe(result)}"
    assert result.exit_code == 2, context
    assert isinstance(result.exception, SystemExit), context  # not a crash
    assert "Traceback" not in result.output + result.stderr, context
    assert f"{key}:" in result.stderr, context


JOB_KEYS = [(section, key) for section, model in SECTION_MODELS.items()
            for key in model.model_fields]


@pytest.mark.parametrize(("section", "key"), JOB_KEYS, ids=[f"{s}.{k}" for s, k in JOB_KEYS])
def test_every_job_setting_refuses_wrong_types_and_special_numbers(
        project: Project, section: str, key: str) -> None:
    assert len(JOB_KEYS) == 22  # every key of [copernica], [sync] and [license]
    for value in wrong_values(setting_kind(section, key)):
        project.write(project.tables(**{section: {key: value}}))
        assert_config_error(project.invoke("config", "show"), f"{section}.{key}", value)


def test_source_connector_must_be_a_name(project: Project) -> None:
    for value in (5, True, [1], {"a": 1}):
        project.write(project.tables(source={"connector": value}))
        assert_config_error(project.invoke("config", "show"), "source.connector", value)


def _base_sources(project: Project) -> dict[str, dict[str, Any]]:
    """A valid [source] for every registered connector (a new one must be added here)."""
    return {
        "woocommerce": project.shop.source_config(),
        "cms_generic": {"connector": "cms_generic", "base_url": "http://127.0.0.1:9",
                        "auth": {"type": "bearer", "token": "tok-0123456789"},
                        "streams": {"users": {"path": "/users", "primary_key": "id"}}},
        # The example, when it is installed as a package.
        "hello": {"connector": "hello", "base_url": "http://127.0.0.1:9",
                  "api_token": "hello-token-123"},
    }


def _connector_fields() -> list[tuple[str, str]]:
    return [(name, field.name) for name, info in sorted(own_connectors().items())
            if info.connector is not None for field in info.connector.config_spec]


@pytest.mark.parametrize(("connector", "name"), _connector_fields(),
                         ids=[f"{c}.{n}" for c, n in _connector_fields()])
def test_every_connector_field_refuses_wrong_types_and_special_numbers(
        project: Project, connector: str, name: str) -> None:
    bases = _base_sources(project)
    assert connector in bases, f"add a valid [source] for connector {connector!r} to this test"
    info = own_connectors()[connector]
    assert info.connector is not None
    field = next(f for f in info.connector.config_spec if f.name == name)

    # cms_generic has no default mapping: a job needs its own [target].
    target = {"database": "Contacts", "streams": {"users": {"profile": {
        "key": "email | normalize_email"}}}} if connector == "cms_generic" else {}

    def write(source: dict[str, Any]) -> None:
        project.write({**project.tables(), "source": source,
                       **({"target": target} if target else {})})

    write(bases[connector])
    ok(project.invoke("config", "show"))  # the base is valid
    for value in wrong_field_values(field):
        write({**bases[connector], name: value})
        assert_config_error(project.invoke("config", "show"), f"source.{name}", value)


def test_the_issue_examples_each_name_key_and_expectation(project: Project) -> None:
    project.write(project.tables(
        copernica={"access_token": 5, "endpoint": 7, "timeout": INF},
        sync={"state_path": 5, "lookback_minutes": NAN}))
    result = project.invoke("config", "show")
    assert result.exit_code == 2, describe(result)
    expected = {
        "copernica.access_token: must be the access token as text",
        "copernica.endpoint: must be an http(s) URL",
        "copernica.timeout: must be a number of seconds above 0, at most 3600, got inf",
        "sync.state_path: must be a file path as text",
        "sync.lookback_minutes: must be a number of minutes from 0 to 525600 (a year), got nan",
    }
    for line in expected:  # every problem at once
        assert line in result.stderr, describe(result)
    token_line = next(line for line in result.stderr.splitlines()
                      if "copernica.access_token" in line)
    assert "(hidden)" in token_line, "a secret's wrong value is not echoed"


@pytest.mark.parametrize("value", ["1e300", "1e308", "inf", "nan", "-1"])
def test_special_numbers_in_the_file_for_lookback_and_timeout(project: Project,
                                                              value: str) -> None:
    for key in ("sync.lookback_minutes", "copernica.timeout"):
        section, name = key.split(".")
        text = project.write().read_text()
        project.write(text.replace(f"[{section}]\n", f"[{section}]\n{name} = {value}\n"))
        assert_config_error(project.invoke("config", "show"), key, value)


def test_a_text_override_stays_text(project: Project) -> None:
    env = {"COPERNICA_SYNC__TARGET__DATABASE": "4"}
    job = load_config(project.config, env=env).job(None)
    assert job.target["database"] == "4"
    result = ok(project.invoke("schema", "plan", env=env))
    # The database "4" is planned in Copernica, not reported missing.
    assert "required" not in result.output, describe(result)
    assert "'4'" in result.output or '"4"' in result.output or " 4" in result.output, \
        describe(result)


def test_number_overrides_are_read_as_numbers_and_checked(project: Project) -> None:
    env = {"COPERNICA_SYNC__SYNC__CONCURRENCY": "4", "COPERNICA_SYNC__COPERNICA__TIMEOUT": "2.5",
           "COPERNICA_SYNC__SYNC__LOOKBACK_MINUTES": "10"}
    job = load_config(project.config, env=env).job(None)
    assert (job.sync.concurrency, job.copernica.timeout, job.sync.lookback_minutes) == (4, 2.5, 10)
    for var, value in (("COPERNICA_SYNC__COPERNICA__TIMEOUT", "inf"),
                       ("COPERNICA_SYNC__SYNC__LOOKBACK_MINUTES", "nan"),
                       ("COPERNICA_SYNC__SYNC__CONCURRENCY", "lots"),
                       ("COPERNICA_SYNC__LICENSE__TRIAL_DAYS", "1e300")):
        result = project.invoke("config", "show", env={var: value})
        key = var.removeprefix("COPERNICA_SYNC__").lower().replace("__", ".")
        assert_config_error(result, key, value)


def test_a_table_where_a_section_belongs_is_a_config_error(project: Project) -> None:
    for section in ("copernica", "sync", "source", "target", "license"):
        tables = project.tables()
        tables.pop(section, None)
        project.write(f"{section} = 5\n" + project.write(tables).read_text())
        assert_config_error(project.invoke("config", "show"), section, 5)


def test_a_connector_spec_refuses_bools_infinities_and_absurd_numbers() -> None:
    from copernica_sdk.sync.connector import Connector

    class Numbers(Connector):
        name = "numbers"
        config_spec = (ConfigField("ratio", "float", required=False),
                       ConfigField("count", "int", required=False, minimum=0, maximum=10))

        def check(self) -> None: ...

        def streams(self) -> list[Any]:
            return []

    from copernica_sdk.sync.errors import ConfigError

    for config in ({"ratio": INF}, {"ratio": NAN}, {"ratio": "inf"}, {"ratio": True},
                   {"ratio": 1e300}, {"count": -1}, {"count": 11}, {"count": 10**30},
                   {"count": False}):
        with pytest.raises(ConfigError) as err:
            Numbers.validate_config(config)
        assert err.value.problems[0].startswith(f"source.{next(iter(config))}:"), config
    assert Numbers.validate_config({"ratio": "0.5", "count": "3"}) == {"ratio": 0.5, "count": 3}


@pytest.mark.parametrize("value", [5, 1.5, True, [1], {"a": 1}])
def test_config_show_checks_the_target_too(project: Project, value: Any) -> None:
    """`config show` reports a broken [target] as `check` and `run` do (exit 2, the key
    and the type named), not only when a job opens."""
    project.write(project.tables(target={"database": value}))
    result = project.invoke("config", "show")
    assert_config_error(result, "target.database", value)
    assert "must be text" in result.stderr and "required" not in result.stderr, describe(result)


def test_config_show_names_the_target_database_and_its_origin(project: Project) -> None:
    result = ok(project.invoke("config", "show",
                               env={"COPERNICA_SYNC__TARGET__DATABASE": "4"}))
    assert "target.database = '4'    (env:COPERNICA_SYNC__TARGET__DATABASE)" in result.output


def test_a_plain_http_endpoint_elsewhere_than_loopback_is_a_config_error(project: Project) -> None:
    result = project.invoke("check", env={"COPERNICA_SYNC__COPERNICA__ENDPOINT":
                                          "http://10.0.0.1:1/"})
    assert result.exit_code == 2, describe(result)  # was 5, "unavailable"
    assert "https://" in result.stderr and "Traceback" not in result.output


def test_a_config_file_nested_too_deeply_is_a_config_error(project: Project) -> None:
    for text in ("a = " + "[" * 3000 + "]" * 3000, "[sync]\nx = " + "{a=" * 500 + "1" + "}" * 500):
        project.write(text)
        result = project.invoke("config", "show")
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), \
            describe(result)
        assert "nested too deeply" in result.stderr, describe(result)


def test_a_config_file_with_a_byte_order_mark_reads(project: Project) -> None:
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text("\ufeff" + text, encoding="utf-8")  # Windows Notepad
    ok(project.invoke("config", "show"))
