"""The page writer: a group's profile first, then all its subprofile writes at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from copernica_sdk.errors import APIError, ConstraintError, CopernicaError, NotFoundError
from copernica_sdk.sync._page_writer import Aborted, PageWriter, sub_id
from copernica_sdk.sync._workers import Workers
from copernica_sdk.sync.mapping import MappedRecord, ProfileWrite, SubprofileWrite


@dataclass
class Outcome:
    mapped: MappedRecord | None
    profile_id: int | None = None
    profile_unchanged: bool = False
    unchanged_subprofiles: frozenset[str] = frozenset()
    rekey_from: str | None = None
    wrote_profile: bool = False
    subprofiles_written: int = 0
    dead_letter: str | None = None
    failure: CopernicaError | None = None


def order(key: str, lines: int, *, profile: str = "a@example.com") -> MappedRecord:
    subs = [SubprofileWrite("Orders", "order_id", key, {"order_id": key})]
    subs += [SubprofileWrite("Lines", "line_id", f"{key}-{n}", {"line_id": f"{key}-{n}"})
             for n in range(lines)]
    return MappedRecord(ProfileWrite("email", profile, {"email": profile}), tuple(subs))


class Copernica:
    """Records the writes; each subprofile write may be held or refused by ``on_sub``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profiles: list[str] = []
        self.subs: list[tuple[int, str]] = []
        self.next_id = 10

    def upsert_profile(self, profile: ProfileWrite, rekey_from: str | None) -> int:
        with self.lock:
            self.profiles.append(profile.key)
            self.next_id += 1
            return self.next_id

    def on_sub(self, profile_id: int, sub: SubprofileWrite) -> None:
        return None

    def upsert_subprofile(self, profile_id: int, sub: SubprofileWrite) -> None:
        self.on_sub(profile_id, sub)
        with self.lock:
            self.subs.append((profile_id, sub.key))


def write(copernica: Copernica, groups: list[list[Outcome]], writers: int = 8) -> None:
    with Workers(writers, name="test-writer") as pool:
        PageWriter(pool, copernica.upsert_profile, copernica.upsert_subprofile).write(groups)


def test_an_orders_lines_are_written_at_the_same_time_once_its_profile_id_is_known() -> None:
    copernica = Copernica()
    # Every write of the order waits until four of them are in flight together:
    # one at a time, the barrier breaks and the writes fail.
    barrier = threading.Barrier(4, timeout=5)
    copernica.on_sub = lambda profile_id, sub: (barrier.wait(), None)[1]  # type: ignore[method-assign]
    outcome = Outcome(order("o1", lines=3))
    write(copernica, [[outcome]])
    assert outcome.dead_letter is None and outcome.failure is None
    assert copernica.profiles == ["a@example.com"]
    assert {profile_id for profile_id, _ in copernica.subs} == {outcome.profile_id}
    assert outcome.subprofiles_written == 4 and outcome.wrote_profile


def test_a_known_unchanged_profile_is_not_written_and_its_unchanged_lines_are_skipped() -> None:
    copernica = Copernica()
    mapped = order("o1", lines=2)
    unchanged = frozenset(sub_id(s) for s in mapped.subprofiles[1:])
    outcome = Outcome(mapped, profile_id=7, profile_unchanged=True,
                      unchanged_subprofiles=unchanged)
    write(copernica, [[outcome]])
    assert copernica.profiles == []
    assert copernica.subs == [(7, "o1")]


def test_a_profile_removed_in_copernica_is_created_once_again_with_every_subprofile() -> None:
    copernica = Copernica()

    def gone(profile_id: int, sub: SubprofileWrite) -> None:
        if profile_id == 7:
            raise NotFoundError("profile 7 does not exist")

    copernica.on_sub = gone  # type: ignore[method-assign]
    first, second = order("o1", lines=3), order("o2", lines=2)
    skip = frozenset(sub_id(s) for s in first.subprofiles[2:])  # two lines unchanged
    group = [Outcome(first, profile_id=7, profile_unchanged=True, unchanged_subprofiles=skip),
             Outcome(second, profile_id=7, profile_unchanged=True)]
    write(copernica, [group])
    assert copernica.profiles == ["a@example.com"]  # once, though five writes found it gone
    new_id = group[0].profile_id
    assert new_id != 7 and group[1].profile_id == new_id
    written = sorted(key for profile_id, key in copernica.subs if profile_id == new_id)
    assert written == sorted(s.key for s in (*first.subprofiles, *second.subprofiles))
    assert [o.subprofiles_written for o in group] == [4, 3]


def test_a_refused_write_dead_letters_its_record_and_the_others_are_written() -> None:
    copernica = Copernica()

    def refuse(profile_id: int, sub: SubprofileWrite) -> None:
        if sub.key == "o2-0":
            raise ConstraintError("line_id: value too long")

    copernica.on_sub = refuse  # type: ignore[method-assign]
    good, bad = Outcome(order("o1", lines=1)), Outcome(order("o2", lines=1, profile="b@x.nl"))
    write(copernica, [[good], [bad]])
    assert good.dead_letter is None and good.subprofiles_written == 2
    assert bad.dead_letter == "line_id: value too long"
    assert bad.failure is None


def test_a_service_failure_stops_the_page_and_the_writes_not_started_are_not_attempted() -> None:
    copernica = Copernica()

    def down(profile_id: int, sub: SubprofileWrite) -> None:
        raise APIError("503 Service Unavailable")

    copernica.on_sub = down  # type: ignore[method-assign]
    groups = [[Outcome(order(f"o{n}", lines=3, profile=f"p{n}@x.nl"))] for n in range(6)]
    write(copernica, groups, writers=1)
    failures = [g[0].failure for g in groups]
    assert all(f is not None for f in failures)
    assert any(isinstance(f, Aborted) for f in failures)  # never sent
    assert copernica.subs == []


def test_writes_of_one_subprofile_keep_their_page_order() -> None:
    copernica = Copernica()
    mapped = MappedRecord(ProfileWrite("email", "a@x.nl", {"email": "a@x.nl"}), tuple(
        SubprofileWrite("Orders", "order_id", "o1", {"order_id": "o1", "status": str(n)})
        for n in range(5)))
    seen: list[str] = []
    copernica.on_sub = lambda profile_id, sub: seen.append(sub.fields["status"])  # type: ignore[method-assign]
    write(copernica, [[Outcome(mapped)]])
    assert seen == ["0", "1", "2", "3", "4"]


def test_an_unexpected_error_in_a_writer_is_raised_to_the_caller() -> None:
    copernica = Copernica()

    def bug(profile_id: int, sub: SubprofileWrite) -> None:
        raise KeyError("bug")

    copernica.on_sub = bug  # type: ignore[method-assign]
    with pytest.raises(KeyError):
        write(copernica, [[Outcome(order("o1", lines=0))]])
