"""``config show`` and configuration errors: exit 2, every problem at once, each naming its key."""

from __future__ import annotations

import re

import pytest

from ..config_files import toml_text
from .conftest import TOKEN, Project, describe, ok


def _line(text: str, key: str) -> str:
    match = re.search(rf"^\s*{re.escape(key)} = .*$", text, re.MULTILINE)
    assert match, f"no line for {key} in:\n{text}"
    return match.group(0)


# -- config show ----------------------------------------------------------------------------


def test_config_show_masks_the_access_token_and_the_connector_secrets(project: Project) -> None:
    result = ok(project.invoke("config", "show"))
    assert _line(result.stdout, "copernica.access_token").split(" = ")[1].startswith("********")
    assert _line(result.stdout, "source.consumer_secret").split(" = ")[1].startswith("********")
    assert _line(result.stdout, "source.consumer_key").split(" = ")[1].startswith("********")
    for secret in project.secrets:
        assert secret not in result.output
    # What is not secret is shown as it is.
    assert project.shop.url in _line(result.stdout, "source.url")


def test_config_show_says_where_each_value_came_from(project: Project) -> None:
    env = {"COPERNICA_SYNC__SYNC__CONCURRENCY": "3"}
    result = ok(project.invoke("config", "show", env=env))
    assert _line(result.stdout, "sync.concurrency") \
        == "  sync.concurrency = 3    (env:COPERNICA_SYNC__SYNC__CONCURRENCY)"
    assert _line(result.stdout, "source.url").endswith(f"({project.config})")
    assert _line(result.stdout, "sync.lookback_minutes").endswith("(default)")
    assert _line(result.stdout, "copernica.auth").endswith("(default)")


def test_config_show_masks_secrets_given_through_overrides(project: Project) -> None:
    tables = project.tables()
    del tables["copernica"]["access_token"]
    del tables["source"]["consumer_secret"]
    project.write(tables)
    env = {"COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN": TOKEN,
           "COPERNICA_SYNC__SOURCE__CONSUMER_SECRET": project.shop.consumer_secret}
    result = ok(project.invoke("config", "show", env=env))
    assert _line(result.stdout, "copernica.access_token") \
        == "  copernica.access_token = ********    (env:COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN)"
    assert TOKEN not in result.output
    assert project.shop.consumer_secret not in result.output


def test_config_show_interpolates_environment_variables(project: Project) -> None:
    tables = project.tables()
    tables["copernica"]["access_token"] = "${MY_COPERNICA_TOKEN}"
    tables["source"]["url"] = "${MY_SHOP_URL}"
    project.write(tables)
    result = ok(project.invoke("config", "show",
                               env={"MY_COPERNICA_TOKEN": TOKEN, "MY_SHOP_URL": project.shop.url}))
    assert f"source.url = '{project.shop.url}'" in result.stdout
    assert TOKEN not in result.output


def test_config_show_mentions_target_overrides(project: Project) -> None:
    project.write(project.tables(target={"database": "Klanten"}))
    result = ok(project.invoke("config", "show"))
    assert "target: overrides the connector's default mapping (database)" in result.stdout


# -- configuration errors -------------------------------------------------------------------

PROBLEMS = {
    "unknown key": ({"copernica": {"colour": "blue"}}, "copernica.colour", "unknown setting"),
    "bad concurrency": ({"sync": {"concurrency": 0}}, "sync.concurrency", "1 to 64"),
    "missing variable": ({"source": {"url": "${SHOP_URL_NOT_SET}"}}, "source.url",
                         "SHOP_URL_NOT_SET is not set"),
}


@pytest.mark.parametrize("case", list(PROBLEMS))
def test_a_config_problem_exits_2_naming_the_key(project: Project, case: str) -> None:
    overrides, key, says = PROBLEMS[case]
    project.write(project.tables(**overrides))
    result = project.run("run")
    assert result.returncode == 2, describe(result)
    assert result.stdout == ""
    assert "Configuration problem" in result.stderr
    assert key in result.stderr and says in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_access_token_says_where_to_get_one(project: Project) -> None:
    tables = project.tables()
    del tables["copernica"]["access_token"]
    project.write(tables)
    result = project.invoke("run")
    assert result.exit_code == 2, describe(result)
    assert "copernica.access_token: required" in result.stderr
    assert "Access tokens" in result.stderr
    assert "COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN" in result.stderr


def test_an_unknown_connector_names_the_installed_ones(project: Project) -> None:
    project.write(project.tables(source={"connector": "shopify"}))
    result = project.invoke("run")
    assert result.exit_code == 2, describe(result)
    assert "source.connector" in result.stderr and "'shopify'" in result.stderr
    assert "woocommerce" in result.stderr


