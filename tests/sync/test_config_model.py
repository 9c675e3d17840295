"""The one configuration model: every table reports its problems the same way —
full dotted key, "did you mean", where to get a value — and never shows a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from copernica_sdk.sync.config import CopernicaSettings, load_config
from copernica_sdk.sync.errors import ConfigError
from copernica_sync.connectors.cms_generic.config import AuthTable

SECRET = "s3cr3t-t0ken-value"

SHOP = """
[copernica]
access_token = "t"
[jobs.shop1.source]
connector = "cms_generic"
base_url = "https://cms.example.com"
[jobs.shop1.source.streams.posts]
path = "/posts"
primary_key = "id"
[jobs.shop1.source.streams.posts.paginate]
style = "page_number"
size_param = "per_page"
page_size = 0
[jobs.shop1.target]
database = "D"
[jobs.shop1.target.streams.posts.profile]
key = "email | normalize_email"
"""


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "copernica-sync.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env or {})
    return err.value.problems


def test_a_nested_connector_problem_names_its_full_dotted_key(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, SHOP)
    assert problem == ("jobs.shop1.source.streams.posts.paginate.page_size: must be a whole "
                       "number ≥ 1, got a whole number 0")


def test_unknown_keys_get_a_did_you_mean_in_every_table(tmp_path: Path) -> None:
    text = SHOP.replace("page_size = 0", "page_size = 10\nmax_page = 3").replace(
        'access_token = "t"', 'access_token = "t"\ntimeuot = 5') + "[sync]\nconcurency = 2\n"
    found = problems(tmp_path, text)
    # Shared tables are checked as part of each job, so their keys name the job.
    expected = {"jobs.shop1.copernica.timeuot": "did you mean 'timeout'?",
                "jobs.shop1.sync.concurency": "did you mean 'concurrency'?",
                "jobs.shop1.source.streams.posts.paginate.max_page": "did you mean 'max_pages'?"}
    for key, hint in expected.items():
        assert any(p.startswith(f"{key}: unknown setting") and p.endswith(hint)
                   for p in found), (key, found)


def test_a_secret_in_the_wrong_type_is_never_echoed(tmp_path: Path) -> None:
    text = SHOP.replace('access_token = "t"', f'access_token = ["{SECRET}"]')
    text = text.replace('base_url = "https://cms.example.com"',
                        f'base_url = "https://cms.example.com"\nauth = {{ type = "bearer", '
                        f'token = ["{SECRET}"] }}')
    found = problems(tmp_path, text)
    assert "copernica.access_token: must be the access token as text" in "\n".join(found)
    assert "jobs.shop1.source.auth.token: must be text, got a list (hidden)" in found, found
    assert SECRET not in "\n".join(found)


def test_pydantic_s_own_error_text_does_not_hold_the_input() -> None:
    with pytest.raises(ValidationError) as err:
        AuthTable.model_validate({"type": "bearer", "token": 12345678987654321})
    assert "12345678987654321" not in str(err.value)


def test_secrets_are_left_out_of_the_settings_repr() -> None:
    settings = CopernicaSettings(access_token=SECRET, password=SECRET)
    auth = AuthTable.model_validate({"type": "bearer", "token": SECRET})
    assert SECRET not in repr(settings) and SECRET not in repr(auth)


def test_an_override_that_is_not_a_number_names_its_variable_and_key(tmp_path: Path) -> None:
    found = problems(tmp_path, SHOP.replace("page_size = 0", "page_size = 10"),
                     env={"COPERNICA_SYNC__SYNC__CONCURRENCY": "true",
                          "COPERNICA_SYNC__COPERNICA__TIMEOUT": "1e999"})
    assert any(p.startswith("jobs.shop1.sync.concurrency: must be a whole number from 1 to "
                            "64, got text 'true'") for p in found), found
    assert any(p.startswith("jobs.shop1.copernica.timeout: must be a number of seconds") and
               p.endswith("got inf") for p in found), found


@pytest.mark.parametrize("var", ["COPERNICA_SYNC__COPERNICA", "COPERNICA_SYNC__SYNC__",
                                 "COPERNICA_SYNC__SOURCE__AUTH__TOKEN", "COPERNICA_SYNC__JOBS__X"])
def test_an_override_that_names_no_setting_is_a_config_problem_not_a_crash(
        tmp_path: Path, var: str) -> None:
    found = problems(tmp_path, SHOP.replace("page_size = 0", "page_size = 10"),
                     env={var: "x"})
    assert found == [f"{var}: not a setting; overrides are named COPERNICA_SYNC__SECTION__KEY "
                     "with SECTION one of COPERNICA, SOURCE, TARGET, SYNC, LICENSE"]
