"""Parsing the ``[target]`` mapping and applying it to WooCommerce-like records."""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import pytest

from copernica_sdk.sync.errors import ConfigError, MappingError
from copernica_sdk.sync.mapping import (
    CollectionMapping,
    FieldSpec,
    ProfileMapping,
    ProfileWrite,
    StreamMapping,
    SubprofileWrite,
    TargetMapping,
    parse_target,
)

TARGET_TOML = """
[target]
database = "Customers"
profile_key = "customer_key"

[target.streams.customers.profile]
key = "email | normalize_email"
source_id = "id"
[target.streams.customers.profile.fields]
email = "email | normalize_email"
firstname = "first_name"
total_spent = { source = "total_spent | number:2", type = "float" }
newsletter = { source = "meta_data[key=newsletter].value | bool | default:'0'", type = "text", length = 1 }

[target.streams.orders.profile]
key = "billing.email | normalize_email"
source_id = "customer_id"
fields = { firstname = "billing.first_name" }
[target.streams.orders.collections.Orders]
key_field = "order_id"
fields = { order_id = "id", status = "status", total = { source = "total | number:2", type = "float" }, coupons = "coupon_lines[*].code | join:', '", created = { source = "date_created_gmt | datetime", type = "datetime" } }
[target.streams.orders.collections.OrderItems]
each = "line_items"
key_field = "item_key"
fields = { item_key = "{$parent.id}-{id}", sku = "sku", quantity = { source = "quantity", type = "integer" } }
"""

TARGET: dict[str, Any] = tomllib.loads(TARGET_TOML)["target"]

CUSTOMER: dict[str, Any] = {
    "id": 17,
    "date_created_gmt": "2023-01-02T03:04:05",
    "email": " Jan.Jansen@Example.COM",
    "first_name": "Jan",
    "last_name": "Jansen",
    "total_spent": "1234.5",
    "billing": {"email": "jan.jansen@example.com", "phone": "+31 20 123 4567"},
    "meta_data": [{"id": 1, "key": "_wc_points", "value": "120"},
                  {"id": 2, "key": "newsletter", "value": "yes"}],
}

ORDER: dict[str, Any] = {
    "id": 1042,
    "customer_id": 0,
    "status": "processing",
    "total": "59.905",
    "date_created_gmt": "2024-03-05T10:11:12",
    "billing": {"first_name": "Piet", "email": "Piet@Example.nl"},
    "coupon_lines": [{"id": 1, "code": "summer"}, {"id": 2, "code": "vip"}],
    "line_items": [
        {"id": 1, "sku": "TSHIRT-L", "quantity": 2},
        {"id": 2, "sku": "MUG", "quantity": 1},
    ],
}


@pytest.fixture(scope="module")
def target() -> TargetMapping:
    return parse_target(TARGET)


def customers(target: TargetMapping) -> StreamMapping:
    return target.streams["customers"]


def orders(target: TargetMapping) -> StreamMapping:
    return target.streams["orders"]


