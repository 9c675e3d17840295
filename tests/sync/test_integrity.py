"""ListingChecker: the lies it catches and the live-shop churn it lets through."""

from __future__ import annotations

import pytest

from copernica_sdk.sync.errors import ListingInconsistentError, SourceError
from copernica_sdk.sync.integrity import ListingChecker


def _offset_scan(pages: list[tuple[list[int], int]], per_page: int = 3,
                 ordered: bool = True) -> list[int]:
    """Feed ``(keys, announced total)`` pages as an offset scan; the fresh keys read."""
    check = ListingChecker("people", ordered=ordered)
    read: list[int] = []
    offset = 0
    for keys, total in pages:
        verdict = check.page(f"/people?offset={offset}", keys, start=offset, total=total,
                             per_page=per_page, order=keys)
        read += [keys[i] for i in verdict.fresh]
        offset += len(keys)
        if not verdict.more:
            return read
    raise AssertionError("the checker asked for more pages than the test has")


def test_the_error_is_a_source_error() -> None:
    assert issubclass(ListingInconsistentError, SourceError)


def test_a_repeated_page_is_an_error_naming_both_requests() -> None:
    with pytest.raises(ListingInconsistentError, match=r"offset=3.*repeats.*offset=0"):
        _offset_scan([([1, 2, 3], 9), ([1, 2, 3], 9), ([7, 8, 9], 9)])


def test_an_empty_page_before_the_announced_end_is_an_error() -> None:
    with pytest.raises(ListingInconsistentError, match=r"offset=3.*empty page at offset 3"):
        _offset_scan([([1, 2, 3], 9), ([], 9)])


def test_a_short_page_before_the_announced_end_is_an_over_reported_total() -> None:
    with pytest.raises(ListingInconsistentError, match="before the announced 9"):
        _offset_scan([([1, 2, 3], 9), ([4, 5], 9)])


def test_a_page_past_the_announced_total_is_an_under_reported_total() -> None:
    with pytest.raises(ListingInconsistentError, match="only 4"):
        _offset_scan([([1, 2, 3], 4), ([4, 5, 6], 4)])


def test_a_full_last_page_is_probed_and_records_past_it_are_an_under_reported_total() -> None:
    with pytest.raises(ListingInconsistentError, match="after that end still has 2"):
        _offset_scan([([1, 2, 3], 6), ([4, 5, 6], 6), ([7, 8], 6)])


def test_a_full_last_page_followed_by_an_empty_probe_ends_the_listing() -> None:
    assert _offset_scan([([1, 2, 3], 6), ([4, 5, 6], 6), ([], 6)]) == [1, 2, 3, 4, 5, 6]


def test_a_refused_probe_confirms_the_end() -> None:
    check = ListingChecker("users")
    verdict = check.page("/users?page=1", [1, 2], page=0, pages=1, per_page=2)
    assert verdict.more and verdict.probe
    check.probe_refused()
    assert not check.page("/users?page=3", [], page=2, pages=1, per_page=2).more


def test_an_ordered_listing_going_backwards_is_an_error() -> None:
    with pytest.raises(ListingInconsistentError, match="backwards"):
        _offset_scan([([1, 2, 3], 9), ([6, 5, 4], 9)])


def test_an_unordered_listing_may_come_in_any_order() -> None:
    assert _offset_scan([([3, 1, 2], 6), ([6, 5, 4], 6), ([], 6)], ordered=False) == \
        [3, 1, 2, 6, 5, 4]


def test_a_record_served_again_on_a_later_page_is_dropped_not_an_error() -> None:
    # 2 was edited while the listing was read and moved behind the read position.
    assert _offset_scan([([1, 2, 3], 7), ([4, 5, 2], 7), ([6], 7)]) == [1, 2, 3, 4, 5, 6]


def test_a_total_that_grows_while_the_listing_is_read_is_followed() -> None:
    assert _offset_scan([([1, 2, 3], 6), ([4, 5, 6], 8), ([7, 8], 8)]) == list(range(1, 9))


def test_a_page_read_again_after_the_total_shrank_is_not_a_repeat() -> None:
    check = ListingChecker("people")
    check.page("/p?offset=0", [1, 2, 3], start=0, total=9, per_page=3)
    # Three records were deleted: the reader steps back and reads the same page.
    verdict = check.page("/p?offset=0", [1, 2, 3], start=0, total=6, per_page=3)
    assert verdict.fresh == () and verdict.more


def test_a_cursor_listing_ends_where_its_cursor_says_and_a_total_only_cross_checks() -> None:
    check = ListingChecker("orders", ordered=True)
    assert check.page("/o", [1, 2], order=[1, 2], has_next=True).more
    assert not check.page("/o?after=2", [3], order=[3], has_next=False).more
    with pytest.raises(ListingInconsistentError, match="empty page"):
        ListingChecker("orders").page("/o", [], start=0, total=5, has_next=False)


