"""The real service's documented behaviour and quirks (docs/copernica-api-notes.md §1, §5, §6), one per test."""

from __future__ import annotations

from typing import Any

import pytest
import zeep

from copernica_sdk.testing.fake_copernica import FakeCopernica


def _profile(kit: Any, db: int, **fields: str) -> int:
    return int(kit.call("Database_createProfile", id=db, fields=kit.pairs(**fields)).profile.id)


def _search(kit: Any, db: int, *conditions: tuple[Any, ...], **extra: Any) -> Any:
    return kit.call("Database_searchProfiles", id=db, requirements=kit.reqs(*conditions), **extra)


def _ids(page: Any, element: str = "profile") -> list[int]:
    return [item.id for item in (page["items"][element] if page["items"] else [])]


def _upsert(
    kit: Any, db: int, conditions: list[tuple[Any, ...]], create: bool = True, **fields: str
) -> Any:
    return kit.call(
        "Database_updateProfiles",
        id=db,
        requirements=kit.reqs(*conditions),
        fields=kit.pairs(**fields),
        create=create,
        allproperties=True,
    )


# ----------------------------------------------------------------- requirements


def test_requirement_on_unknown_field_is_silently_ignored(kit: Any) -> None:
    db = kit.seed_shop()
    ids = [_profile(kit, db, customer_id=f"c{i}") for i in range(3)]
    assert _ids(_search(kit, db, ("no_such_field", "x"))) == ids


def test_update_profiles_whose_only_requirement_is_unknown_overwrites_every_profile(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    for i in range(3):
        _profile(kit, db, customer_id=f"c{i}", email=f"p{i}@example.com")
    _upsert(kit, db, [("customerid_typo", "c1")], email="oops@example.com")
    assert {p["fields"]["email"] for p in fake.profiles("Shop")} == {"oops@example.com"}


def test_field_names_in_requirements_match_case_insensitively(kit: Any) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="c1")
    _profile(kit, db, customer_id="c2")
    assert _ids(_search(kit, db, ("CUSTOMER_ID", "c1"))) == [pid]


def test_case_insensitive_comparison_casefolds_values(kit: Any) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="STRASSE")
    assert _ids(_search(kit, db, ("customer_id", "straße", "=", False))) == [pid]


def test_casesensitive_requirement_compares_exactly(kit: Any) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="Abc")
    assert _ids(_search(kit, db, ("customer_id", "abc", "=", True))) == []


def test_casesensitive_defaults_to_false(kit: Any) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="Abc")
    assert _ids(_search(kit, db, ("customer_id", "ABC"))) == [pid]


def test_requirements_are_anded(kit: Any) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1", email="a@example.com")
    both = _profile(kit, db, customer_id="c1", email="b@example.com")
    assert _ids(_search(kit, db, ("customer_id", "c1"), ("email", "b@example.com"))) == [both]


def test_not_equal_operator_excludes_matches(kit: Any) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1")
    other = _profile(kit, db, customer_id="c2")
    assert _ids(_search(kit, db, ("customer_id", "c1", "!="))) == [other]


def test_an_operator_copernica_does_not_take_is_a_client_fault(kit: Any) -> None:
    db = kit.seed_shop()
    with pytest.raises(zeep.exceptions.Fault, match=r"^Invalid operator$"):
        _search(kit, db, ("customer_id", "c1", "LIKE"))


def test_ordered_operators_compare_numbers_on_integer_fields(kit: Any) -> None:
    # Copernica's REST operators on the same backend; unverified on SOAP (docs/sdk.md).
    db = kit.seed_shop()
    _profile(kit, db, age="9")
    old = _profile(kit, db, age="10")
    assert _ids(_search(kit, db, ("age", "9", ">"))) == [old]


def test_integer_requirements_compare_numbers(kit: Any) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, age="7")
    assert _ids(_search(kit, db, ("age", "007"))) == [pid]


def test_search_orders_by_a_field_descending(kit: Any) -> None:
    db = kit.seed_shop()
    young = _profile(kit, db, age="9")
    old = _profile(kit, db, age="10")
    assert _ids(_search(kit, db, order="age", asc=False)) == [old, young]