def with_changes(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    out.update(changes)
    return out


def config_problems(table: dict[str, Any], defaults: dict[str, Any] | None = None
                    ) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_target(table, defaults)
    return info.value.problems


def minimal(**profile: Any) -> dict[str, Any]:
    return {"database": "Customers",
            "streams": {"customers": {"profile": {"key": "email | normalize_email",
                                                  **profile}}}}


# --- parse_target: shape ------------------------------------------------------------


def test_the_documented_toml_parses(target):
    assert target.database == "Customers"
    assert target.profile_key == "customer_key"
    assert list(target.streams) == ["customers", "orders"]
    assert [c.name for c in orders(target).collections] == ["Orders", "OrderItems"]
    assert orders(target).collections[1].each == "line_items"


def test_profile_key_defaults_to_customer_key():
    assert parse_target(minimal()).profile_key == "customer_key"


def test_the_profile_key_field_is_added_with_the_key_expression_and_indexed(target):
    [key_field] = [f for f in customers(target).profile.fields if f.name == "customer_key"]
    assert key_field == FieldSpec("customer_key", "email | normalize_email", "text", 255, True)


def test_a_listed_profile_key_field_with_the_same_source_is_indexed():
    mapping = parse_target(minimal(fields={"customer_key": "email | normalize_email"}))
    [spec] = mapping.streams["customers"].profile.fields
    assert spec.index


def test_a_listed_profile_key_field_table_may_omit_its_source():
    mapping = parse_target(minimal(fields={"customer_key": {"length": 100}}))
    [spec] = mapping.streams["customers"].profile.fields
    assert (spec.source, spec.length, spec.index) == ("email | normalize_email", 100, True)


def test_a_profile_key_field_with_another_source_is_an_error():
    [problem] = config_problems(minimal(fields={"customer_key": "id"}))
    assert problem.startswith("target.streams.customers.profile.fields.customer_key:")
    assert "profile.key" in problem


def test_unindexing_a_key_field_is_an_error():
    [problem] = config_problems(minimal(fields={"customer_key": {"index": False}}))
    assert "always indexed" in problem


def test_a_collection_key_field_is_indexed(target):
    [spec] = [f for f in orders(target).collections[0].fields if f.name == "order_id"]
    assert spec.index


def test_text_fields_default_to_length_255_and_other_types_to_none(target):
    fields = {f.name: f for f in customers(target).profile.fields}
    assert fields["firstname"].length == 255
    assert fields["total_spent"].length is None
    assert fields["newsletter"].length == 1
    assert FieldSpec("notes", "note", "big").length is None


def test_field_type_and_index_come_from_the_field_table():
    mapping = parse_target(minimal(fields={"city": {"source": "billing.city", "index": True},
                                           "born": {"source": "dob | date", "type": "date"}}))
    fields = {f.name: f for f in mapping.streams["customers"].profile.fields}
    assert fields["city"].index
    assert fields["born"].type == "date"


# --- parse_target: merging over defaults --------------------------------------------


def test_a_job_overrides_a_default_field_expression():
    mapping = parse_target({"streams": {"customers": {"profile": {"fields": {
        "firstname": "billing.first_name"}}}}}, TARGET)
    fields = {f.name: f for f in customers(mapping).profile.fields}
    assert fields["firstname"].source == "billing.first_name"
    assert "total_spent" in fields  # the rest of the defaults stay


def test_false_removes_a_field_inherited_from_the_defaults():
    mapping = parse_target({"streams": {"customers": {"profile": {"fields": {
        "newsletter": False}}}}}, TARGET)
    assert "newsletter" not in {f.name for f in customers(mapping).profile.fields}


def test_false_removes_an_inherited_collection_and_stream():
    mapping = parse_target({"streams": {"customers": False, "orders": {
        "collections": {"OrderItems": False}}}}, TARGET)
    assert list(mapping.streams) == ["orders"]
    assert [c.name for c in orders(mapping).collections] == ["Orders"]


def test_false_for_a_field_the_defaults_do_not_have_is_ignored():
    mapping = parse_target(minimal(fields={"phone": False}))
    assert "phone" not in {f.name for f in mapping.streams["customers"].profile.fields}


def test_false_removes_an_inherited_source_id():
    mapping = parse_target({"streams": {"customers": {"profile": {"source_id": False}}}},
                           TARGET)
    assert customers(mapping).profile.source_id is None


def test_a_field_table_over_a_default_expression_keeps_the_expression_as_source():
    mapping = parse_target({"streams": {"customers": {"profile": {"fields": {
        "firstname": {"length": 50}}}}}}, TARGET)
    fields = {f.name: f for f in customers(mapping).profile.fields}
    assert (fields["firstname"].source, fields["firstname"].length) == ("first_name", 50)


def test_a_field_table_merges_over_a_default_field_table():
    mapping = parse_target({"streams": {"customers": {"profile": {"fields": {
        "total_spent": {"source": "total_spent | number:0"}}}}}}, TARGET)
    fields = {f.name: f for f in customers(mapping).profile.fields}
    assert (fields["total_spent"].source, fields["total_spent"].type) == (
        "total_spent | number:0", "float")


def test_index_false_in_a_field_table_is_a_value_not_a_removal():
    defaults = minimal(fields={"city": {"source": "city", "index": True}})
    mapping = parse_target({"streams": {"customers": {"profile": {"fields": {
        "city": {"index": False}}}}}}, defaults)
    [city] = [f for f in mapping.streams["customers"].profile.fields if f.name == "city"]
    assert (city.source, city.index) == ("city", False)


def test_the_defaults_are_not_modified_by_merging():
    defaults = copy.deepcopy(TARGET)
    parse_target({"streams": {"customers": {"profile": {"fields": {"newsletter": False}}}}},
                 defaults)
    assert defaults == TARGET


def test_a_job_adds_a_stream_the_defaults_do_not_have():
    extra = {"streams": {"members": {"profile": {"key": "mail | normalize_email"}}}}
    assert list(parse_target(extra, TARGET).streams) == ["customers", "orders", "members"]


# --- parse_target: problems ---------------------------------------------------------


def test_unknown_keys_at_every_level_are_listed_at_once():
    table = copy.deepcopy(TARGET)
    table["databse"] = "x"
    table["streams"]["customers"]["profil"] = {}
    table["streams"]["customers"]["profile"]["sourceid"] = "id"
    table["streams"]["orders"]["collections"]["Orders"]["key"] = "id"
    table["streams"]["orders"]["collections"]["Orders"]["fields"]["total"]["typ"] = "float"
    problems = config_problems(table)
    assert len(problems) == 5
    assert problems[0] == ("target.databse: unknown key (known: database, profile_key, "
                           "streams); did you mean 'database'?")
    keys = [p.split(":")[0] for p in problems]
    assert keys == ["target.databse", "target.streams.customers.profil",
                    "target.streams.customers.profile.sourceid",
                    "target.streams.orders.collections.Orders.key",
                    "target.streams.orders.collections.Orders.fields.total.typ"]


def test_allow_keys_accepts_extra_top_level_keys_read_elsewhere():
    table = minimal()
    table["batch_size"] = 100
    assert parse_target(table, allow_keys=("batch_size",)).database == "Customers"


def test_the_prefix_is_used_in_every_problem():
    with pytest.raises(ConfigError) as info:
        parse_target({"streams": {}}, prefix="jobs.shop1.target")
    assert all(p.startswith("jobs.shop1.target.") for p in info.value.problems)


def test_missing_database_streams_and_profile_are_reported():
    assert [p.split(":")[0] for p in config_problems({})] == [
        "target.database", "target.streams"]
    problems = config_problems({"database": "D", "streams": {"s": {}}})
    assert [p.split(":")[0] for p in problems] == ["target.streams.s.profile"]


def test_a_profile_without_a_key_is_reported():
    problems = config_problems({"database": "D", "streams": {"s": {"profile": {}}}})
    assert problems == ["target.streams.s.profile.key: required"]


def test_an_unknown_transform_names_the_full_key():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["collections"]["Orders"]["fields"]["total"]["source"] = (
        "total | nummber:2")
    [problem] = config_problems(table)
    assert problem.startswith("target.streams.orders.collections.Orders.fields.total: "
                              "unknown transform 'nummber' (known: ")


def test_compile_errors_in_several_streams_are_reported_together():
    table = copy.deepcopy(TARGET)
    table["streams"]["customers"]["profile"]["key"] = "email | normalise_email"
    table["streams"]["orders"]["collections"]["OrderItems"]["each"] = "line_items["
    problems = config_problems(table)
    assert [p.split(":")[0] for p in problems] == [
        "target.streams.customers.profile.key",
        "target.streams.orders.collections.OrderItems.each"]


def test_an_unknown_field_type_is_reported_with_a_suggestion():
    [problem] = config_problems(minimal(fields={"n": {"source": "n", "type": "int"}}))
    assert problem.startswith("target.streams.customers.profile.fields.n.type: unknown type")
    assert "did you mean 'integer'?" in problem


@pytest.mark.parametrize(("spec", "fragment"), [
    ({"source": "n", "type": "integer", "length": 10}, "only text-like fields"),
    ({"source": "n", "length": 0}, "at least 1"),
    ({"source": "n", "length": "10"}, "at least 1"),
    ({"source": "n", "index": "yes"}, "true or false"),
    ({"type": "text"}, "source: required"),
    ("", "empty expression"),
    (12, "must be an expression string"),
])
def test_bad_field_settings_are_reported(spec, fragment):
    [problem] = config_problems(minimal(fields={"n": spec}))
    assert problem.startswith("target.streams.customers.profile.fields.n")
    assert fragment in problem


def test_field_names_must_be_plain_identifiers():
    [problem] = config_problems(minimal(fields={"first name": "first_name"}))
    assert "letters, digits and underscores" in problem


def test_field_names_differing_only_in_case_are_the_same_field():
    [problem] = config_problems(minimal(fields={"City": "city", "city": "city"}))
    assert "ignores case" in problem


def test_a_collection_key_field_must_be_one_of_its_fields():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["collections"]["Orders"]["key_field"] = "orderid"
    [problem] = config_problems(table)
    assert problem.startswith("target.streams.orders.collections.Orders.key_field: 'orderid'")


def test_a_collection_without_key_field_or_fields_is_reported():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["collections"]["Notes"] = {}
    problems = config_problems(table)
    assert [p.split(":")[0] for p in problems] == [
        "target.streams.orders.collections.Notes.key_field",
        "target.streams.orders.collections.Notes.fields"]


def test_parent_outside_an_each_collection_is_an_error():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["collections"]["Orders"]["fields"]["status"] = "$parent.status"
    [problem] = config_problems(table)
    assert problem.startswith("target.streams.orders.collections.Orders.fields.status: "
                              "$parent is only available")


def test_conflicting_field_types_across_streams_name_both_keys():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["profile"]["fields"]["total_spent"] = {
        "source": "total", "type": "integer"}
    [problem] = config_problems(table)
    assert problem.startswith("target.streams.orders.profile.fields.total_spent: type "
                              "'integer' conflicts with type 'float' at "
                              "target.streams.customers.profile.fields.total_spent")


def test_conflicting_collection_key_fields_across_streams_are_an_error():
    table = copy.deepcopy(TARGET)
    table["streams"]["customers"]["collections"] = {
        "Orders": {"key_field": "number", "fields": {"number": "id"}}}
    problems = config_problems(table)
    assert any(p.startswith("target.streams.orders.collections.Orders.key_field: 'order_id' "
                            "conflicts with 'number'") for p in problems)


def test_a_table_that_is_not_a_mapping_is_a_config_error():
    with pytest.raises(ConfigError, match="target: expected a table"):
        parse_target(["nope"])  # type: ignore[arg-type]


# --- database and collection fields ---------------------------------------------------


def test_database_fields_unite_the_streams_profile_fields(target):
    names = [f.name for f in target.database_fields()]
    assert names == ["customer_key", "email", "firstname", "total_spent", "newsletter"]
    assert target.database_fields()[0].index


def test_the_first_definition_wins_for_length_and_any_index_counts():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["profile"]["fields"]["firstname"] = {
        "source": "billing.first_name", "length": 40, "index": True}
    [firstname] = [f for f in parse_target(table).database_fields() if f.name == "firstname"]
    assert (firstname.length, firstname.index) == (255, True)


def test_collections_lists_each_collections_fields(target):
    collections = target.collections()
    assert list(collections) == ["Orders", "OrderItems"]
    assert [f.name for f in collections["OrderItems"]] == ["item_key", "sku", "quantity"]
    assert collections["OrderItems"][2].type == "integer"


def test_mappings_can_be_built_without_toml():
    stream = StreamMapping("members", ProfileMapping("customer_key", "mail | lower"), ())
    mapping = TargetMapping("Members", "customer_key", {"members": stream})
    assert mapping.streams["members"].apply({"mail": "A@B.NL"}).profile.key == "a@b.nl"


def test_a_collection_built_directly_indexes_its_key_field():
    collection = CollectionMapping("Orders", "order_id", (FieldSpec("order_id", "id"),))
    assert collection.fields[0].index


def test_building_a_stream_mapping_directly_checks_collection_key_fields():
    collection = CollectionMapping("Orders", "order_id", (FieldSpec("id", "id"),))
    with pytest.raises(ConfigError, match="'order_id' is not one of the collection's fields"):
        StreamMapping("s", ProfileMapping("customer_key", "mail"), (collection,))


def test_building_a_stream_mapping_directly_validates_expressions():
    with pytest.raises(ConfigError, match="unknown transform 'lowr'"):
        StreamMapping("s", ProfileMapping("customer_key", "mail | lowr"))


# --- apply: realistic records -------------------------------------------------------


def test_a_customer_becomes_one_profile(target):
    mapped = customers(target).apply(CUSTOMER)
    assert mapped.profile == ProfileWrite(
        key_field="customer_key",
        key="jan.jansen@example.com",
        fields={"customer_key": "jan.jansen@example.com", "email": "jan.jansen@example.com",
                "firstname": "Jan", "total_spent": "1234.50", "newsletter": "1"},
        source_id="17",
    )
    assert mapped.subprofiles == ()
    assert mapped.warnings == ()


def test_a_customer_without_newsletter_meta_gets_the_default(target):
    mapped = customers(target).apply(with_changes(CUSTOMER, meta_data=[]))
    assert mapped.profile.fields["newsletter"] == "0"


def test_a_missing_field_is_sent_empty(target):
    record = with_changes(CUSTOMER)
    del record["first_name"], record["total_spent"]
    fields = customers(target).apply(record).profile.fields
    assert (fields["firstname"], fields["total_spent"]) == ("", "")


def test_a_guest_order_has_no_source_id(target):
    assert orders(target).apply(ORDER).profile.source_id is None


@pytest.mark.parametrize("guest", [0, "0", "", None])
def test_every_guest_spelling_gives_no_source_id(target, guest):
    assert orders(target).apply(with_changes(ORDER, customer_id=guest)).profile.source_id is None


def test_a_registered_customers_order_carries_the_source_id(target):
    assert orders(target).apply(with_changes(ORDER, customer_id=17)).profile.source_id == "17"


def test_an_order_writes_its_profile_from_billing(target):
    profile = orders(target).apply(ORDER).profile
    assert profile.key == "piet@example.nl"
    assert profile.fields == {"customer_key": "piet@example.nl", "firstname": "Piet"}


def test_an_order_becomes_an_orders_subprofile(target):
    [order, *_] = orders(target).apply(ORDER).subprofiles
    assert order == SubprofileWrite(
        collection="Orders", key_field="order_id", key="1042",
        fields={"order_id": "1042", "status": "processing", "total": "59.91",
                "coupons": "summer, vip", "created": "2024-03-05 10:11:12"})


def test_each_line_item_becomes_an_order_items_subprofile(target):
    items = orders(target).apply(ORDER).subprofiles[1:]
    assert [(s.collection, s.key, dict(s.fields)) for s in items] == [
        ("OrderItems", "1042-1", {"item_key": "1042-1", "sku": "TSHIRT-L", "quantity": "2"}),
        ("OrderItems", "1042-2", {"item_key": "1042-2", "sku": "MUG", "quantity": "1"}),
    ]


def test_an_order_without_line_items_writes_no_item_subprofiles(target):
    for line_items in ([], None):
        subprofiles = orders(target).apply(with_changes(ORDER, line_items=line_items)).subprofiles
        assert [s.collection for s in subprofiles] == ["Orders"]


def test_an_order_without_coupons_has_empty_coupons(target):
    order = orders(target).apply(with_changes(ORDER, coupon_lines=[])).subprofiles[0]
    assert order.fields["coupons"] == ""


def test_each_over_an_object_is_a_mapping_error_suggesting_a_wildcard(target):
    with pytest.raises(MappingError, match=r"line_items\[\*\]"):
        orders(target).apply(with_changes(ORDER, line_items={"a": {"id": 1}}))


def test_an_each_wildcard_iterates_an_objects_values():
    table = copy.deepcopy(TARGET)
    table["streams"]["orders"]["collections"]["OrderItems"]["each"] = "line_items[*]"
    mapping = parse_target(table)
    record = with_changes(ORDER, line_items={"x": {"id": 5, "sku": "S", "quantity": 1}})
    assert [s.key for s in orders(mapping).apply(record).subprofiles[1:]] == ["1042-5"]


def test_python_values_are_sent_in_copernica_notation():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("flag", "flag"), FieldSpec("amount", "amount", "float"),
        FieldSpec("n", "n", "integer"))))
    fields = stream.apply({"k": "x", "flag": True, "amount": 0.1, "n": 3}).profile.fields
    assert fields == {"customer_key": "x", "flag": "1", "amount": "0.1", "n": "3"}