def test_without_a_total_a_short_or_empty_page_ends_the_listing() -> None:
    check = ListingChecker("people")
    assert check.page("/p?offset=0", [1, 2, 3], per_page=3).more
    assert not check.page("/p?offset=3", [4], per_page=3).more


def test_a_read_again_yields_only_what_the_first_read_missed() -> None:
    first = ListingChecker("people", ordered=True)
    first.page("/p?offset=0", [1, 2, 3], start=0, total=6, per_page=3, order=[1, 2, 3])
    # 2 moved behind the read position: 4 shifted back onto offset 2 and was skipped.
    first.page("/p?offset=3", [5, 6, 2], start=3, total=6, per_page=3, order=[5, 6, 7])
    assert first.duplicates == 1
    again = first.again()
    verdict = again.page("/p?offset=0", [1, 3, 4], start=0, total=6, per_page=3,
                         order=[1, 3, 4])
    assert verdict.fresh == (2,)


def test_records_added_just_before_the_probe_are_growth_not_a_lie() -> None:
    # The last page was exactly full; a customer registered before the probe, whose
    # answer counts it.
    assert _offset_scan([([1, 2, 3], 6), ([4, 5, 6], 6), ([7], 7)]) == list(range(1, 8))


def test_a_server_that_caps_the_page_size_is_not_a_short_page() -> None:
    # Asked for 5 a page, the API serves 3 on every page: its cap, not a lie.
    assert _offset_scan([([1, 2, 3], 7), ([4, 5, 6], 7), ([7], 7)], per_page=5) == \
        list(range(1, 8))


def test_a_page_shorter_than_the_earlier_ones_before_the_end_is_still_a_lie() -> None:
    with pytest.raises(ListingInconsistentError, match="short page"):
        _offset_scan([([1, 2, 3], 9), ([4, 5], 9)], per_page=5)


def test_with_an_exact_page_size_a_short_first_page_before_the_end_is_a_lie() -> None:
    check = ListingChecker("orders", exact_page_size=True)
    with pytest.raises(ListingInconsistentError, match=r"short page \(3 of 5"):
        check.page("/o?offset=0", [1, 2, 3], start=0, total=9, per_page=5)
    # Without it the first page sets the size (the API may cap it).
    assert ListingChecker("orders").page("/o?offset=0", [1, 2, 3], start=0, total=9,
                                         per_page=5).more


def test_a_total_that_shrinks_means_records_moved() -> None:
    check = ListingChecker("people")
    check.page("/p?offset=0", [1, 2, 3], start=0, total=9, per_page=3)
    assert not check.moved
    check.page("/p?offset=3", [5, 6, 7], start=3, total=8, per_page=3)
    assert check.moved and check.duplicates == 0


def test_a_key_that_cannot_be_hashed_or_compared_is_no_crash() -> None:
    """A source that sends `"id": [1]` or ids of mixed types: the records are theirs to
    dead-letter; the checks go on (they raised TypeError, a traceback)."""
    check = ListingChecker("users", ordered=True)
    verdict = check.page("p1", [[1], {"a": 1}, 3], order=[[1], {"a": 1}, 3], start=0,
                         total=5, per_page=3)
    assert verdict.fresh == (0, 1, 2) and verdict.more
    verdict = check.page("p2", ["x", 4], order=["x", 4], start=3, total=5, per_page=3)
    assert verdict.fresh == (0, 1) and not verdict.more
    repeated = ListingChecker("users")
    repeated.page("a", [[1], [2]], start=0, per_page=2)
    with pytest.raises(ListingInconsistentError, match="repeats"):  # still detected
        repeated.page("b", [[1], [2]], start=2, per_page=2)


def test_tuple_keys_kept_compactly_still_match_exactly_the_keys_equal_to_them() -> None:
    """Tuple keys (an order's ``(id, (modified, id))``) are kept as one bytes object
    each (the checker holds every key until the listing ends: issue 12, target 7);
    keys that are equal in Python stay one key, and unequal ones stay apart."""
    check = ListingChecker("orders")
    check.page("p1", [(7, ("2025-01-01", 7)), ("a", "b"), (1, None), b"(i1;)"],
               start=0, total=9, per_page=4)
    verdict = check.page("p2", [
        (7.0, ("2025-01-01", True * 7)),  # equal to (7, ("2025-01-01", 7)): seen
        ("ab",), ("a", ("b",)),  # not equal to ("a", "b")
        (1.0, None),  # a tuple that cannot be spelled, equal to (1, None): seen
    ], start=4, total=9, per_page=4)
    assert verdict.fresh == (1, 2)
    verdict = check.page("p3", [(1,)], start=8, total=9, per_page=4)  # not the bytes b"(i1;)"
    assert verdict.fresh == (0,) and check.duplicates == 2
    repeated = ListingChecker("orders")
    repeated.page("a", [(1, ("x", 1)), (2, ("y", 2))], start=0, per_page=2)
    with pytest.raises(ListingInconsistentError, match="repeats"):
        repeated.page("b", [(True, ("x", 1.0)), (2, ("y", 2))], start=2, per_page=2)
