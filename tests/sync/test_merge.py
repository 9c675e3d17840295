"""The one deep merge, used by config layering and mapping defaults."""

from __future__ import annotations

from typing import Any

from copernica_sdk.sync.merge import DELETE, deep_merge, merge_values


def test_tables_merge_key_by_key_and_values_replace() -> None:
    base = {"a": 1, "t": {"x": 1, "y": {"deep": 1}}, "keep": "k"}
    over = {"a": 2, "t": {"y": {"more": 2}}, "new": [1]}
    assert deep_merge(base, over) == {"a": 2, "t": {"x": 1, "y": {"deep": 1, "more": 2}},
                                      "keep": "k", "new": [1]}
    assert base == {"a": 1, "t": {"x": 1, "y": {"deep": 1}}, "keep": "k"}  # untouched


def test_none_keeps_what_is_below_and_delete_removes() -> None:
    assert deep_merge({"a": 1, "b": 2}, {"a": None, "b": DELETE, "c": None}) == {"a": 1, "c": None}


def test_adapt_rewrites_shorthands_before_merging() -> None:
    def adapt(path: tuple[str, ...], old: Any, new: Any) -> tuple[Any, Any]:
        if isinstance(old, str) and isinstance(new, dict):
            return {"source": old}, new
        return old, DELETE if new is False else new

    merged = deep_merge({"f": "email", "g": 1}, {"f": {"type": "email"}, "g": False}, adapt=adapt)
    assert merged == {"f": {"source": "email", "type": "email"}}


def test_merge_values_takes_a_non_table_on_top() -> None:
    assert merge_values({"a": 1}, "text") == "text"
    assert merge_values({"a": 1}, None) == {"a": 1}