# --- apply: failures ----------------------------------------------------------------


def test_an_invalid_email_key_is_a_mapping_error_with_the_fix(target):
    record = with_changes(ORDER, billing={"email": "not-an-email"})
    with pytest.raises(MappingError) as info:
        orders(target).apply(record)
    assert str(info.value) == ("orders record 1042: no usable e-mail at billing.email "
                               "('not-an-email'); the profile key needs a valid address")


def test_an_empty_profile_key_is_a_mapping_error_naming_the_key_expression(target):
    with pytest.raises(MappingError) as info:
        orders(target).apply(with_changes(ORDER, billing={"email": ""}))
    message = str(info.value)
    assert message.startswith("orders record 1042: profile key customer_key is empty")
    assert "`billing.email | normalize_email`" in message


def test_a_line_item_without_an_id_is_a_mapping_error_naming_the_element(target):
    record = with_changes(ORDER, line_items=[{"id": 1, "sku": "A"}, {"sku": "B"}])
    with pytest.raises(MappingError, match=r"orders record 1042: OrderItems\[1\] key "
                                           r"item_key is empty: `\{\$parent.id\}-\{id\}`"):
        orders(target).apply(record)


def test_a_collection_key_missing_outside_each_is_a_mapping_error(target):
    record = with_changes(ORDER)
    del record["id"]
    with pytest.raises(MappingError, match=r"record \(no id\): Orders key order_id is empty"):
        orders(target).apply(record)