# ----------------------------------------------------------------------- paging


def test_length_absent_returns_everything_from_start(kit: Any) -> None:
    db = kit.seed_shop()
    ids = [_profile(kit, db, customer_id=f"c{i}") for i in range(5)]
    page = _search(kit, db, start=2)
    assert (page.start, page.length, page.total) == (2, 3, 5)
    assert _ids(page) == ids[2:]


def test_start_and_length_page_through_results(kit: Any) -> None:
    db = kit.seed_shop()
    ids = [_profile(kit, db, customer_id=f"c{i}") for i in range(5)]
    page = _search(kit, db, start=1, length=2)
    assert (page.length, page.total, _ids(page)) == (2, 5, ids[1:3])


def test_fields_are_returned_only_with_allproperties(kit: Any) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1")
    plain = _search(kit, db)["items"]["profile"][0]
    full = _search(kit, db, allproperties=True)["items"]["profile"][0]
    assert plain.fields is None
    assert kit.as_map(full.fields)["customer_id"] == "c1"


# -------------------------------------------------------------- not found / lookups


def test_lookup_of_unknown_database_name_is_an_empty_result(kit: Any) -> None:
    assert kit.call("Account_database", identifier="Nope") is None


def test_lookup_by_name_or_numeric_id(kit: Any) -> None:
    db = kit.seed_shop()
    assert kit.call("Account_database", identifier="shop").database.id == db
    assert kit.call("Account_database", identifier=str(db)).database.name == "Shop"


def test_field_and_collection_lookups_accept_name_or_id(kit: Any) -> None:
    db = kit.seed_shop()
    field = kit.call("Database_field", id=db, identifier="Customer_ID").field
    assert kit.call("Database_field", id=db, identifier=str(field.id)).field.name == "customer_id"
    coll = kit.call("Database_collection", id=db, identifier="orders").collection
    assert (
        kit.call("Database_collection", id=db, identifier=str(coll.id)).collection.name == "Orders"
    )
    assert kit.call("Collection_field", id=coll.id, identifier="nope") is None


@pytest.mark.parametrize(
    ("operation", "entity"),
    [
        ("Profile_retrieve", "profile"),
        ("SubProfile_retrieve", "subprofile"),
        ("Database_retrieve", "database"),
        ("Collection_retrieve", "collection"),
    ],
)
def test_unknown_object_id_is_a_client_fault(kit: Any, operation: str, entity: str) -> None:
    with pytest.raises(zeep.exceptions.Fault) as info:
        kit.call(operation, id=4242)
    assert info.value.message == f"No {entity} with id 4242"
    assert info.value.code == "SOAP-ENV:Client"


# ------------------------------------------------------------------- updateProfiles


