"""The standard connector suite: it passes on the example connector, and it fails
— saying why — on connectors that break the contract.

The example in examples/hello_connector is imported from its folder, not
installed, so CI proves the example works exactly as a partner would copy it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from copernica_sdk.sync.connector import ConfigField, Record, Stream
from copernica_sdk.testing import connector_suite
from copernica_sdk.testing._suite_checks import looks_secret, parse_utc
from copernica_sdk.testing._suite_harness import Harness
from copernica_sdk.testing._suite_snapshot import differences, snapshot
from copernica_sdk.testing._suite_tap import Tap
from copernica_sdk.testing.connector_suite import ConnectorSuite, Source, SourceFixture
from copernica_sdk.testing.fake_copernica import FakeCopernica

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello_connector"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from hello_connector import HelloConnector, MembersStream  # noqa: E402
from hello_connector.fake_api import FakeMembersApi  # noqa: E402


class TestHelloConnector(ConnectorSuite):
    """The example connector passes every standard test."""

    connector_class = HelloConnector

    @pytest.fixture
    def source(self) -> Iterator[SourceFixture]:
        with FakeMembersApi(members=30) as api:

            def mutate() -> None:
                api.touch(3)
                api.change_email(1, "ann.renamed@example.com")

            def stale(on: bool) -> None:
                api.stale_pages = on

            yield Source(config=api.source_config(page_size=5), mutate=mutate,
                         lie=lambda: stale(True), honest=lambda: stale(False))


# ---------------------------------------------------------------------------
# Broken connectors: each standard test must catch its kind of mistake.


class _Suite(ConnectorSuite):
    """Not collected (no Test prefix): its tests are called by the tests below."""

    connector_class = HelloConnector


def _run(suite: ConnectorSuite, test: str, api: FakeMembersApi, tmp_path: Path,
         fake: FakeCopernica, *, mutate: Any = None, **config: Any) -> None:
    """Call one suite test the way pytest would, with its fixtures."""
    source = Source(config=api.source_config(page_size=4, **config),
                    mutate=mutate or (lambda: api.touch(2)))
    harness = Harness(suite.make_connector, source.config, suite.target_overrides,
                      suite.sync_options, tmp_path)
    fixtures = {"suite_harness": harness, "source": source, "copernica_fake": fake}
    method = getattr(suite, test)
    method(**{name: fixtures[name] for name in inspect.signature(method).parameters})


@pytest.fixture
def api() -> Iterator[FakeMembersApi]:
    with FakeMembersApi(members=12) as fake_api:
        yield fake_api


def _with_stream(stream_cls: type[Stream]) -> type[HelloConnector]:
    class Broken(HelloConnector):
        def streams(self) -> Sequence[Stream]:
            return [stream_cls(self)]

    return Broken


def _suite_for(connector: type[HelloConnector], **attributes: Any) -> ConnectorSuite:
    suite_cls = type("BrokenSuite", (_Suite,), {"connector_class": connector, **attributes})
    suite: ConnectorSuite = suite_cls()
    return suite


def test_a_credential_not_marked_secret_fails() -> None:
    class Leaky(HelloConnector):
        config_spec: ClassVar[tuple[ConfigField, ...]] = (
            ConfigField("base_url"), ConfigField("api_token"))

    with pytest.raises(AssertionError, match="api_token"):
        _suite_for(Leaky).test_config_spec_marks_secrets()


def test_a_secret_shown_in_a_config_error_fails() -> None:
    class Echoing(HelloConnector):
        def __init__(self, config: Mapping[str, Any]) -> None:
            if config.get("api_token") is not None and not isinstance(config["api_token"], str):
                from copernica_sdk.sync.errors import ConfigError

                raise ConfigError([f"source.{f.name}: bad value {config.get(f.name)!r}"
                                   for f in self.config_spec])
            super().__init__(config)

    with pytest.raises(AssertionError, match="shows the value of secret"):
        _suite_for(Echoing).test_config_spec_marks_secrets()


def test_duplicate_primary_keys_fail(api: FakeMembersApi, tmp_path: Path,
                                     copernica_fake: FakeCopernica) -> None:
    class Repeating(MembersStream):
        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            pages = list(super().read(start, until))
            yield from [*pages, pages[0]]

    with pytest.raises(AssertionError, match="occurs 2 times"):
        _run(_suite_for(_with_stream(Repeating)), "test_records_have_unique_non_empty_primary_keys",
             api, tmp_path, copernica_fake)


def test_a_stream_that_claims_order_it_does_not_keep_fails(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    class Reversed(MembersStream):
        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            pages = list(super().read(start, until))
            yield from reversed(pages)

    with pytest.raises(AssertionError, match="is sorted but"):
        _run(_suite_for(_with_stream(Reversed)),
             "test_replication_values_are_iso_timestamps_and_sorted_streams_are_sorted",
             api, tmp_path, copernica_fake)


def test_replication_values_not_in_utc_fail(api: FakeMembersApi, tmp_path: Path,
                                            copernica_fake: FakeCopernica) -> None:
    class LocalTime(MembersStream):
        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            for page in super().read(start, until):
                # The example yields UTC without an offset (RestStream normalises it).
                yield [{**r, "updated_at": r["updated_at"].removesuffix("Z") + "+02:00"}
                       for r in page]

    with pytest.raises(AssertionError, match="not in UTC"):
        _run(_suite_for(_with_stream(LocalTime)),
             "test_replication_values_are_iso_timestamps_and_sorted_streams_are_sorted",
             api, tmp_path, copernica_fake)


def test_a_stream_that_ignores_start_fails(api: FakeMembersApi, tmp_path: Path,
                                           copernica_fake: FakeCopernica) -> None:
    class Everything(MembersStream):
        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            return super().read(None, until)

    with pytest.raises(AssertionError, match="is before the start"):
        _run(_suite_for(_with_stream(Everything)),
             "test_second_run_reads_only_at_or_after_the_bookmark", api, tmp_path,
             copernica_fake)


def test_a_mapping_that_cannot_map_records_fails(api: FakeMembersApi, tmp_path: Path,
                                                 copernica_fake: FakeCopernica) -> None:
    overrides = {"streams": {"members": {"profile": {"fields": {
        "firstname": {"source": "first_name", "type": "integer"}}}}}}
    with pytest.raises(AssertionError, match="cannot map"):
        _run(_suite_for(HelloConnector, target_overrides=overrides),
             "test_records_map_without_errors", api, tmp_path, copernica_fake)


def test_a_mutation_that_does_not_bump_the_replication_key_fails(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    def sneaky() -> None:
        with api.lock:
            member = api._members[1]
            member["newsletter"] = not member["newsletter"]

    with pytest.raises(AssertionError, match="did not move forward"):
        _run(_suite_for(HelloConnector), "test_changes_are_synced_and_only_they_are_written",
             api, tmp_path, copernica_fake, mutate=sneaky)


def test_a_stream_that_writes_unchanged_records_again_fails(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    class Stamping(MembersStream):
        """Adds the read time to every record, so nothing ever looks unchanged."""

        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            for page in super().read(start, until):
                yield [{**r, "first_name": f"{r['first_name']} {datetime.now(UTC).isoformat()}"}
                       for r in page]

    with pytest.raises(AssertionError, match="made write calls"):
        _run(_suite_for(_with_stream(Stamping)),
             "test_second_run_without_changes_makes_no_write_calls", api, tmp_path,
             copernica_fake)


def test_a_bookmark_past_unread_records_loses_them_on_resume(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    class NewestFirst(MembersStream):
        """Says it is sorted but serves the newest page first: a crash after that
        page leaves a bookmark past every older record."""

        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            yield from reversed(list(super().read(start, until)))

    with pytest.raises(AssertionError, match="is missing"):
        _run(_suite_for(_with_stream(NewestFirst)),
             "test_resuming_from_every_bookmark_ends_in_the_same_state", api, tmp_path,
             copernica_fake)


def test_the_resume_test_can_sample_its_crash_points(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica,
        monkeypatch: pytest.MonkeyPatch) -> None:
    crashes: list[int | None] = []

    class CountingTap(Tap):
        def __init__(self, *, crash_at: int | None = None) -> None:
            super().__init__(crash_at=crash_at)
            crashes.append(crash_at)

    monkeypatch.setattr(connector_suite, "Tap", CountingTap)
    _run(_suite_for(HelloConnector, max_resume_points=2),
         "test_resuming_from_every_bookmark_ends_in_the_same_state", api, tmp_path,
         copernica_fake)
    # 12 members in pages of 4: requests 0-3 (3 pages, then the end); crash at 1 and 3.
    assert [c for c in crashes if c is not None] == [1, 3]


# ---------------------------------------------------------------------------
# Helpers


@pytest.mark.parametrize(("name", "secret"), [
    ("api_key", True), ("consumer_secret", True), ("accessToken", True), ("password", True),
    ("key", True), ("client_key", True), ("newsletter_meta_key", False), ("sort_key", False),
    ("base_url", False), ("page_size", False),
])
def test_credential_names_are_recognised(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


@pytest.mark.parametrize("value", ["2024-05-01T10:00:00", "2024-05-01T10:00:00Z",
                                   "2024-05-01T10:00:00.250+00:00"])
def test_utc_timestamps_parse(value: str) -> None:
    assert parse_utc(value).replace(microsecond=0) == datetime(2024, 5, 1, 10, 0)


@pytest.mark.parametrize("value", ["2024-05-01T12:00:00+02:00", "yesterday", "", None, 1714557600])
def test_other_replication_values_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_utc(value)


def test_snapshot_differences_name_the_entity_and_the_field(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    harness = Harness(HelloConnector, api.source_config(), {}, _Suite.sync_options, tmp_path)
    harness.prepare(copernica_fake)
    harness.run(copernica_fake, harness.state_path("a"))
    before = snapshot(copernica_fake, harness.target)
    assert differences(before, snapshot(copernica_fake, harness.target)) == []
    member = api.members[0]
    with harness.client(copernica_fake) as client:
        database = client.databases.get("Members")
        client.profiles.update_many(database, {"member_key": member["email"]},
                                    {"firstname": "Changed"})
    lines = differences(before, snapshot(copernica_fake, harness.target))
    assert lines == [f"profile member_key={member['email']!r} differs — firstname: 'Changed', "
                     f"expected {member['first_name']!r}"]


def test_timestamps_the_engine_passes_are_what_parse_utc_compares() -> None:
    # The engine passes "until" without an offset; the suite reads it as UTC.
    until = datetime.now(UTC).replace(microsecond=0)
    assert parse_utc(until.replace(tzinfo=None).isoformat()) == until.replace(tzinfo=None)
    assert parse_utc((until - timedelta(minutes=5)).isoformat()) < parse_utc(until.isoformat())


def test_a_connector_that_believes_a_listing_that_lies_fails(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    class Believing(MembersStream):
        """Follows the cursor without checking the pages: a cache that answers the
        first page again makes it stop early, report success and move on."""

        def read(self, start: str | None, until: str) -> Iterator[list[Record]]:
            pages = super().read(start, until)
            first = next(pages, None)
            if first is not None:
                yield first
            if api.stale_pages:
                return  # believes "nothing new": the cache served what it had read
            yield from pages

    suite = _suite_for(_with_stream(Believing))
    source = Source(config=api.source_config(page_size=4), mutate=lambda: api.touch(2),
                    lie=lambda: setattr(api, "stale_pages", True),
                    honest=lambda: setattr(api, "stale_pages", False))
    harness = Harness(suite.make_connector, source.config, suite.target_overrides,
                      suite.sync_options, tmp_path)
    with pytest.raises(AssertionError, match="must fail with exit code 5"):
        suite.test_a_listing_that_lies_moves_no_bookmark_and_an_honest_rerun_syncs_everything(
            harness, source, copernica_fake)


def test_the_lying_listing_check_is_skipped_for_a_source_that_cannot_lie(
        api: FakeMembersApi, tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    with pytest.raises(pytest.skip.Exception, match="cannot lie"):
        _run(_Suite(), "test_a_listing_that_lies_moves_no_bookmark_and_an_honest_rerun_syncs_"
             "everything", api, tmp_path, copernica_fake)
