"""Search operators: the typed API, what is verified, and the fake implementing each."""

from __future__ import annotations

import pytest
import responses

from copernica_sdk import (
    CopernicaClient,
    CopernicaError,
    InvalidRequirementError,
    Requirement,
    RetryPolicy,
    UnknownFieldError,
    UnsafeRequestError,
    UnverifiedOperatorError,
)
from copernica_sdk.models import OPERATORS, UNVERIFIED_OPERATORS, VERIFIED_OPERATORS
from copernica_sdk.requirements import equals, not_equals, unverified
from copernica_sdk.testing.fake_copernica import FakeCopernica

from .soapbuild import ENDPOINT, envelope, fields_page, page_xml

NO_WAIT = RetryPolicy(max_attempts=3, sleep=lambda _: None)
PEOPLE = {  # customer_key: (firstname, score, joined)
    "ann": ("Ann", 90, "2024-01-05"),
    "bob": ("Bob", 600, "2024-03-01"),
    "cas": ("Cas", 500, "2023-12-31"),
    "cor": ("cor", 5000, "2024-02-29"),
    "dan": ("Dan", 0, "2025-01-01"),
}


@pytest.fixture
def world(copernica_fake: FakeCopernica):
    copernica_fake.create_database("Customers", {
        "customer_key": {"type": "text", "index": True}, "firstname": "text",
        "score": "integer", "joined": "date"})
    client = CopernicaClient(copernica_fake.token, endpoint=copernica_fake.url, retry=NO_WAIT)
    db = client.databases.get("Customers")
    for key, (name, score, joined) in PEOPLE.items():
        client.profiles.upsert(db, key={"customer_key": key},
                               fields={"firstname": name, "score": score, "joined": joined})
    yield client, db
    client.close()


CASES = [
    (Requirement("firstname", "=", "Ann"), {"ann"}),
    (Requirement("firstname", "==", "Ann"), {"ann"}),
    (Requirement("firstname", "!=", "Ann"), {"bob", "cas", "cor", "dan"}),
    (Requirement("firstname", "<>", "Ann"), {"bob", "cas", "cor", "dan"}),
    (Requirement("firstname", "=", "COR", case_sensitive=False), {"cor"}),
    # numbers compare as numbers on an integer field ("90" > "500" as text)
    (Requirement("score", ">", 500, unverified=True), {"bob", "cor"}),
    (Requirement("score", "<", 500, unverified=True), {"ann", "dan"}),
    (Requirement("score", ">=", 500, unverified=True), {"bob", "cas", "cor"}),
    (Requirement("score", "<=", 500, unverified=True), {"ann", "cas", "dan"}),
    (Requirement("joined", ">=", "2024-02-01", unverified=True), {"bob", "cor", "dan"}),
    (Requirement("firstname", "=~", "C%", unverified=True), {"cas"}),
    (Requirement("firstname", "=~", "c%", case_sensitive=False, unverified=True),
     {"cas", "cor"}),
    (Requirement("firstname", "=~", "_o_", unverified=True), {"bob", "cor"}),
    (Requirement("firstname", "!~", "C%", unverified=True), {"ann", "bob", "cor", "dan"}),
]


@pytest.mark.parametrize(("requirement", "expected"), CASES,
                         ids=[f"{r.field}{r.operator}{r.value}" for r, _ in CASES])
def test_each_operator_selects_what_it_says_against_the_fake(world, requirement, expected):
    client, db = world
    found = {p.fields["customer_key"] for p in client.profiles.list(db, [requirement])}
    assert found == expected


def test_every_operator_has_a_case():
    assert {r.operator for r, _ in CASES} == set(OPERATORS)


def test_requirements_combine_with_and(world):
    client, db = world
    reqs = [unverified.at_least("score", 500), not_equals("firstname", "Bob")]
    assert {p.fields["customer_key"] for p in client.profiles.list(db, reqs)} == {"cas", "cor"}


def test_unverified_operators_need_their_explicit_name():
    assert {"=", "==", "!=", "<>"} == VERIFIED_OPERATORS
    for operator in UNVERIFIED_OPERATORS:
        with pytest.raises(UnverifiedOperatorError, match="not verified on the SOAP API") as err:
            Requirement("score", operator, 500)
        assert isinstance(err.value, CopernicaError) and err.value.operator == operator
        assert Requirement("score", operator, 500, unverified=True).operator == operator


def test_an_unknown_operator_is_a_copernica_error_naming_the_field():
    with pytest.raises(InvalidRequirementError, match=r"'score'.*'LIKE'") as err:
        Requirement("score", "LIKE", "5")
    assert isinstance(err.value, CopernicaError) and not isinstance(err.value, ValueError)


def test_helpers_build_the_same_requirements():
    assert equals("a", 1) == Requirement("a", "=", "1")
    assert not_equals("a", "x", case_sensitive=False) == Requirement("a", "!=", "x",
                                                                      case_sensitive=False)
    pairs = [(unverified.greater_than, ">"), (unverified.less_than, "<"),
             (unverified.at_least, ">="), (unverified.at_most, "<="),
             (unverified.like, "=~"), (unverified.not_like, "!~")]
    for helper, operator in pairs:
        assert helper("a", "5") == Requirement("a", operator, "5", unverified=True)


def test_values_are_sent_as_their_wire_text():
    assert Requirement("score", ">", 500, unverified=True).value == "500"
    assert Requirement("flag", "=", True).value == "1"


def test_rest_spellings_are_sent_as_the_verified_soap_operators():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, ENDPOINT, body=envelope("Database_fields",
                                                         fields_page(["email"])),
                 content_type="text/xml")
        rsps.add(responses.POST, ENDPOINT, body=envelope("Database_searchProfiles",
                                                         page_xml([])),
                 content_type="text/xml")
        with CopernicaClient("t", endpoint=ENDPOINT, retry=NO_WAIT) as client:
            client.profiles.search(1, [Requirement("email", "==", "a"),
                                       Requirement("email", "<>", "b")])
        body = rsps.calls[1].request.body.decode()
    assert "<operator>=</operator>" in body and "<operator>!=</operator>" in body
    assert "==" not in body and "&lt;&gt;" not in body


def test_a_requirement_on_an_unknown_field_is_refused_whatever_its_operator(world):
    client, db = world
    with pytest.raises(UnknownFieldError, match="scor"):
        client.profiles.search(db, [unverified.greater_than("scor", 1)])
    with pytest.raises(UnknownFieldError):
        client.profiles.update_many(db, [unverified.less_than("scor", 1)], {"firstname": "X"})


def test_an_update_that_creates_needs_an_equality_key(world, copernica_fake):
    client, db = world
    with pytest.raises(UnsafeRequestError, match="no '=' requirement"):
        client.profiles.update_many(db, [Requirement("customer_key", "!=", "zzz")],
                                    {"firstname": "X"}, create=True)
    assert len(copernica_fake.profiles("Customers")) == len(PEOPLE)


def test_the_escape_hatch_checks_operators_too(world):
    client, db = world
    with pytest.raises(InvalidRequirementError, match="'LIKE'"):
        client.call("Database_searchProfiles", id=db.id, requirements={"requirement": [
            {"fieldname": "score", "value": "1", "operator": "LIKE"}]})


def test_the_fake_refuses_an_operator_copernica_does_not_take(world):
    client, db = world
    with pytest.raises(CopernicaError, match="Invalid operator"):  # sent past the SDK's check
        client._call("Database_searchProfiles", {"id": db.id, "requirements": {"requirement": [
            {"fieldname": "score", "value": "1", "operator": "LIKE"}]}})