def test_update_profiles_creates_with_requirement_values_plus_fields(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    result = _upsert(kit, db, [("customer_id", "c1", "=", True)], email="a@example.com")
    assert result.total == 1
    [profile] = fake.profiles("Shop")
    assert profile["fields"]["customer_id"] == "c1"
    assert profile["fields"]["email"] == "a@example.com"


def test_update_profiles_updates_the_match_instead_of_creating(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="c1")
    result = _upsert(kit, db, [("customer_id", "c1")], email="new@example.com")
    assert _ids(result) == [pid]
    assert [p["fields"]["email"] for p in fake.profiles("Shop")] == ["new@example.com"]


def test_update_profiles_without_create_creates_nothing(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    result = _upsert(kit, db, [("customer_id", "c1")], create=False, email="a@example.com")
    assert result.total == 0 and fake.profiles("Shop") == []


def test_update_profiles_returns_items_with_fields_when_allproperties(kit: Any) -> None:
    db = kit.seed_shop()
    item = _upsert(kit, db, [("customer_id", "c1")], email="a@example.com")["items"]["profile"][0]
    assert kit.as_map(item.fields)["email"] == "a@example.com"


@pytest.mark.copernica_fake(updateprofiles_returns_items=False)
def test_update_profiles_can_be_set_to_return_an_empty_collection(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    result = _upsert(kit, db, [("customer_id", "c1")], email="a@example.com")
    assert result.total == 0 and _ids(result) == []
    assert len(fake.profiles("Shop")) == 1


def test_invalid_value_in_update_profiles_is_a_fault_and_changes_nothing(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1", age="1")
    with pytest.raises(zeep.exceptions.Fault) as info:
        _upsert(kit, db, [("customer_id", "c1")], age="old", email="x@example.com")
    assert info.value.message == "Invalid value 'old' for field 'age' (type integer)"
    assert fake.profiles("Shop")[0]["fields"]["email"] == ""


def test_invalid_value_in_create_profile_is_a_fault(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    with pytest.raises(
        zeep.exceptions.Fault, match="Invalid value 'not-an-email' for field 'email'"
    ):
        _profile(kit, db, email="not-an-email")
    assert fake.profiles("Shop") == []


def test_unknown_keys_in_a_fields_map_are_ignored(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1", nonsense="x")
    assert set(fake.profiles("Shop")[0]["fields"]) == {"customer_id", "email", "age"}


def test_fields_map_keys_match_case_insensitively(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db, CUSTOMER_ID="c1")
    assert fake.profiles("Shop")[0]["fields"]["customer_id"] == "c1"


def test_text_longer_than_the_field_length_is_truncated(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="x" * 80)
    assert fake.profiles("Shop")[0]["fields"]["customer_id"] == "x" * 50


def test_big_fields_are_not_truncated(kit: Any, fake: FakeCopernica) -> None:
    fake.create_database("Notes", {"body": "big"})
    db = kit.call("Account_database", identifier="Notes").database.id
    _profile(kit, db, body="y" * 500)
    assert len(fake.profiles("Notes")[0]["fields"]["body"]) == 500


# ---------------------------------------------------------------- updateFields


def test_update_fields_returns_true_on_success(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="c1")
    assert kit.call("Profile_updateFields", id=pid, fields=kit.pairs(age="30")).value == "1"
    assert fake.profiles("Shop")[0]["fields"]["age"] == "30"


def test_update_fields_returns_false_on_a_constraint_failure_and_changes_nothing(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    pid = _profile(kit, db, customer_id="c1")
    result = kit.call(
        "Profile_updateFields", id=pid, fields=kit.pairs(customer_id="c2", age="thirty")
    )
    assert result.value is None  # empty <value/>: PHP false
    assert fake.profiles("Shop")[0]["fields"]["customer_id"] == "c1"


def test_subprofile_update_fields_returns_false_on_a_constraint_failure(kit: Any) -> None:
    fake = kit.fake
    fake.create_database("Dates", {}, {"Events": {"day": "date"}})
    db = kit.call("Account_database", identifier="Dates").database.id
    coll = kit.call("Database_collection", id=db, identifier="Events").collection.id
    pid = _profile(kit, db)
    sid = kit.call(
        "Profile_createSubProfile",
        id=pid,
        collection={"id": coll},
        fields=kit.pairs(day="2024-01-31"),
    ).subprofile.id
    assert (
        kit.call("SubProfile_updateFields", id=sid, fields=kit.pairs(day="2024-02-31")).value
        is None
    )
    assert fake.subprofiles("Events")[0]["fields"]["day"] == "2024-01-31"


# ------------------------------------------------------------------ names / schema


def test_duplicate_database_name_is_a_fault_case_insensitively(kit: Any) -> None:
    kit.seed_shop()
    with pytest.raises(zeep.exceptions.Fault, match="already exists"):
        kit.call("Account_createDatabase", name="SHOP")


def test_duplicate_field_name_is_a_fault(kit: Any) -> None:
    db = kit.seed_shop()
    with pytest.raises(zeep.exceptions.Fault, match="Field 'Email' already exists"):
        kit.call("Database_createField", id=db, name="Email", type="email")


def test_duplicate_collection_name_is_a_fault(kit: Any) -> None:
    db = kit.seed_shop()
    with pytest.raises(zeep.exceptions.Fault, match="already exists"):
        kit.call("Database_createCollection", id=db, name="orders")


def test_unknown_field_type_is_a_fault(kit: Any) -> None:
    db = kit.seed_shop()
    with pytest.raises(zeep.exceptions.Fault, match="Invalid field type 'colour'"):
        kit.call("Database_createField", id=db, name="c", type="colour")


def test_new_field_gives_existing_profiles_its_default(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1")
    kit.call("Database_createField", id=db, name="country_code", type="text", value="NL")
    assert fake.profiles("Shop")[0]["fields"]["country_code"] == "NL"


def test_field_update_renames_without_losing_values(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db, customer_id="c1")
    field_id = kit.call("Database_field", id=db, identifier="customer_id").field.id
    kit.call("Field_update", id=field_id, name="external_id")
    assert fake.profiles("Shop")[0]["fields"]["external_id"] == "c1"
    assert _ids(_search(kit, db, ("external_id", "c1"))) == [fake.profiles("Shop")[0]["id"]]


# -------------------------------------------------------------- profiles & merging


def test_profile_move_gives_the_source_subprofiles_to_the_target_and_removes_it(
    kit: Any, fake: FakeCopernica
) -> None:
    db = kit.seed_shop()
    coll = kit.call("Database_collection", id=db, identifier="Orders").collection.id
    target, source = _profile(kit, db, customer_id="keep"), _profile(kit, db, customer_id="dup")
    kit.call(
        "Profile_createSubProfile",
        id=source,
        collection={"id": coll},
        fields=kit.pairs(order_id="o1"),
    )
    assert kit.call("Profile_move", id=target, profile={"id": source}).value == "1"
    assert [p["id"] for p in fake.profiles("Shop")] == [target]
    assert [s["profile"] for s in fake.subprofiles("Orders")] == [target]


def test_remove_profiles_removes_by_ids(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    ids = [_profile(kit, db, customer_id=f"c{i}") for i in range(3)]
    kit.call("Database_removeProfiles", id=db, ids={"item": ids[:2]})
    assert [p["id"] for p in fake.profiles("Shop")] == ids[2:]


def test_profile_remove_removes_its_subprofiles(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    coll = kit.call("Database_collection", id=db, identifier="Orders").collection.id
    pid = _profile(kit, db)
    kit.call(
        "Profile_createSubProfile", id=pid, collection={"id": coll}, fields=kit.pairs(order_id="o1")
    )
    kit.call("Profile_remove", id=pid)
    assert fake.subprofiles("Orders") == []


def test_view_update_profiles_reports_that_views_do_not_exist(kit: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault, match=r"^No view with id 3$"):
        kit.call("View_updateProfiles", id=3, requirements=kit.reqs(), fields=kit.pairs())


# ------------------------------------------------------------------ subprofiles


def _orders(kit: Any) -> tuple[int, int, int]:
    db = kit.seed_shop()
    coll = kit.call("Database_collection", id=db, identifier="Orders").collection.id
    return db, coll, _profile(kit, db, customer_id="c1")


def _upsert_order(kit: Any, pid: int, coll: int, order_id: str, **fields: str) -> Any:
    return kit.call(
        "Profile_updateSubProfiles",
        id=pid,
        collection={"id": coll},
        requirements=kit.reqs(("order_id", order_id)),
        fields=kit.pairs(**fields),
        create=True,
    )


def test_update_subprofiles_creates_then_updates_by_key(kit: Any, fake: FakeCopernica) -> None:
    _, coll, pid = _orders(kit)
    _upsert_order(kit, pid, coll, "o1", status="new")
    _upsert_order(kit, pid, coll, "o1", status="paid")
    subs = fake.subprofiles("Orders")
    assert [(s["fields"]["order_id"], s["fields"]["status"]) for s in subs] == [("o1", "paid")]
    assert fake.subprofile_duplicates("Orders", "order_id") == {}


def test_update_subprofiles_is_scoped_to_one_profile(kit: Any, fake: FakeCopernica) -> None:
    db, coll, pid = _orders(kit)
    other = _profile(kit, db, customer_id="c2")
    _upsert_order(kit, pid, coll, "o1", status="new")
    _upsert_order(kit, other, coll, "o1", status="new")
    assert len(fake.subprofiles("Orders")) == 2


def test_search_subprofiles_of_a_collection(kit: Any) -> None:
    _, coll, pid = _orders(kit)
    _upsert_order(kit, pid, coll, "o1", status="paid")
    _upsert_order(kit, pid, coll, "o2", status="new")
    page = kit.call(
        "Collection_searchSubProfiles",
        id=coll,
        requirements=kit.reqs(("status", "PAID")),
        allproperties=True,
    )
    assert [kit.as_map(s.fields)["order_id"] for s in page["items"]["subprofile"]] == ["o1"]


def test_subprofile_move_to_profile(kit: Any, fake: FakeCopernica) -> None:
    db, coll, pid = _orders(kit)
    other = _profile(kit, db, customer_id="c2")
    sid = _upsert_order(kit, pid, coll, "o1")["items"]["subprofile"][0].id
    kit.call("SubProfile_moveToProfile", id=sid, profile={"id": other})
    assert fake.subprofiles("Orders")[0]["profile"] == other


def test_collection_remove_subprofiles_by_ids(kit: Any, fake: FakeCopernica) -> None:
    _, coll, pid = _orders(kit)
    sid = _upsert_order(kit, pid, coll, "o1")["items"]["subprofile"][0].id
    _upsert_order(kit, pid, coll, "o2")
    kit.call("Collection_removeSubProfiles", id=coll, ids={"item": [sid]})
    assert [s["fields"]["order_id"] for s in fake.subprofiles("Orders")] == ["o2"]


# ----------------------------------------------------- callbacks and unsubscribe


def test_callbacks_are_stored_and_listed(kit: Any) -> None:
    db = kit.seed_shop()
    kit.call(
        "Database_createCallback",
        id=db,
        url="https://example.com/hook",
        expression="profile.x == 1;",
    )
    [callback] = kit.call("Database_callbacks", id=db)["items"]["callback"]
    assert (callback.url, callback.method, callback.expression) == (
        "https://example.com/hook",
        "json",
        "profile.x == 1;",
    )


def test_unsubscribe_values_are_stored_and_returned(kit: Any) -> None:
    db = kit.seed_shop()
    kit.call("Database_setUnsubscribeValues", id=db, fields=kit.pairs(email="", unknown="x"))
    assert kit.as_map(kit.call("Database_unsubscribeValues", id=db).map) == {"email": ""}


def test_database_update_sets_unsubscribe_behaviour(kit: Any) -> None:
    db = kit.seed_shop()
    kit.call("Database_update", id=db, unsubscribebehavior="update")
    assert kit.call("Database_retrieve", id=db).database.unsubscribebehavior == "update"


# -------------------------------------------------------------- inspection helpers


def test_duplicates_lists_keys_held_by_several_profiles(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    a, b = _profile(kit, db, customer_id="k"), _profile(kit, db, customer_id="k")
    _profile(kit, db, customer_id="unique")
    assert fake.duplicates("Shop", "customer_id") == {"k": [a, b]}


def test_create_database_helper_rejects_an_invalid_field_type_atomically(
    fake: FakeCopernica,
) -> None:
    with pytest.raises(ValueError, match="Invalid field type"):
        fake.create_database("Bad", {"x": "colour"})
    with pytest.raises(KeyError):
        fake.profiles("Bad")


def test_profiles_get_increasing_ids_and_32_hex_codes(kit: Any, fake: FakeCopernica) -> None:
    db = kit.seed_shop()
    _profile(kit, db)
    _profile(kit, db)
    first, second = fake.profiles("Shop")
    assert second["id"] > first["id"]
    assert all(len(p["code"]) == 32 and int(p["code"], 16) >= 0 for p in (first, second))
    assert first["created"][4] == "-" and len(first["created"]) == 19