def test_record_id_names_the_record_in_errors(target):
    with pytest.raises(MappingError, match=r"^orders record wc-1042: "):
        orders(target).apply(with_changes(ORDER, billing={}), record_id="wc-1042")


def test_a_non_numeric_value_for_a_number_transform_is_a_mapping_error(target):
    with pytest.raises(MappingError) as info:
        orders(target).apply(with_changes(ORDER, total="N/A"))
    assert str(info.value).startswith(
        "orders record 1042: field Orders.total: not a number at total ('N/A'")


def test_a_non_numeric_value_in_a_float_field_is_a_mapping_error_naming_the_field():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("amount", "amount", "float"),)))
    with pytest.raises(MappingError, match=re.escape(
            "field amount: '12,50' from amount is not valid for a float field; "
            "convert with | number:2")):
        stream.apply({"k": "x", "amount": "12,50"})


@pytest.mark.parametrize("value", ["2", "-2", " 3 "])
def test_whole_numbers_as_text_are_accepted_in_integer_fields(target, value):
    record = with_changes(ORDER, line_items=[{"id": 1, "quantity": value}])
    assert orders(target).apply(record).subprofiles[1].fields["quantity"] == value.strip()


@pytest.mark.parametrize("value", ["2.5", "two", 2.5])
def test_anything_else_in_an_integer_field_is_a_mapping_error(target, value):
    record = with_changes(ORDER, line_items=[{"id": 1, "quantity": value}])
    with pytest.raises(MappingError, match=r"field OrderItems\[0\].quantity: .* integer field"):
        orders(target).apply(record)


