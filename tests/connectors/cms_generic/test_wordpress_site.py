"""Issue 18: the WordPress preset against a site that behaves like a real WordPress
(HTML-filtered names, roles, application passwords over http, plain permalinks),
through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import testing as fake
from copernica_sync.connectors.cms_generic.testing import FakeCms

from ._cli import invoke, write_config
from ._helpers import preset


def _config(tmp_path: Path, copernica: FakeCopernica, cms: FakeCms, *,
            password: str = fake.PASSWORD, **stream: Any) -> Path:
    data = preset("wordpress")
    source = dict(data["source"])
    source["base_url"] = cms.url
    source["auth"] = {**source["auth"], "username": fake.USER, "password": password}
    source["streams"] = {"users": {**source["streams"]["users"], **stream}}
    return write_config(tmp_path / "copernica-sync.toml", copernica, source, data["target"])


def _profiles(copernica: FakeCopernica) -> dict[str, dict[str, Any]]:
    return {p["fields"]["email"]: p["fields"] for p in copernica.profiles("Customers")}


@pytest.fixture
def site() -> Iterator[FakeCms]:
    with FakeCms(6, wp_roles={1: ["administrator"], 2: ["editor", "subscriber"],
                              3: ["customer"], 4: ["author"]}) as cms:
        cms.contacts[4]["first_name"] = "Tom & Jerry"
        cms.contacts[4]["last_name"] = "O'Neil <Sr.>"
        yield cms


def test_wordpress_names_arrive_html_encoded_and_are_written_decoded(
        tmp_path: Path, copernica_fake: FakeCopernica, site: FakeCms) -> None:
    config = _config(tmp_path, copernica_fake, site)
    invoke(config, "schema", "apply", code=0)
    invoke(config, "run", code=0)
    person = _profiles(copernica_fake)["person5@example.com"]
    assert person["firstname"] == "Tom & Jerry"
    assert person["lastname"] == "O'Neil <Sr.>"
    assert person["display_name"] == "Tom & Jerry O'Neil <Sr.>"


def test_the_wordpress_preset_syncs_subscribers_and_customers_only(
        tmp_path: Path, copernica_fake: FakeCopernica, site: FakeCms) -> None:
    config = _config(tmp_path, copernica_fake, site)
    invoke(config, "schema", "apply", code=0)
    invoke(config, "run", code=0)
    # 1 administrator and 4 author stay out; 2 (editor and subscriber) is a subscriber.
    assert sorted(_profiles(copernica_fake)) == [
        "person2@example.com", "person3@example.com", "person5@example.com",
        "person6@example.com"]
    assert any("roles=subscriber%2Ccustomer" in r or "roles=subscriber,customer" in r
               for r in site.requests)


def test_the_role_filter_is_configurable(
        tmp_path: Path, copernica_fake: FakeCopernica, site: FakeCms) -> None:
    users = preset("wordpress")["source"]["streams"]["users"]
    config = _config(tmp_path, copernica_fake, site,
                     params={**users["params"], "roles": "administrator,author"})
    invoke(config, "schema", "apply", code=0)
    invoke(config, "run", code=0)
    assert sorted(_profiles(copernica_fake)) == ["person1@example.com", "person4@example.com"]


def test_check_over_plain_http_says_application_passwords_need_https(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    with FakeCms(3, application_passwords=False) as cms:
        result = invoke(_config(tmp_path, copernica_fake, cms), "check", code=4)
    message = result.stderr
    assert "WordPress accepts application passwords only over HTTPS" in message
    assert "https://" in message and "WP_ENVIRONMENT_TYPE" in message
    assert "Sorry, you are not allowed to filter users by role." in message  # the site's word


def test_messages_from_the_site_are_shown_without_their_html(
        tmp_path: Path, copernica_fake: FakeCopernica, site: FakeCms) -> None:
    result = invoke(_config(tmp_path, copernica_fake, site, password="wrong pass word"),
                    "check", code=4)
    assert "Error: The password you entered for the username admin is incorrect." \
        in result.stderr
    assert "<strong>" not in result.stderr
    assert "wrong pass word" not in result.output + result.stderr


def test_a_site_without_pretty_permalinks_syncs_through_rest_route(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    with FakeCms(130) as cms:  # two pages of 100
        config = _config(tmp_path, copernica_fake, cms, path="/?rest_route=/wp/v2/users")
        invoke(config, "check", code=0)
        invoke(config, "schema", "apply", code=0)
        invoke(config, "run", code=0)
        assert len(_profiles(copernica_fake)) == 130
        assert cms.requests and all(r.startswith("/?rest_route=") for r in cms.requests)
        assert any("page=2" in r for r in cms.requests)