def test_file_level_problems_are_all_reported_at_once(project: Project) -> None:
    tables = project.tables(copernica={"colour": "blue"}, sync={"concurrency": 100},
                            source={"url": "${SHOP_URL_NOT_SET}"})
    del tables["copernica"]["access_token"]
    project.write(tables)
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert result.stderr.startswith("Configuration problems:\n")
    for key in ("copernica.colour", "copernica.access_token", "sync.concurrency", "source.url"):
        assert f"  - {key}:" in result.stderr


def test_an_unknown_connector_is_reported_together_with_the_other_problems(
        project: Project) -> None:
    tables = project.tables(copernica={"colour": "blue"}, sync={"concurrency": 0},
                            source={"connector": "shopify", "url": "${SHOP_URL_NOT_SET}"})
    del tables["copernica"]["access_token"]
    project.write(tables)
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    for key in ("copernica.colour", "copernica.access_token", "sync.concurrency", "source.url",
                "source.connector"):
        assert f"  - {key}:" in result.stderr


def test_source_settings_are_checked_together_with_the_rest_of_the_file(
        project: Project) -> None:
    tables = project.tables(sync={"concurrency": 0}, source={"per_pagee": 10})
    project.write(tables)
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "  - sync.concurrency:" in result.stderr
    assert "  - source.per_pagee:" in result.stderr


def test_all_source_problems_are_reported_at_once(project: Project) -> None:
    project.write(project.tables(source={"per_page": 1000, "colour": "blue"}))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "  - source.colour:" in result.stderr
    assert "  - source.per_page:" in result.stderr


def test_each_key_is_reported_once(project: Project) -> None:
    project.write(project.tables(copernica={"access_token": "${COPERNICA_ACCESS_TOKEN}"}))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert result.stderr.count("copernica.access_token") == 1, result.stderr


def test_run_prints_config_problems_once(project: Project) -> None:
    project.write(project.tables(source={"per_page": 1000}))  # found when the job opens
    result = project.run("run")
    assert result.returncode == 2, describe(result)
    assert result.stderr.count("source.per_page") == 1, result.stderr


def test_invalid_toml_exits_2_with_the_position(project: Project) -> None:
    project.write("[copernica\naccess_token = 1\n")
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "not valid TOML" in result.stderr and "line 1" in result.stderr


def test_a_missing_config_file_says_how_to_create_one(project: Project) -> None:
    project.config.unlink()
    result = project.invoke("run")
    assert result.exit_code == 2, describe(result)
    assert "no such config file" in result.stderr and "copernica-sync init" in result.stderr


def test_a_wrong_value_type_for_a_secret_does_not_echo_it(project: Project) -> None:
    project.write(toml_text(project.tables()).replace(
        f'consumer_secret = "{project.shop.consumer_secret}"', "consumer_secret = 123456789"))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "source.consumer_secret: must be text, got a whole number (hidden)" in result.stderr
    assert "123456789" not in result.output


def test_job_must_be_chosen_when_the_file_has_several(project: Project) -> None:
    source = project.shop.source_config()
    project.write({"copernica": project.tables()["copernica"],
                   "jobs.a.source": source, "jobs.b.source": source})
    result = project.invoke("config", "show")
    assert result.exit_code == 2, describe(result)
    assert "defines jobs a, b" in result.stderr and "--job NAME" in result.stderr \
        and "--all" in result.stderr
    unknown = project.invoke("config", "show", "--job", "c")
    assert unknown.exit_code == 2
    assert "no job 'c'" in unknown.stderr


def test_an_override_of_a_text_setting_takes_the_value_as_text(ready: Project) -> None:
    result = ready.invoke("check", env={"COPERNICA_SYNC__SOURCE__START_DATE": "2024-01-31",
                                        "COPERNICA_SYNC__SOURCE__SHOP_ID": "1234"})
    assert result.exit_code == 0, describe(result)


def test_an_override_of_a_number_setting_is_read_as_a_number(ready: Project) -> None:
    result = ok(ready.invoke("config", "show", env={"COPERNICA_SYNC__SYNC__CONCURRENCY": "2",
                                                    "COPERNICA_SYNC__SYNC__LOOKBACK_MINUTES": "0.5"}))
    assert "sync.concurrency = 2    (env:" in result.stdout
    assert "sync.lookback_minutes = 0.5    (env:" in result.stdout


def test_a_misspelt_override_variable_is_reported(ready: Project) -> None:
    result = ready.invoke("check", env={"COPERNICA_SYNC__SYNCC__CONCURRENCY": "3"})
    assert result.exit_code == 2, describe(result)
    assert "COPERNICA_SYNC__SYNCC__CONCURRENCY" in result.stderr
