"""cms_generic listings that lie: the stream fails (exit 5) naming the request, keeps its
bookmark, and an honest run afterwards syncs everything — for the WordPress and Drupal
presets end to end, and for every pagination style at the stream level."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.sync.connector import Connector
from copernica_sdk.sync.engine import SyncOptions
from copernica_sdk.sync.errors import ListingInconsistentError
from copernica_sdk.sync.report import ExitCode
from copernica_sdk.testing._suite_harness import Harness, describe
from copernica_sdk.testing._suite_snapshot import differences, duplicates, snapshot
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic.testing import FakeCms, ListingLies

from ._helpers import NO_SLEEP, connector, preset, preset_source, read_all

CONTACTS = 40
PAGE = 10


def _make(config: Any) -> Connector:
    return GenericCmsConnector(config, policy=NO_SLEEP)


def _harness(name: str, cms: FakeCms, tmp: Path) -> Harness:
    config = preset_source(name, cms.url)
    stream = config["streams"]["users"]
    config["streams"] = {"users": {**stream, "paginate": {**stream["paginate"],
                                                          "page_size": PAGE}}}
    return Harness(_make, config, preset(name)["target"],
                   SyncOptions(lookback=timedelta(0)), tmp)


WORDPRESS_LIES = {
    "repeated_page": (ListingLies(repeat_at=PAGE), "repeats"),
    "empty_page_mid_listing": (ListingLies(empty_at=PAGE), "is empty, before the announced"),
    "over_total": (ListingLies(total_delta=PAGE), "is empty, before the announced"),
    "over_total_by_half_a_page": (ListingLies(total_delta=PAGE // 2), "is empty, before the"),
}

DRUPAL_LIES = {
    "repeated_page": (ListingLies(repeat_at=PAGE), "repeats"),
    "next_link_back_to_the_start": (ListingLies(cursor_back_at=2 * PAGE), "repeats"),
    "order_going_backwards": (ListingLies(reverse_at=PAGE), "backwards"),
}


def _lie_then_honest(h: Harness, cms: FakeCms, lie: ListingLies, says: str,
                     fake: FakeCopernica) -> None:
    with FakeCopernica() as clean:
        h.prepare(clean)
        reference, _ = h.run(clean, h.state_path("clean"))
        assert reference.exit_code is ExitCode.OK, describe(reference)
        expected = snapshot(clean, h.target)
    h.prepare(fake)
    state = h.state_path("lied")
    cms.lies = lie
    failed, _ = h.run(fake, state)
    assert failed.exit_code is ExitCode.UNAVAILABLE, describe(failed)
    error = failed.streams[0].error or ""
    assert "users listing is inconsistent at http://127.0.0.1" in error and says in error, error
    assert "users" not in h.bookmarks(state), "the bookmark moved over a listing that lied"
    cms.lies = None
    honest, _ = h.run(fake, state)
    assert honest.exit_code is ExitCode.OK, describe(honest)
    assert differences(expected, snapshot(fake, h.target)) == []
    assert duplicates(fake, h.target) == []


@pytest.mark.parametrize("name", list(WORDPRESS_LIES))
def test_a_wordpress_listing_that_lies_fails_and_an_honest_run_syncs_every_user(
        tmp_path: Path, copernica_fake: FakeCopernica, name: str) -> None:
    with FakeCms(contacts=CONTACTS) as cms:
        _lie_then_honest(_harness("wordpress", cms, tmp_path), cms, *WORDPRESS_LIES[name],
                         fake=copernica_fake)


@pytest.mark.parametrize("name", list(DRUPAL_LIES))
def test_a_sorted_drupal_listing_that_lies_fails_and_an_honest_run_syncs_every_user(
        tmp_path: Path, copernica_fake: FakeCopernica, name: str) -> None:
    with FakeCms(contacts=CONTACTS) as cms:
        _lie_then_honest(_harness("drupal", cms, tmp_path), cms, *DRUPAL_LIES[name],
                         fake=copernica_fake)


def test_a_sorted_listing_that_lies_in_an_incremental_run_keeps_its_bookmark(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    with FakeCms(contacts=CONTACTS) as cms:
        h = _harness("drupal", cms, tmp_path)
        h.prepare(copernica_fake)
        state = h.state_path("incremental")
        first, _ = h.run(copernica_fake, state)
        assert first.exit_code is ExitCode.OK, describe(first)
        before = h.bookmarks(state)["users"]
        cms.touch(3 * PAGE)
        # Two pages of changes are committed, then a page repeats.
        cms.lies = ListingLies(repeat_at=2 * PAGE)
        failed, _ = h.run(copernica_fake, state)
        assert failed.exit_code is ExitCode.UNAVAILABLE, describe(failed)
        assert h.bookmarks(state)["users"] == before
        cms.lies = None
        honest, _ = h.run(copernica_fake, state)
        assert honest.exit_code is ExitCode.OK, describe(honest)
        with FakeCopernica() as clean:
            h.prepare(clean)
            reference, _ = h.run(clean, h.state_path("clean"))
            assert reference.exit_code is ExitCode.OK, describe(reference)
            expected = snapshot(clean, h.target)
        assert differences(expected, snapshot(copernica_fake, h.target)) == []


STYLES: dict[str, dict[str, Any]] = {
    "page": {"records": "items", "paginate": {"style": "page_number", "size_param": "per_page",
                                              "page_size": 10,
                                              "total_pages_path": "meta.total_pages"}},
    "offset": {"records": "results", "paginate": {"style": "offset", "page_size": 10,
                                                  "total_path": "total"}},
    "cursor": {"records": "data", "paginate": {"style": "cursor", "cursor_path": "paging.next",
                                               "cursor_param": "after"}},
    "next": {"records": "records", "paginate": {"style": "next_url", "next_url_path": "next"}},
    "link": {"paginate": {"style": "link_header"}},
}

#: (style, lie, what the message says); every style catches a repeated page.
STYLE_LIES = [
    *[(style, ListingLies(repeat_at=10), "repeats") for style in STYLES],
    *[(style, ListingLies(cursor_back_at=10), "repeats") for style in ("cursor", "next", "link")],
    ("page", ListingLies(empty_at=10), "is empty, before the announced"),
    ("page", ListingLies(total_delta=10), "short page"),
    ("offset", ListingLies(empty_at=10), "empty page at offset 10"),
    ("offset", ListingLies(total_delta=10), "short page"),
    ("offset", ListingLies(total_delta=-10), "lower than what the source serves"),
    ("offset", ListingLies(total_delta=-5), "lower than what the source serves"),
]


def _contacts(cms: FakeCms, style: str) -> GenericCmsConnector:
    table = {"path": f"/api/{style}/contacts", "primary_key": "id", **STYLES[style]}
    return connector({"base_url": cms.url, "streams": {"contacts": table}})


@pytest.mark.parametrize(("style", "lie", "says"), STYLE_LIES,
                         ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(STYLE_LIES)])
def test_every_pagination_style_notices_a_listing_that_lies(style: str, lie: ListingLies,
                                                            says: str) -> None:
    with FakeCms(contacts=25) as cms:
        cms.lies = lie
        with pytest.raises(ListingInconsistentError, match=says) as info:
            read_all(_contacts(cms, style), "contacts")
        assert f"{cms.url}/api/{style}/contacts" in str(info.value)


def test_an_offset_listing_whose_last_page_is_exactly_full_ends_after_one_probe() -> None:
    with FakeCms(contacts=30) as cms:
        records = read_all(_contacts(cms, "offset"), "contacts")
        assert [r["id"] for r in records] == list(range(1, 31))
        assert sum("/api/offset/" in r for r in cms.requests) == 4


def test_wordpress_refusing_the_page_past_its_end_confirms_the_end() -> None:
    # 30 users in pages of 10: page 3 is full and the last; WordPress answers the
    # probe for page 4 with HTTP 400 rest_post_invalid_page_number.
    with FakeCms(contacts=30) as cms:
        config = preset_source("wordpress", cms.url)
        users = config["streams"]["users"]
        config["streams"] = {"users": {**users, "paginate": {**users["paginate"],
                                                              "page_size": 10}}}
        assert len(read_all(connector(config), "users")) == 30


class _ChurningCms(FakeCms):
    """Drupal users edited while the listing is read: before the third page, the
    first two users change, so they move to the end of the ``sort=changed`` listing."""

    def _drupal(self, request: Any) -> Any:
        if request.args.get("page[offset]") == str(2 * PAGE) and not getattr(self, "_done", 0):
            self._done = 1
            self.touch(2)
        return super()._drupal(request)


def test_users_edited_while_a_sorted_listing_is_read_are_not_a_lie_and_shift_nobody_out(
        tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    # The two edited users move behind the read position, which shifts two unread
    # users back past it: the stream reads the listing once more and finds them.
    with _ChurningCms(contacts=CONTACTS) as cms:
        h = _harness("drupal", cms, tmp_path)
        h.prepare(copernica_fake)
        report, tap = h.run(copernica_fake, h.state_path("churn"))
        assert report.exit_code is ExitCode.OK, describe(report)
        ids = [r["id"] for r in tap.streams["users"].records]
        assert len(ids) == len(set(ids)), "a user edited mid-listing was yielded twice"
        assert len(ids) == CONTACTS, f"users shifted out of the listing: {CONTACTS - len(ids)}"
        # The edits themselves are the next run's: they happened after this one started.
        again, _ = h.run(copernica_fake, h.state_path("churn"))
        assert again.exit_code is ExitCode.OK, describe(again)
        with FakeCopernica() as clean:
            h.prepare(clean)
            reference, _ = h.run(clean, h.state_path("clean"))
            assert reference.exit_code is ExitCode.OK, describe(reference)
            expected = snapshot(clean, h.target)
        assert differences(expected, snapshot(copernica_fake, h.target)) == []



class _ShrinkingCms(FakeCms):
    """Two contacts already read are deleted before the second offset page: the
    others shift back two places, across the page boundary."""

    def _api(self, request: Any, rest: str) -> Any:
        if request.args.get("offset") == "10" and not getattr(self, "_done", 0):
            self._done = 1
            with self._lock:
                del self.contacts[:2]
        return super()._api(request, rest)


def test_records_leaving_an_offset_listing_while_it_is_read_shift_nobody_out() -> None:
    with _ShrinkingCms(contacts=25) as cms:
        ids = [r["id"] for r in read_all(_contacts(cms, "offset"), "contacts")]
        assert sorted(set(ids)) == list(range(1, 26)), "records shifted out of the listing"
        assert len(ids) == len(set(ids))