@pytest.mark.parametrize(("ftype", "sent"), [
    ("date", False), ("datetime", False), ("empty_date", True), ("empty_datetime", True)])
def test_an_empty_date_is_left_out_unless_the_field_can_be_empty(ftype, sent):
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("when", "when", ftype),)))
    for empty in ("", None):
        fields = stream.apply({"k": "x", "when": empty}).profile.fields
        assert ("when" in fields) is sent
        assert fields.get("when", "") == ""


@pytest.mark.parametrize(("ftype", "value", "ok"), [
    ("date", "2024-02-29", True),
    ("date", "2024-02-30", False),
    ("date", "05-03-2024", False),
    ("datetime", "2024-03-05 10:11:12", True),
    ("datetime", "2024-03-05T10:11:12", False),
    ("datetime", "2024-03-05 25:00:00", False),
])
def test_date_fields_take_only_yyyy_mm_dd_with_optional_time(ftype, value, ok):
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("when", "when", ftype),)))
    if ok:
        assert stream.apply({"k": "x", "when": value}).profile.fields["when"] == value
    else:
        with pytest.raises(MappingError, match=f"field when: .* {ftype} field"):
            stream.apply({"k": "x", "when": value})


def test_a_list_in_a_field_is_a_mapping_error_suggesting_join():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("codes", "coupon_lines[*].code"),)))
    with pytest.raises(MappingError, match=r"field codes: coupon_lines\[\*\].code gives a list "
                                           r"of 2 items; add \| join"):
        stream.apply({"k": "x", "coupon_lines": [{"code": "a"}, {"code": "b"}]})


