"""The fast request builder renders exactly what zeep renders, for every operation."""

from __future__ import annotations

from typing import Any

import pytest
import zeep
from lxml import etree

from copernica_sdk import ValidationError
from copernica_sdk._soap.build import RequestBuilder, _Node
from copernica_sdk._soap.document import BUNDLED_WSDL, binding_of, load_document

BINDING = binding_of(load_document(None))
BUILDER = RequestBuilder(BINDING)
ZEEP = zeep.Client(str(BUNDLED_WSDL))
SERVICE = ZEEP.create_service(BINDING.name, "http://127.0.0.1:1/")
OPERATIONS = sorted(BINDING._operations)


def sample(node: _Node) -> Any:
    """A value for every element of the plan (lists get two items)."""
    if node.scalar is not None:
        name = node.scalar.__name__.strip("_")
        return {"boolean": True, "integer": 7, "string": "wäarde <&>"}.get(name, "x")
    value = {child.local: sample(child) for child in node.children}
    return value


def fill(node: _Node) -> Any:
    if node.scalar is not None:
        return sample(node)
    out: dict[str, Any] = {}
    for child in node.children:
        item = fill(child)
        out[child.local] = [item, item] if child.many else item
    return out


def c14n(xml: bytes | etree._Element) -> bytes:
    tree = etree.fromstring(xml) if isinstance(xml, bytes) else xml
    return etree.tostring(tree, method="c14n")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_renders_like_zeep(operation: str) -> None:
    _, plan = BUILDER._plan_for(operation)
    params = fill(plan)
    ours = BUILDER.build(operation, params)
    theirs = ZEEP.create_message(SERVICE, operation, parameters=params)
    assert c14n(ours) == c14n(theirs)


def test_only_required_parameters_render_like_zeep() -> None:
    params = {"id": 3, "requirements": {"requirement": []}, "fields": {"pair": []}}
    ours = BUILDER.build("Database_updateProfiles", params)
    theirs = ZEEP.create_message(SERVICE, "Database_updateProfiles", parameters=params)
    assert c14n(ours) == c14n(theirs)


def test_a_missing_required_parameter_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="id is required"):
        BUILDER.build("Profile_remove", {})


def test_a_parameter_of_the_wrong_type_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="id: expected a whole number"):
        BUILDER.build("Profile_remove", {"id": "7"})


def test_an_unknown_parameter_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="unexpected colour"):
        BUILDER.build("Profile_remove", {"id": 7, "colour": "red"})


NASTY = ["", "plain", "a&b<c>d\"e'f", "line\r\nbreak\ttab\rcr", "wäarde ñ 😀 \u2028", "]]>",
         "&amp; already escaped", " leading and trailing "]


def nasty(node: _Node, n: int = 0) -> Any:
    """Like fill(), with every text value one of NASTY (and empty lists for half the lists)."""
    if node.scalar is not None:
        value = sample(node)
        return NASTY[n % len(NASTY)] if isinstance(value, str) else value
    out: dict[str, Any] = {}
    for i, child in enumerate(node.children):
        item = nasty(child, n + i)
        out[child.local] = ([] if (n + i) % 2 else [item, nasty(child, n + i + 3)]) \
            if child.many else item
    return out


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_text_renderer_writes_byte_for_byte_what_the_lxml_tree_writes(operation: str) -> None:
    _, plan = BUILDER._plan_for(operation)
    for params in (fill(plan), nasty(plan), nasty(plan, 3)):
        assert BUILDER.build(operation, params) == BUILDER.build_tree(operation, params)


@pytest.mark.parametrize("value", NASTY)
def test_text_that_needs_escaping_renders_like_zeep_and_reads_back_unchanged(value: str) -> None:
    params = {"id": 3, "requirements": {"requirement": [
        {"fieldname": "k", "value": value, "operator": "=", "casesensitive": True}]},
        "fields": {"pair": [{"key": value, "value": value}]}, "create": True}
    ours = BUILDER.build("Database_updateProfiles", params)
    theirs = ZEEP.create_message(SERVICE, "Database_updateProfiles", parameters=params)
    assert c14n(ours) == c14n(theirs)
    assert etree.fromstring(ours).findtext(".//pair/value") == value


@pytest.mark.parametrize("params", [
    {"id": "7"}, {}, {"id": 7, "colour": "red"}, {"id": 7, "fields": {"pair": {"key": "a"}}},
    {"id": 7, "fields": {"pair": [{"key": "a", "value": "nul\x00"}]}},
    {"id": 7, "fields": {"pair": [{"key": "a", "value": "\ud800"}]}},
    {"id": 7, "fields": {"pair": [{"key": "a", "value": 5}]}},
    {"id": 7, "fields": {"pair": ["not a structure"]}}, {"id": True},
])
def test_both_renderers_refuse_the_same_parameters_with_the_same_message(params: Any) -> None:
    with pytest.raises(ValidationError) as fast:
        BUILDER.build("Profile_updateFields", params)
    with pytest.raises(ValidationError) as tree:
        BUILDER.build_tree("Profile_updateFields", params)
    assert fast.value.message == tree.value.message
