"""The mapping expression language: paths, literals, templates, transforms, compile errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from copernica_sdk.sync._expressions import (
    KNOWN_TRANSFORMS,
    TransformError,
    compile_expression,
    show_value,
)
from copernica_sdk.sync.errors import ConfigError, MappingError

ORDER = {
    "id": 1042,
    "customer_id": 0,
    "billing": {"email": "Jan@Example.com", "first_name": "Jan", "last_name": ""},
    "line_items": [
        {"id": 1, "sku": "A-1", "quantity": 2, "meta_data": [{"key": "size", "value": "L"}]},
        {"id": 2, "sku": "B-2", "quantity": 1, "meta_data": [{"key": "size", "value": "M"},
                                                             {"key": "gift", "value": "yes"}]},
    ],
    "coupon_lines": [{"code": "SUMMER"}, {"code": "VIP"}],
    "meta_data": [
        {"id": 7, "key": "_other", "value": "x"},
        {"id": 8, "key": "newsletter", "value": "yes"},
        {"id": 9, "key": "newsletter", "value": "no"},
    ],
    "odd key": {"x": 1},
}


def ev(text: str, item: object = ORDER, parent: object = None, record: object = None) -> object:
    return compile_expression(text).evaluate(item, parent, record)


def problems(text: str, key: str = "target.streams.s.profile.fields.f") -> list[str]:
    with pytest.raises(ConfigError) as info:
        compile_expression(text, key=key)
    return info.value.problems


# --- paths -------------------------------------------------------------------------


def test_a_plain_name_reads_a_top_level_field():
    assert ev("id") == 1042


def test_a_dotted_path_reads_nested_objects():
    assert ev("billing.email") == "Jan@Example.com"


def test_an_index_reads_one_list_element():
    assert ev("line_items[1].sku") == "B-2"


def test_a_negative_index_counts_from_the_end():
    assert ev("line_items[-1].sku") == "B-2"


def test_an_index_past_the_end_gives_none():
    assert ev("line_items[5].sku") is None


def test_an_index_on_an_object_reads_the_numbered_key_php_style():
    assert ev("items[0].sku", {"items": {"0": {"sku": "A"}}}) == "A"


def test_a_wildcard_gives_a_list_of_every_elements_value():
    assert ev("coupon_lines[*].code") == ["SUMMER", "VIP"]


def test_a_wildcard_keeps_none_for_elements_without_the_field():
    assert ev("coupon_lines[*].code", {"coupon_lines": [{"code": "A"}, {}]}) == ["A", None]


def test_nested_wildcards_give_one_flat_list():
    assert ev("line_items[*].meta_data[*].key") == ["size", "size", "gift"]


def test_a_wildcard_over_an_object_takes_its_values():
    assert ev("items[*].sku", {"items": {"a": {"sku": "A"}, "b": {"sku": "B"}}}) == ["A", "B"]


def test_a_wildcard_over_a_missing_list_gives_none():
    assert ev("refunds[*].id") is None


def test_a_selector_picks_the_first_element_whose_field_equals_the_literal():
    assert ev("meta_data[key=newsletter].value") == "yes"


def test_a_selector_without_a_match_gives_none():
    assert ev("meta_data[key=absent].value") is None


def test_a_selector_literal_may_be_quoted():
    data = {"meta": [{"key": "opt in", "value": "1"}]}
    assert ev("meta[key='opt in'].value", data) == "1"


def test_a_selector_compares_numbers_as_text():
    assert ev("meta_data[id=8].value") == "yes"


def test_a_selector_applies_per_element_after_a_wildcard():
    assert ev("line_items[*].meta_data[key=size].value") == ["L", "M"]


def test_a_quoted_bracket_key_reads_a_key_that_is_not_a_plain_name():
    assert ev("['odd key'].x") == 1


def test_a_missing_path_gives_none_not_an_error():
    assert ev("shipping.address.street") is None


def test_a_path_through_a_scalar_gives_none():
    assert ev("id.value") is None


def test_a_path_on_a_non_object_item_gives_none():
    assert ev("sku", "just a string") is None


def test_parent_reads_the_record_from_inside_an_each_element():
    item = ORDER["line_items"][0]
    assert ev("$parent.id", item, ORDER, ORDER) == 1042


def test_parent_without_a_parent_gives_none():
    assert ev("$parent.id", ORDER) is None


def test_record_reads_the_record_from_an_element():
    item = ORDER["line_items"][0]
    assert ev("$record.billing.email", item, ORDER, ORDER) == "Jan@Example.com"


def test_record_reads_the_item_itself_at_the_top_level():
    assert ev("$record.id") == 1042


def test_the_expression_tells_whether_it_uses_parent():
    assert compile_expression("$parent.id").uses_parent
    assert compile_expression("{$parent.id}-{id}").uses_parent
    assert not compile_expression("$record.id").uses_parent


# --- literals and templates ---------------------------------------------------------


def test_a_quoted_literal_gives_its_text():
    assert ev("'shop-1'") == "shop-1"


def test_a_double_quoted_literal_with_an_escaped_quote():
    assert ev('"say \\"hi\\""') == 'say "hi"'


def test_a_template_fills_placeholders_from_the_element_and_parent():
    item = ORDER["line_items"][1]
    assert ev("{$parent.id}-{id}", item, ORDER, ORDER) == "1042-2"


def test_a_template_gives_none_when_a_placeholder_is_missing():
    assert ev("{id}-{missing}") is None


def test_a_template_placeholder_may_use_transforms():
    assert ev("{billing.first_name | upper} {billing.last_name | default:'?'}") == "JAN ?"


def test_a_template_keeps_an_empty_placeholder_value():
    assert ev("{billing.first_name}/{billing.last_name}") == "Jan/"


def test_a_template_apostrophe_is_plain_text():
    assert ev("{billing.first_name}'s order") == "Jan's order"


def test_double_braces_in_a_template_are_literal_braces():
    assert ev("{{{id}}}") == "{1042}"


def test_a_lone_escaped_brace_in_a_template_is_text():
    assert ev("{id}}}-{{x") == "1042}-{x"


def test_a_template_placeholder_giving_a_list_is_a_mapping_error():
    with pytest.raises(MappingError, match="join"):
        ev("{coupon_lines[*].code}")


# --- transforms ---------------------------------------------------------------------


def test_known_transforms_are_the_documented_ones():
    assert set(KNOWN_TRANSFORMS) == {"lower", "upper", "strip", "normalize_email", "date",
                                     "datetime", "number", "int", "bool", "join", "default",
                                     "truncate", "split", "html_unescape"}


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("v | lower", "ÀBC", "àbc"),
    ("v | upper", "straße", "STRASSE"),
    ("v | strip", "  a b \n", "a b"),
    ("v | lower", 12, "12"),
])
def test_text_transforms(text, value, expected):
    assert ev(text, {"v": value}) == expected


def test_text_transforms_keep_none():
    assert ev("v | lower | strip | upper", {}) is None


def test_one_value_transforms_apply_to_each_list_element():
    assert ev("coupon_lines[*].code | lower") == ["summer", "vip"]


def test_a_text_transform_on_an_object_is_a_mapping_error():
    with pytest.raises(TransformError, match="object"):
        ev("billing | lower")


@pytest.mark.parametrize(("value", "expected"), [
    ("  Jan.Jansen@Example.COM ", "jan.jansen@example.com"),
    ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
])
def test_normalize_email_strips_and_lowercases(value, expected):
    assert ev("v | normalize_email", {"v": value}) == expected


@pytest.mark.parametrize("value", [
    "not-an-email", "a@@b.nl", "a@b@c.nl", "@example.com", "jan@localhost", "jan @x.nl",
    "jan@.nl", "jan@x.", "jan@x..nl",
])
def test_normalize_email_refuses_implausible_addresses(value):
    with pytest.raises(TransformError, match="no usable e-mail") as info:
        ev("v | normalize_email", {"v": value})
    assert info.value.value == value
    assert info.value.source == "v"


def test_normalize_email_of_empty_text_gives_none_so_default_can_apply():
    assert ev("v | normalize_email", {"v": "  "}) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05", "2024-03-05"),
    ("2024-03-05T23:59:59", "2024-03-05"),
    ("2024-03-05T23:30:00+02:00", "2024-03-05"),
    ("2024-03-05T23:30:00-02:00", "2024-03-06"),
    ("0000-00-00 00:00:00", None),
    ("", None),
])
def test_date_gives_yyyy_mm_dd(value, expected):
    assert ev("v | date", {"v": value}) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05T10:11:12", "2024-03-05 10:11:12"),
    ("2024-03-05T10:11:12Z", "2024-03-05 10:11:12"),
    ("2024-03-05T10:11:12.999+01:00", "2024-03-05 09:11:12"),
    ("2024-01-01T00:30:00+01:00", "2023-12-31 23:30:00"),
    ("2024-03-05", "2024-03-05 00:00:00"),
    ("2024-03-05 10:11:12", "2024-03-05 10:11:12"),
])
def test_datetime_gives_utc_yyyy_mm_dd_hh_mm_ss(value, expected):
    assert ev("v | datetime", {"v": value}) == expected


@pytest.mark.parametrize("value", ["yesterday", "05/03/2024", 1709632272, "2024-02-30"])
def test_date_and_datetime_refuse_what_is_not_iso_8601(value):
    with pytest.raises(TransformError, match="ISO-8601"):
        ev("v | datetime", {"v": value})


@pytest.mark.parametrize(("value", "places", "expected"), [
    ("12.345", 2, "12.35"),
    ("12.344", 2, "12.34"),
    ("2.5", 0, "3"),
    ("-2.5", 0, "-3"),
    ("0.125", 2, "0.13"),
    (0.1, 2, "0.10"),
    (1.005, 2, "1.01"),  # repr(1.005) is "1.005": no binary rounding surprise
    (19, 2, "19.00"),
    (Decimal("1E+3"), 1, "1000.0"),
    ("1e3", 0, "1000"),
    ("  7 ", 1, "7.0"),
    ("-0.001", 2, "0.00"),
    ("", 2, None),
])
def test_number_rounds_half_up_to_n_places(value, places, expected):
    assert ev(f"v | number:{places}", {"v": value}) == expected


@pytest.mark.parametrize("value", ["abc", "12,50", "1_000", "NaN", "Infinity", True, "١٢",
                                   float("nan"), "1e999"])
def test_number_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(TransformError, match=r"number|range"):
        ev("v | number:2", {"v": value})


@pytest.mark.parametrize(("value", "expected"), [
    ("12", "12"), (" 007 ", "7"), ("12.0", "12"), (12.0, "12"), (-3, "-3"), (True, "1"),
    ("-0", "0"), ("", None),
])
def test_int_gives_a_whole_number(value, expected):
    assert ev("v | int", {"v": value}) == expected


@pytest.mark.parametrize("value", ["12.5", 2.5, "twelve"])
def test_int_refuses_fractions_and_text(value):
    with pytest.raises(TransformError):
        ev("v | int", {"v": value})


@pytest.mark.parametrize(("value", "expected"), [
    ("yes", "1"), ("TRUE", "1"), (" on ", "1"), ("1", "1"), (True, "1"), (1, "1"),
    (2.5, "1"), ("no", "0"), ("false", "0"), ("0", "0"), ("", "0"), ("maybe", "0"),
    (False, "0"), (0, "0"),
])
def test_bool_maps_truthy_strings_to_1_and_anything_else_to_0(value, expected):
    assert ev("v | bool", {"v": value}) == expected


def test_bool_keeps_none_so_default_can_apply():
    assert ev("v | bool | default:'0'", {}) == "0"


def test_bool_of_an_object_is_a_mapping_error():
    # A selector without ".value" gives the whole meta entry: a mapping mistake.
    with pytest.raises(TransformError, match="object"):
        ev("meta_data[key=newsletter] | bool")


def test_join_joins_with_the_separator_and_drops_none():
    assert ev("v | join:', '", {"v": ["a", None, 3, True]}) == "a, 3, 1"


def test_join_defaults_to_a_comma():
    assert ev("coupon_lines[*].code | join") == "SUMMER,VIP"


def test_join_of_an_empty_list_is_empty_text():
    assert ev("v | join:'-'", {"v": []}) == ""


def test_join_of_a_single_value_is_its_text():
    assert ev("v | join:'-'", {"v": 5}) == "5"


def test_join_of_a_list_of_objects_is_a_mapping_error():
    with pytest.raises(TransformError, match="object"):
        ev("coupon_lines | join")


@pytest.mark.parametrize("value", [None, "", []])
def test_default_replaces_missing_and_empty_values(value):
    assert ev("v | default:'n/a'", {"v": value}) == "n/a"


def test_default_keeps_zero_and_false_values():
    assert ev("v | default:'x'", {"v": 0}) == 0
    assert ev("v | default:'x'", {"v": "0"}) == "0"


def test_default_takes_an_unquoted_argument():
    assert ev("v | default:none", {}) == "none"


def test_truncate_cuts_to_n_characters():
    assert ev("v | truncate:3", {"v": "abcdef"}) == "abc"
    assert ev("v | truncate:10", {"v": "abc"}) == "abc"


def test_split_gives_a_list():
    assert ev("v | split:';'", {"v": "a;b;;c"}) == ["a", "b", "", "c"]


def test_split_of_empty_text_gives_an_empty_list():
    assert ev("v | split", {"v": ""}) == []


def test_split_then_strip_then_join_tidies_a_list():
    assert ev("v | split:',' | strip | join:', '", {"v": "a ,b,  c"}) == "a, b, c"


def test_a_quoted_argument_may_hold_a_pipe():
    assert ev("coupon_lines[*].code | join:' | '") == "SUMMER | VIP"


def test_transforms_run_left_to_right():
    assert ev("v | default:'  X ' | strip | lower", {}) == "x"


def test_a_transform_error_names_the_source_value_and_transform():
    with pytest.raises(TransformError) as info:
        ev("total | number:2", {"total": "abc"})
    message = str(info.value)
    assert "not a number" in message
    assert "at total" in message
    assert "'abc'" in message
    assert "number:2" in message


def test_a_transform_error_is_a_mapping_error():
    assert issubclass(TransformError, MappingError)


def test_show_value_never_shows_more_than_80_characters():
    assert len(show_value("x" * 1_000_000)) <= 80
    assert show_value({"a": 1, "b": 2}) == "an object with 2 keys"
    assert show_value(list(range(5))) == "a list of 5 items"


# --- compile errors -----------------------------------------------------------------


def test_an_unknown_transform_names_the_key_the_bad_piece_and_the_known_ones():
    [problem] = problems("total | nummber:2", key="target.streams.orders.collections.Orders"
                                                  ".fields.total")
    assert problem.startswith("target.streams.orders.collections.Orders.fields.total: ")
    assert "unknown transform 'nummber'" in problem
    assert "number, split" in problem  # the known list
    assert "did you mean 'number'?" in problem


def test_every_problem_in_one_expression_is_reported():
    assert len(problems("v | lowr | uper")) == 2


def test_an_unclosed_quote_is_a_compile_error():
    assert "unclosed quote" in problems("v | join:'")[0]


def test_an_unclosed_bracket_is_a_compile_error():
    assert "unclosed" in problems("line_items[0.sku")[0]


def test_a_bad_index_is_a_compile_error():
    assert "bad index [x y]" in problems("line_items[x y].sku")[0]


def test_an_empty_selector_value_is_a_compile_error():
    assert "needs a value" in problems("meta_data[key=].value")[0]


def test_an_unknown_root_is_a_compile_error():
    assert "$parnt" in problems("$parnt.id")[0]


def test_a_path_with_a_space_is_a_compile_error():
    assert "unexpected" in problems("billing email")[0]


def test_a_trailing_dot_is_a_compile_error():
    assert "expected a field name" in problems("billing.")[0]


def test_an_empty_source_is_a_compile_error():
    assert "missing source" in problems(" | lower")[0]


def test_an_empty_transform_is_a_compile_error():
    assert "empty transform" in problems("v || lower")[0]


@pytest.mark.parametrize(("text", "fragment"), [
    ("v | number", "number"),
    ("v | number:x", "number"),
    ("v | number:21", "number"),
    ("v | truncate:0", "truncate"),
    ("v | default", "default"),
    ("v | lower:1", "takes no argument"),
    ("v | split:''", "split"),
])
def test_bad_transform_arguments_are_compile_errors(text, fragment):
    assert fragment in problems(text)[0]


def test_an_unclosed_template_placeholder_is_a_compile_error():
    assert "unclosed" in problems("{id")[0]


def test_a_stray_closing_brace_in_a_template_is_a_compile_error():
    assert "unmatched" in problems("{id}}x}")[0] or "unbalanced" in problems("{id}}x}")[0]


def test_an_error_inside_a_template_placeholder_is_reported():
    assert "unknown transform 'uper'" in problems("{id | uper}-x")[0]


def test_a_non_string_expression_is_a_compile_error():
    with pytest.raises(ConfigError, match="k: expected an expression string"):
        compile_expression(12, key="k")  # type: ignore[arg-type]


def test_compiling_the_same_text_twice_gives_the_same_expression():
    assert compile_expression("billing.email | lower") is compile_expression(
        "billing.email | lower")