def test_an_object_in_a_field_is_a_mapping_error():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("billing", "billing"),)))
    with pytest.raises(MappingError, match="field billing: billing gives an object"):
        stream.apply({"k": "x", "billing": {"city": "Amsterdam"}})


# --- apply: hostile values ----------------------------------------------------------


def test_forbidden_control_characters_are_removed_with_a_warning(target):
    mapped = customers(target).apply(with_changes(CUSTOMER, first_name="Ja\x01n\x0b"))
    assert mapped.profile.fields["firstname"] == "Jan"
    assert mapped.warnings == ("field firstname: removed forbidden characters U+0001, U+000B",)


def test_tabs_and_newlines_are_kept(target):
    mapped = customers(target).apply(with_changes(CUSTOMER, first_name="a\tb\nc\r"))
    assert (mapped.profile.fields["firstname"], mapped.warnings) == ("a\tb\nc\r", ())


def test_forbidden_characters_in_a_subprofile_field_are_named_with_the_element(target):
    record = with_changes(ORDER, line_items=[{"id": 1, "sku": "\x00SKU"}])
    mapped = orders(target).apply(record)
    assert mapped.subprofiles[1].fields["sku"] == "SKU"
    assert mapped.warnings == ("field OrderItems[0].sku: removed forbidden characters U+0000",)


