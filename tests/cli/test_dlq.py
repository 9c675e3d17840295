"""Dead letters: a record Copernica refuses → exit 1, ``dlq list`` shows why, retry, purge."""

from __future__ import annotations

import re

import pytest

from .conftest import Project, describe, ok

# Copernica checks a "phone" field's values; the default mapping uses a text field.
PHONE_TYPED = {
    "target.streams.customers.profile.fields": {
        "phone": {"source": "billing.phone", "type": "phone"}},
    "target.streams.orders.profile.fields": {
        "phone": {"source": "billing.phone", "type": "phone"}},
}
BAD_PHONE = "call me maybe"


@pytest.fixture
def phone_typed(project: Project) -> Project:
    """Schema applied with a ``phone``-typed phone field; one customer's phone is not one."""
    project.write(project.tables(**PHONE_TYPED))
    ok(project.invoke("schema", "apply"))
    project.shop.update_customer(project.shop.customers[0]["id"], billing={"phone": BAD_PHONE})
    return project


@pytest.fixture
def dead_letter(phone_typed: Project) -> tuple[Project, int]:
    """A first run that dead-lettered the customer whose phone Copernica refuses."""
    result = phone_typed.run("run")
    assert result.returncode == 1, describe(result)
    return phone_typed, phone_typed.shop.customers[0]["id"]


def test_a_record_refused_by_a_type_check_exits_1_and_is_listed_with_the_reason(
        dead_letter: tuple[Project, int]) -> None:
    project, customer = dead_letter
    listed = ok(project.invoke("dlq", "list"))
    lines = listed.stdout.splitlines()
    assert len(lines) == 1, listed.stdout
    assert re.match(rf"\[default\] #\d+ customers {customer} \(open, \S+\): ", lines[0])
    assert f"Invalid value '{BAD_PHONE}' for field 'phone' (type phone)" in lines[0]


def test_the_run_summary_counts_the_dead_letter(phone_typed: Project) -> None:
    result = phone_typed.invoke("run")
    assert result.exit_code == 1, describe(result)
    assert re.search(r"^customers: read \d+, written \d+ .*dead-lettered 1", result.stdout,
                     re.MULTILINE)


def test_quiet_run_with_dead_letters_still_says_so(phone_typed: Project) -> None:
    result = phone_typed.run("-q", "run")
    assert result.returncode == 1, describe(result)
    assert "dead-letter" in result.stderr and "dlq list" in result.stderr


def test_dlq_list_payload_prints_the_record_as_json(dead_letter: tuple[Project, int]) -> None:
    project, customer = dead_letter
    listed = ok(project.invoke("dlq", "list", "--payload"))
    assert f'"id": {customer}' in listed.stdout and BAD_PHONE in listed.stdout
    assert project.shop.consumer_secret not in listed.output


def test_dlq_list_filters_by_stream(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    assert ok(project.invoke("dlq", "list", "--stream", "orders")).stdout \
        == "[default] no dead letters\n"


def test_a_rerun_does_not_duplicate_an_open_dead_letter(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    assert project.run("run").returncode == 1
    listed = ok(project.invoke("dlq", "list"))
    assert len(listed.stdout.splitlines()) == 1, listed.stdout


def test_dlq_retry_after_fixing_the_data_resolves_the_letter(
        dead_letter: tuple[Project, int]) -> None:
    project, customer = dead_letter
    # `dlq retry` resends the stored record, so the fix is in the mapping: drop the field.
    tables = project.tables(**{
        "target.streams.customers.profile.fields": {"phone": False},
        "target.streams.orders.profile.fields": {"phone": False}})
    project.write(tables)
    retried = ok(project.invoke("dlq", "retry"))
    assert "[default] customers: retried 1, synced 1, still failing 0" in retried.stdout
    assert ok(project.invoke("dlq", "list")).stdout == "[default] no dead letters\n"
    everything = ok(project.invoke("dlq", "list", "--all-statuses")).stdout
    assert f"customers {customer} (resolved" in everything


def test_dlq_retry_that_still_fails_keeps_the_letter_open(
        dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    retried = project.invoke("dlq", "retry")
    assert "customers: retried 1, synced 0, still failing 1" in retried.stdout, describe(retried)
    assert "(open" in ok(project.invoke("dlq", "list")).stdout


def test_dlq_purge_yes_deletes_the_letters(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    purged = ok(project.invoke("dlq", "purge", "--yes"))
    assert purged.stdout == "[default] purged 1 dead letter(s)\n"
    assert ok(project.invoke("dlq", "list", "--all-statuses")).stdout \
        == "[default] no dead letters\n"


def test_dlq_purge_asks_first_and_no_keeps_them(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    result = project.invoke("dlq", "purge", input="n\n")
    assert result.exit_code == 0, describe(result)
    assert "delete these dead letters for good?" in result.stdout
    assert "(open" in ok(project.invoke("dlq", "list")).stdout


def test_dlq_purge_by_id(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    letter = re.search(r"#(\d+)", ok(project.invoke("dlq", "list")).stdout)
    assert letter
    assert ok(project.invoke("dlq", "purge", "--id", "999999", "--yes")).stdout \
        == "[default] purged 0 dead letter(s)\n"
    assert ok(project.invoke("dlq", "purge", "--id", letter[1], "--yes")).stdout \
        == "[default] purged 1 dead letter(s)\n"


def test_dlq_list_with_no_state_yet(ready: Project) -> None:
    result = ok(ready.invoke("dlq", "list"))
    assert result.stdout == "[default] no dead letters\n"


def test_dlq_retry_that_still_fails_exits_1(dead_letter: tuple[Project, int]) -> None:
    project, _ = dead_letter
    assert project.invoke("dlq", "retry").exit_code == 1


def test_a_record_fixed_in_the_shop_is_resolved_by_the_next_run(
        dead_letter: tuple[Project, int]) -> None:
    project, customer = dead_letter
    project.shop.advance(60)
    project.shop.update_customer(customer, billing={"phone": "+31 6 12345678"})
    result = project.invoke("run")
    assert result.exit_code == 0, describe(result)
    assert ok(project.invoke("dlq", "list")).stdout == "[default] no dead letters\n"
