"""``schema plan`` / ``schema apply`` and ``check``."""

from __future__ import annotations

from .conftest import Project, describe, ok

PHONE_TYPED = {"target.streams.customers.profile.fields": {
                   "phone": {"source": "billing.phone", "type": "phone"}},
               "target.streams.orders.profile.fields": {
                   "phone": {"source": "billing.phone", "type": "phone"}}}


def test_plan_lists_what_apply_would_create_and_changes_nothing(project: Project) -> None:
    result = ok(project.invoke("schema", "plan"))
    assert "[default] database 'Customers':" in result.stdout
    assert "+ create database Customers" in result.stdout
    assert "+ create field Customers.customer_key (text, length 255, indexed)" in result.stdout
    assert "+ create collection Customers.Orders" in result.stdout
    assert "run `copernica-sync schema apply`" in result.stdout
    assert project.copernica.write_calls() == 0


def test_apply_then_plan_says_up_to_date(project: Project) -> None:
    planned = ok(project.invoke("schema", "plan")).stdout
    changes = planned.count("\n+ ")
    applied = ok(project.invoke("schema", "apply"))
    assert f"applied {changes} change(s)" in applied.stdout
    again = ok(project.invoke("schema", "plan"))
    assert "database 'Customers' is up to date" in again.stdout
    assert "+ create" not in again.stdout


def test_apply_twice_changes_nothing_the_second_time(ready: Project) -> None:
    ready.copernica.reset_calls()
    result = ok(ready.invoke("schema", "apply"))
    assert "up to date" in result.stdout and "applied" not in result.stdout
    assert ready.copernica.write_calls() == 0


def test_apply_honours_a_target_database_override(project: Project) -> None:
    project.write(project.tables(target={"database": "Klanten"}))
    result = ok(project.invoke("schema", "apply"))
    assert "+ create database Klanten" in result.stdout
    assert "database 'Klanten' is up to date" in ok(project.invoke("schema", "plan")).stdout


def test_check_reports_each_side_and_a_missing_schema(project: Project) -> None:
    result = ok(project.invoke("check"))
    assert result.stdout.splitlines()[:3] == [
        "[default] config: ok",
        "[default] source (woocommerce): ok",
        "[default] Copernica: credentials ok",
    ]
    assert "missing" in result.stdout and "copernica-sync schema plan" in result.stdout


def test_check_after_apply_says_the_schema_is_up_to_date(ready: Project) -> None:
    result = ok(ready.invoke("check"))
    assert result.stdout.splitlines()[-1] == "[default] schema: up to date"


def test_check_makes_no_writes(ready: Project) -> None:
    ready.copernica.reset_calls()
    ok(ready.invoke("check"))
    assert ready.copernica.write_calls() == 0


def test_run_before_schema_apply_says_to_apply_it(project: Project) -> None:
    result = project.invoke("run")
    assert result.exit_code == 2, describe(result)
    assert "target.database" in result.stderr
    assert "copernica-sync schema apply" in result.stderr


def test_a_type_conflict_is_reported_with_the_fix_and_never_retyped(ready: Project) -> None:
    ready.write(ready.tables(**PHONE_TYPED))
    result = ok(ready.invoke("schema", "apply"))
    assert "! Customers.phone is of type 'text' in Copernica but the mapping declares 'phone'" \
        in result.stdout
    assert "change the mapping's type to 'text'" in result.stdout
    checked = ok(ready.invoke("check"))
    assert "[default] schema: 0 missing, 1 conflict(s)" in checked.stdout


def test_a_type_conflict_is_not_called_up_to_date(ready: Project) -> None:
    ready.write(ready.tables(**PHONE_TYPED))
    result = ready.invoke("schema", "plan")
    assert "! Customers.phone" in result.stdout
    assert "up to date" not in result.stdout