def test_a_megabyte_string_is_truncated_to_the_field_length_with_a_warning(target):
    mapped = customers(target).apply(with_changes(CUSTOMER, first_name="x" * 1_048_576))
    assert mapped.profile.fields["firstname"] == "x" * 255
    assert mapped.warnings == ("field firstname: truncated from 1048576 to 255 characters",)


def test_a_big_field_is_not_truncated():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("notes", "notes", "big"),)))
    mapped = stream.apply({"k": "x", "notes": "y" * 100_000})
    assert (len(mapped.profile.fields["notes"]), mapped.warnings) == (100_000, ())


def test_a_key_longer_than_its_field_is_a_mapping_error_not_a_cut():
    stream = StreamMapping("s", ProfileMapping("customer_key", "k"))
    with pytest.raises(MappingError, match="longer than the field's 255"):
        stream.apply({"k": "k" * 300})


def test_an_error_about_a_megabyte_value_stays_short(target):
    with pytest.raises(MappingError) as info:
        orders(target).apply(with_changes(ORDER, total="9" * 10 + "x" * 1_048_576))
    assert len(str(info.value)) < 300


def test_an_error_never_includes_the_whole_record(target):
    record = with_changes(ORDER, billing={"email": "bad"}, customer_note="SECRET NOTE")
    with pytest.raises(MappingError) as info:
        orders(target).apply(record)
    assert "SECRET NOTE" not in str(info.value)


def test_emoji_and_right_to_left_text_pass_through_untouched(target):
    name = "שלום 👩‍👩‍👧 مرحبا"
    mapped = customers(target).apply(with_changes(CUSTOMER, first_name=name))
    assert (mapped.profile.fields["firstname"], mapped.warnings) == (name, ())


def test_markup_characters_pass_through_as_text(target):
    mapped = customers(target).apply(with_changes(CUSTOMER, first_name="<x>&'\"]]>"))
    assert mapped.profile.fields["firstname"] == "<x>&'\"]]>"


def test_applying_does_not_modify_the_record(target):
    record = copy.deepcopy(ORDER)
    orders(target).apply(record)
    assert record == ORDER


# --- digests ------------------------------------------------------------------------


def test_a_digest_is_a_sha256_hex_string(target):
    digest = customers(target).apply(CUSTOMER).profile.digest()
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_digests_do_not_depend_on_field_order():
    a = ProfileWrite("customer_key", "k", {"a": "1", "b": "2"}, None)
    b = ProfileWrite("customer_key", "k", {"b": "2", "a": "1"}, "17")
    assert a.digest() == b.digest()
    sa = SubprofileWrite("Orders", "order_id", "1", {"x": "1", "y": "2"})
    sb = SubprofileWrite("Orders", "order_id", "1", {"y": "2", "x": "1"})
    assert sa.digest() == sb.digest()


def test_digests_are_stable_across_mappings_of_equal_records(target):
    shuffled = dict(reversed(list(ORDER.items())))
    first, second = orders(target).apply(ORDER), orders(target).apply(shuffled)
    assert first.profile.digest() == second.profile.digest()
    assert [s.digest() for s in first.subprofiles] == [s.digest() for s in second.subprofiles]


def test_a_digest_changes_when_a_value_changes(target):
    before = orders(target).apply(ORDER)
    after = orders(target).apply(with_changes(ORDER, status="completed"))
    assert before.profile.digest() == after.profile.digest()
    assert before.subprofiles[0].digest() != after.subprofiles[0].digest()
    assert before.subprofiles[1].digest() == after.subprofiles[1].digest()


def test_a_digest_changes_with_the_key_and_the_collection():
    fields = {"a": "1"}
    base = SubprofileWrite("Orders", "order_id", "1", fields).digest()
    assert SubprofileWrite("Orders", "order_id", "2", fields).digest() != base
    assert SubprofileWrite("Refunds", "order_id", "1", fields).digest() != base


