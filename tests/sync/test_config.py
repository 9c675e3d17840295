"""The job configuration file: interpolation, overrides, jobs, and errors all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from copernica_sdk.sync.config import load_config, resolve_config_path
from copernica_sdk.sync.errors import ConfigError

MINIMAL = """
[copernica]
access_token = "${TOKEN}"
[source]
connector = "woocommerce"
url = "https://shop.example.com"
consumer_key = "ck_1"
consumer_secret = "cs_1"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "copernica-sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_environment_variables_are_interpolated(tmp_path: Path) -> None:
    job = load_config(write(tmp_path, MINIMAL), env={"TOKEN": "t0k"}).job(None)
    assert job.copernica.access_token == "t0k"
    assert job.connector == "woocommerce"


def test_a_missing_environment_variable_names_the_key_and_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"copernica\.access_token: environment variable "
                                          r"TOKEN is not set"):
        load_config(write(tmp_path, MINIMAL), env={})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """
[copernica]
acces_token = "x"
[sync]
concurrency = 0
lookback = 5
[source]
"""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    problems = "\n".join(err.value.problems)
    for expected in ("copernica.acces_token: unknown setting", "copernica.access_token: required",
                     "sync.concurrency: must be a whole number", "sync.lookback: unknown setting",
                     "source.connector: required"):
        assert expected in problems
    assert len(err.value.problems) == 5


def test_environment_overrides_win_and_record_their_origin(tmp_path: Path) -> None:
    env = {"TOKEN": "file", "COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN": "from-env",
           "COPERNICA_SYNC__SYNC__CONCURRENCY": "4"}
    job = load_config(write(tmp_path, MINIMAL), env=env).job(None)
    assert job.copernica.access_token == "from-env" and job.sync.concurrency == 4
    assert job.origins["copernica.access_token"] == "env:COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN"
    assert job.origins["source.url"].endswith("copernica-sync.toml")
    assert job.origins["copernica.endpoint"] == "default"


def test_jobs_inherit_the_top_level_tables(tmp_path: Path) -> None:
    text = MINIMAL + """
[jobs.shop1.copernica]
access_token = "one"
[jobs.shop2.source]
url = "https://two.example.com"
"""
    config = load_config(write(tmp_path, text), env={"TOKEN": "shared"})
    assert set(config.jobs) == {"shop1", "shop2"}
    assert config.jobs["shop1"].copernica.access_token == "one"
    assert config.jobs["shop2"].copernica.access_token == "shared"
    assert config.jobs["shop2"].source["url"] == "https://two.example.com"
    with pytest.raises(ConfigError, match="--job NAME"):
        config.job(None)


def test_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="copernica-sync init"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[copernica\n"))


def test_the_config_path_comes_from_the_option_then_the_environment() -> None:
    assert resolve_config_path("a.toml", env={"COPERNICA_SYNC_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, env={"COPERNICA_SYNC_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, env={}) == Path("copernica-sync.toml")
