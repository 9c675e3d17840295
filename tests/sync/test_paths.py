"""One path grammar (copernica_sdk.sync.paths) for the mapping's expressions and
cms_generic's record selectors, keys, cursors and paginator paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copernica_sdk.sync._expressions import compile_expression
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.sync.paths import PathError, parse_path
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic.testing import FakeCms
from tests.connectors.cms_generic._helpers import connector, preset_source, read_all

DOCUMENT: dict[str, Any] = {
    "hydra:member": [{"@id": "/people/1", "mail": "a@example.com"}],
    "links": [{"rel": "self", "href": "/p1"}, {"rel": "next", "href": "/p2"}],
    "meta": {"0": "php-array", "odd key": 3},
    "items": [{"id": 1, "tags": ["x", "y"]}, {"id": 2, "tags": ["z"]}],
}


@pytest.mark.parametrize(("path", "value"), [
    ("hydra:member[0].@id", "/people/1"),
    ("links[rel=next].href", "/p2"),
    ("links[-1].href", "/p2"),
    ("meta[0]", "php-array"),
    ("meta['odd key']", 3),
    ("items[*].tags[*]", ["x", "y", "z"]),
    ("$.items[1].id", 2),
    ("nothing.here", None),
])
def test_the_mapping_and_a_connector_setting_read_a_path_alike(path: str, value: Any) -> None:
    assert compile_expression(path).evaluate(DOCUMENT) == value
    assert parse_path(path).get(DOCUMENT) == value


@pytest.mark.parametrize(("path", "problem"), [
    ("billing.", "expected a field name"),
    ("line_items[x y].sku", "bad index [x y]"),
    ("$parnt.id", "unknown path root '$parnt'"),
    ("items[0", "unclosed"),
])
def test_a_bad_path_gets_the_same_message_in_the_mapping_and_in_cms_generic(
        path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as mapping_error:
        compile_expression(path, key="target.streams.s.profile.fields.f")
    with pytest.raises(ConfigError) as source_error:
        GenericCmsConnector.validate_config(
            {"base_url": "https://cms.example.com",
             "streams": {"users": {"path": "/users", "primary_key": "id", "records": path}}})
    assert problem in str(mapping_error.value)
    assert f"source.streams.users.records: {_problem(path)}" in source_error.value.problems


def _problem(path: str) -> str:
    with pytest.raises(PathError) as error:
        parse_path(path)
    return str(error.value)


def test_a_key_or_cursor_path_that_names_every_element_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        GenericCmsConnector.validate_config(
            {"base_url": "https://cms.example.com",
             "streams": {"users": {"path": "/users", "primary_key": "ids[*]",
                                   "incremental": {"cursor_field": "dates[*].changed"}}}})
    problems = "\n".join(error.value.problems)
    assert "source.streams.users.primary_key: 'ids[*]' names every element" in problems
    assert "source.streams.users.incremental.cursor_field: 'dates[*].changed' names" in problems


@pytest.fixture
def cms() -> Iterator[FakeCms]:
    with FakeCms(contacts=25) as c:
        yield c


def test_cms_generic_selects_records_keys_cursors_and_next_links_with_the_mapping_grammar(
        cms: FakeCms) -> None:
    source = preset_source("drupal", cms.url)
    users = dict(source["streams"]["users"])
    users.update(records="data[*]", primary_key="['id']",
                 paginate={**users["paginate"], "next_url_path": "links['next'].href"},
                 incremental={**users["incremental"], "cursor_field": "attributes['changed']"})
    source["streams"] = {"users": users}
    plain = read_all(connector(preset_source("drupal", cms.url)), "users")
    records = read_all(connector(source), "users")
    assert len(records) == 25
    assert [(r["id"], r["_cursor"]) for r in records] == [(r["id"], r["_cursor"]) for r in plain]


def test_a_json_key_with_spaces_is_a_config_error_that_shows_the_quoted_form() -> None:
    # (A CSV stream's primary_key names a column as its header spells it, spaces and all:
    # tests/connectors/cms_generic/test_csv_column_names.py.)
    with pytest.raises(ConfigError) as error:
        GenericCmsConnector.validate_config(
            {"base_url": "https://cms.example.com",
             "streams": {"users": {"path": "users", "primary_key": "Customer ID"}}})
    assert "source.streams.users.primary_key: unexpected ' ID' in path 'Customer ID' " \
        "(a name with spaces is quoted: ['Customer ID'])" in error.value.problems
    assert parse_path("['Customer ID']").get({"Customer ID": "7"}) == "7"