def test_field_boundaries_cannot_collide_in_a_digest():
    a = ProfileWrite("customer_key", "k", {"a": "1,b", "c": "2"})
    b = ProfileWrite("customer_key", "k", {"a": "1", "b,c": "2"})
    assert a.digest() != b.digest()


def test_records_are_mapped_independently_in_bulk(target):
    # A bulk sanity check, not a timing: no state leaks from one record to the next.
    stream = orders(target)
    records = [{**ORDER, "id": i, "billing": {"email": f"p{i}@example.nl"}}
               for i in range(2_000)]
    mapped = [stream.apply(r) for r in records]
    assert len({m.profile.key for m in mapped}) == 2_000
    assert {s.key for s in mapped[7].subprofiles} == {"7", "7-1", "7-2"}
    assert all(m.warnings == () for m in mapped)


def test_a_missing_value_clears_the_field_unless_it_says_keep() -> None:
    stream = StreamMapping("s", ProfileMapping("customer_key", "k", (
        FieldSpec("news", "meta.optin"), FieldSpec("kept", "meta.optin", if_missing="keep"))))
    fields = stream.apply({"k": "x"}).profile.fields
    assert fields["news"] == "" and "kept" not in fields
    assert stream.apply({"k": "x", "meta": {"optin": "1"}}).profile.fields["kept"] == "1"


def test_if_missing_accepts_only_clear_or_keep() -> None:
    with pytest.raises(ConfigError, match=r"fields\.news\.if_missing"):
        parse_target({"database": "D", "streams": {"s": {"profile": {
            "key": "k", "fields": {"news": {"source": "n", "if_missing": "drop"}}}}}})


@pytest.mark.parametrize("value", [5, 4.5, True, ["Customers"], {"name": "Customers"}])
def test_a_target_text_setting_of_the_wrong_type_names_the_type_not_required(value):
    table = minimal()
    table["database"] = value
    table["streams"]["customers"]["collections"] = {
        "Orders": {"key_field": value, "fields": {"order_id": "id"}}}
    problems = config_problems(table)
    database = [p for p in problems if p.startswith("target.database:")]
    key_field = [p for p in problems if ".key_field:" in p]
    assert database and "required" not in database[0] and "must be text" in database[0]
    assert key_field and "required" not in key_field[0] and "must be text" in key_field[0]
    # The value's kind is named; a single value is shown, a list or table is not echoed.
    if isinstance(value, list | dict):
        ending = "got a list" if isinstance(value, list) else "got a table"
    else:
        ending = {5: "got a whole number 5", 4.5: "got a number 4.5"}.get(
            value, "got a boolean true")
    assert database[0].endswith(ending), database[0]


def test_a_missing_target_database_is_still_required():
    table = minimal()
    del table["database"]
    assert any(p.startswith("target.database: required") for p in config_problems(table))


def test_a_bad_field_table_and_a_bad_expression_are_reported_in_one_go():
    """The expressions were compiled only once every table was well-formed: fixing
    one problem revealed the next."""
    table = {"database": "Shop", "streams": {"orders": {
        "profile": {"key": "email | normalize_email",
                    "fields": {"total": "total | nummber:2"}},
        "collections": {"Orders": {"key_field": "order_id", "fields": {
            "order_id": "id", "placed": {"source": "date_created", "type": "datetme"}}}}}}}
    with pytest.raises(ConfigError) as error:
        parse_target(table)
    keys = [problem.split(":")[0] for problem in error.value.problems]
    assert keys == ["target.streams.orders.collections.Orders.fields.placed.type",
                    "target.streams.orders.profile.fields.total"]


@pytest.mark.parametrize(("kind", "values", "low", "high"), [
    ("integer", ["9", "10", "100"], "9", "100"),
    ("float", ["9.5", "10.25", "-2"], "-2", "10.25"),
    ("datetime", ["2024-05-01 10:00:00", "2023-12-31 23:59:59"],
     "2023-12-31 23:59:59", "2024-05-01 10:00:00"),
])
def test_aggregate_min_and_max_compare_numbers_by_value_and_times_as_text(
        kind: str, values: list[str], low: str, high: str) -> None:
    from copernica_sdk.sync.mapping import AggregateMapping, AggregateSpec

    aggregates = AggregateMapping((AggregateSpec("low", "min", "x", kind),
                                   AggregateSpec("high", "max", "x", kind)))
    rows = [{"low": v, "high": v} for v in values]
    assert aggregates.combine(rows) == {"low": low, "high": high}
