"""``state show`` makes profile keys several source records share findable."""

from __future__ import annotations

from .conftest import Project, ok


def test_state_show_lists_profile_keys_that_two_accounts_share(ready: Project) -> None:
    first = ready.shop.add_customer(email="Author.One@Example.com", first_name="Imported")
    second = ready.shop.add_customer(email="author.one@example.com", first_name="Author")
    ok(ready.invoke("run"))
    shown = ok(ready.invoke("state", "show")).stdout
    assert "  shared_profile_keys: 1\n" in shown
    ids = ", ".join(sorted([str(first), str(second)]))
    assert f"  shared author.one@example.com: woocommerce ids {ids}\n" in shown


def test_state_show_says_no_key_is_shared_when_none_is(ready: Project) -> None:
    ok(ready.invoke("run"))
    assert "  shared_profile_keys: 0\n" in ok(ready.invoke("state", "show")).stdout
