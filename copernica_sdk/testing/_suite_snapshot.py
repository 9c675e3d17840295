"""What a fake Copernica holds for a mapping, without ids, codes or timestamps.

Two runs that end in the same state give equal snapshots, whatever order they
wrote in and whatever ids the fake handed out: a snapshot holds the field
values of every profile and every subprofile (with the key of the profile it
belongs to), counted, so a duplicate shows up as a difference too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..sync.mapping import TargetMapping
from .fake_copernica import FakeCopernica

__all__ = ["Snapshot", "differences", "duplicates", "snapshot"]

#: Pseudo-fields added to a subprofile's fields so it compares with its place.
COLLECTION = "@collection"
OWNER = "@profile"

_Item = tuple[tuple[str, str], ...]
_SHOWN = 8


@dataclass(frozen=True)
class Snapshot:
    """Profiles and subprofiles as multisets of their field values."""

    profile_key: str
    profiles: Counter[_Item]
    subprofiles: Counter[_Item]
    collection_keys: Mapping[str, str]


def collection_keys(target: TargetMapping) -> dict[str, str]:
    """Collection name -> its key field, over every mapped stream."""
    return {c.name: c.key_field for m in target.streams.values() for c in m.collections}


def _freeze(fields: Mapping[str, Any]) -> _Item:
    return tuple(sorted((str(k), str(v)) for k, v in fields.items()))


def snapshot(fake: FakeCopernica, target: TargetMapping) -> Snapshot:
    """The content of ``target``'s database and collections in ``fake``."""
    profiles = fake.profiles(target.database)
    key = target.profile_key
    owners = {p["id"]: str(_get(p["fields"], key)) for p in profiles}
    subs: Counter[_Item] = Counter()
    keys = collection_keys(target)
    for name in keys:
        for sub in fake.subprofiles(name, database=target.database):
            owner = owners.get(sub["profile"], f"<missing profile {sub['profile']}>")
            subs[_freeze({**sub["fields"], COLLECTION: name, OWNER: owner})] += 1
    return Snapshot(key, Counter(_freeze(p["fields"]) for p in profiles), subs, keys)


def duplicates(fake: FakeCopernica, target: TargetMapping) -> list[str]:
    """One line per key held twice: profiles by the profile key, subprofiles by
    their collection's key within one profile."""
    found = [f"profile {target.profile_key}={value!r} held by profiles {ids}"
             for value, ids in fake.duplicates(target.database, target.profile_key).items()]
    for name, key_field in collection_keys(target).items():
        dups = fake.subprofile_duplicates(name, key_field, database=target.database)
        found.extend(f"{name} subprofile {key_field}={value!r} held {len(ids)} times by "
                     f"profile {profile}" for (profile, value), ids in dups.items())
    return found


def _get(fields: Mapping[str, Any], name: str) -> Any:
    # Copernica field names ignore case.
    for key, value in fields.items():
        if key.lower() == name.lower():
            return value
    return ""


def _identity(item: _Item, key_field: str, collection_keys: Mapping[str, str]) -> tuple[str, ...]:
    fields = dict(item)
    if COLLECTION not in fields:
        return ("profile", str(_get(fields, key_field)))
    collection = fields[COLLECTION]
    return (collection, fields[OWNER], str(_get(fields, collection_keys.get(collection, ""))))


def _label(identity: tuple[str, ...], key_field: str, collection_keys: Mapping[str, str]) -> str:
    if identity[0] == "profile":
        return f"profile {key_field}={identity[1]!r}"
    collection, owner, key = identity
    return (f"{collection} subprofile {collection_keys.get(collection, '?')}={key!r} "
            f"of profile {key_field}={owner!r}")


def _compare(expected: Counter[_Item], actual: Counter[_Item], snap: Snapshot) -> list[str]:
    def identity(item: _Item) -> tuple[str, ...]:
        return _identity(item, snap.profile_key, snap.collection_keys)

    def label(ident: tuple[str, ...]) -> str:
        return _label(ident, snap.profile_key, snap.collection_keys)

    missing, extra = expected - actual, actual - expected
    extra_by_id: dict[tuple[str, ...], list[_Item]] = {}
    for item in extra.elements():
        extra_by_id.setdefault(identity(item), []).append(item)
    lines: list[str] = []
    for item in missing.elements():
        ident = identity(item)
        candidates = extra_by_id.get(ident)
        if candidates:
            # Same entity, other values: name the fields that differ.
            got, want = dict(candidates.pop(0)), dict(item)
            changed = [f"{k}: {got.get(k, '<absent>')!r}, expected {want.get(k, '<absent>')!r}"
                       for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
            lines.append(f"{label(ident)} differs — {'; '.join(changed)}")
        else:
            lines.append(f"{label(ident)} is missing: {_show(item)}")
    for ident, items in extra_by_id.items():
        lines.extend(f"{label(ident)} was not expected: {_show(item)}" for item in items)
    return lines


def _show(item: _Item) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in item if v != "") + "}"


def differences(expected: Snapshot, actual: Snapshot) -> list[str]:
    """How ``actual`` differs from ``expected``, one line per profile or subprofile
    (at most a few of each, then a count); empty when they hold the same."""
    lines = _compare(expected.profiles, actual.profiles, expected)
    lines += _compare(expected.subprofiles, actual.subprofiles, expected)
    return _cap(lines)


def _cap(lines: Iterable[str]) -> list[str]:
    lines = list(lines)
    if len(lines) <= _SHOWN:
        return lines
    return [*lines[:_SHOWN], f"… and {len(lines) - _SHOWN} more differences"]
