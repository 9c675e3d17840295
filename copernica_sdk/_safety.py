"""Call safety: never send a call that could touch every profile, or drop a value unseen.

Copernica silently drops a requirement on a field that does not exist, so an
``updateProfiles`` call whose only requirement names a misspelt (or renamed)
field matches — and overwrites — every profile in the database, and a search
with such a requirement returns every profile.  A value for an unknown field is
dropped as silently.  Before a requirement-based call, and before any write of
field values, the SDK checks every field name against the database's (or
collection's) field list.

That list is cached per parent, but never trusted for long: an entry older than
``max_age`` seconds is read again before it is used, a miss reloads it once (a
field created a moment ago is found), and :meth:`FieldNameCache.revalidate`
reloads it on demand (the sync engine does so at the start of every run).
What remains — a field renamed in the seconds between the last check and a
write — is caught after the fact by :func:`check_touched`, which turns an
answer that touched several records for a unique key into a :class:`SafetyError`.
"""

from __future__ import annotations

import difflib
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from .errors import (
    SafetyError,
    TruncationWarning,
    UnknownFieldError,
    UnsafeRequestError,
    ValueTooLongError,
)
from .models import Page, Requirement
from .values import WireValue

__all__ = [
    "FieldNameCache",
    "UnknownFields",
    "check_fields",
    "check_ignored",
    "check_lengths",
    "check_requirements",
    "check_touched",
]

#: A parent's fields: names, or ``(name, max_length)`` pairs for fields whose values
#: the service cuts to a length (``None``: no limit).
Loader = Callable[[str, int], Iterable[str | tuple[str, int | None]]]

#: What to do with a value for a field that does not exist: refuse the call
#: (default), or send it anyway and let the service drop it.
UnknownFields = Literal["raise", "ignore"]


class FieldNameCache:
    """Field names per database or collection, case-insensitive, thread-safe.

    ``max_age`` bounds how long a loaded list is trusted; ``clock`` is
    injectable so tests can age entries without waiting.
    """

    def __init__(self, load: Loader, *, max_age: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not max_age >= 0:
            raise ValueError(f"max_age must be a number of seconds ≥ 0, not {max_age!r}")
        self._load = load
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        # (kind, id) → (casefolded name → name as Copernica spells it, loaded at)
        self._names: dict[tuple[str, int], tuple[dict[str, str], float]] = {}
        # (kind, id) → casefolded name → the length the service cuts values to
        self._limits: dict[tuple[str, int], dict[str, int]] = {}
        self._loading: dict[tuple[str, int], threading.Lock] = {}

    def has(self, kind: str, parent_id: int, name: str) -> bool:
        return not self.missing(kind, parent_id, [name])

    def missing(self, kind: str, parent_id: int, names: Iterable[str]) -> list[str]:
        """The names in ``names`` that ``kind`` ``parent_id`` has no field for.

        Uses the cached list while it is younger than ``max_age`` and holds every
        name; otherwise reads the list again once, then answers from that.
        """
        key = (kind, parent_id)
        wanted = list(dict.fromkeys(names))
        # The common case (a fresh list that holds every name) reads without the lock:
        # entries are replaced whole, never changed, and a dict read is atomic.
        entry = self._names.get(key)
        if entry is not None and self._fresh(entry) and _all_in(wanted, entry[0]):
            return []
        with self._lock:
            entry = self._names.get(key)
            loading = self._loading.setdefault(key, threading.Lock())
        if entry is not None and self._fresh(entry) and _all_in(wanted, entry[0]):
            return []
        with loading:  # many writer threads miss at once on a cold cache: load once
            with self._lock:
                current = self._names.get(key)
            if current is not None and current is not entry and self._fresh(current):
                entry = current  # another thread just loaded it
            else:
                entry = self._reload(key)
        return [n for n in wanted if n.casefold() not in entry[0]]

    def names(self, kind: str, parent_id: int) -> tuple[str, ...]:
        """Every field name (as Copernica spells it), from a list at most ``max_age`` old."""
        key = (kind, parent_id)
        with self._lock:
            entry = self._names.get(key)
        if entry is None or not self._fresh(entry):
            entry = self._reload(key)
        return tuple(sorted(entry[0].values(), key=str.casefold))

    def limits(self, kind: str, parent_id: int) -> Mapping[str, int]:
        """Casefolded field name → maximum text length, from a list at most ``max_age`` old."""
        self.missing(kind, parent_id, ())  # loads once however many threads ask at once
        return self._limits.get((kind, parent_id), {})  # replaced whole, never changed

    def revalidate(self, kind: str, parent_id: int) -> tuple[str, ...]:
        """Read the field list again now (whatever its age); returns the names."""
        entry = self._reload((kind, parent_id))
        return tuple(sorted(entry[0].values(), key=str.casefold))

    def invalidate(self, kind: str, parent_id: int) -> None:
        with self._lock:
            self._names.pop((kind, parent_id), None)

    def invalidate_all(self) -> None:
        """Forget every list: each is read again before its next use."""
        with self._lock:
            self._names.clear()

    def _fresh(self, entry: tuple[dict[str, str], float]) -> bool:
        return self._clock() - entry[1] <= self.max_age

    def _reload(self, key: tuple[str, int]) -> tuple[dict[str, str], float]:
        loaded_at = self._clock()
        names: dict[str, str] = {}
        limits: dict[str, int] = {}
        for item in self._load(*key):
            name, limit = (item, None) if isinstance(item, str) else item
            names[name.casefold()] = name
            if limit:
                limits[name.casefold()] = limit
        entry = (names, loaded_at)
        with self._lock:
            self._names[key] = entry
            self._limits[key] = limits
        return entry


def _all_in(wanted: Sequence[str], names: Mapping[str, str]) -> bool:
    for n in wanted:  # noqa: SIM110 (a loop, not all(<generator>): runs several times a call)
        if n.casefold() not in names:
            return False
    return True


def _unknown_field_error(cache: FieldNameCache, kind: str, parent_id: int, name: str,
                         operation: str, what: str) -> UnknownFieldError:
    known = cache.names(kind, parent_id)
    close = difflib.get_close_matches(name.casefold(), [k.casefold() for k in known], n=1,
                                      cutoff=0.6)
    suggestion = next((k for k in known if close and k.casefold() == close[0]), None)
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    listed = ", ".join(known[:40]) + (f", … ({len(known)} in all)" if len(known) > 40 else "")
    return UnknownFieldError(
        f"refusing {operation}: {kind} {parent_id} has no field {name!r}{hint} {what}. "
        f"Fields that exist: {listed or '(none)'}. Create the field first "
        "(client.fields.create or `copernica-sync schema apply`) or fix its name",
        operation=operation, field=name, known=known, suggestion=suggestion)


def check_requirements(cache: FieldNameCache, kind: str, parent_id: int,
                       requirements: Sequence[Requirement], operation: str, *,
                       write: bool = True) -> None:
    """Raise unless every requirement is safe to send.

    Writes (``write=True``) also refuse an empty list and an empty key value,
    which would match every record.  Reads and writes both refuse a requirement
    on an unknown field: the service would ignore it, and a search would
    return — or a write overwrite — every record.
    """
    if write and not requirements:
        raise UnsafeRequestError(
            f"refusing {operation} without requirements: it would update every profile in "
            f"{kind} {parent_id}; pass the key that identifies the record", operation=operation)
    if write:
        for req in requirements:
            if req.is_equality and req.value == "":
                raise UnsafeRequestError(
                    f"refusing {operation}: key field {req.field!r} is empty, which would match "
                    "every record without a value; give the record a key", operation=operation)
    if not requirements:
        return
    missing = cache.missing(kind, parent_id, [r.field for r in requirements])
    if missing:
        effect = ("(Copernica ignores requirements on unknown fields: the call would update "
                  "every record)" if write else
                  "(Copernica ignores requirements on unknown fields: the search would return "
                  "every record)")
        raise _unknown_field_error(cache, kind, parent_id, missing[0], operation, effect)


def check_fields(cache: FieldNameCache, kind: str, parent_id: int, fields: Iterable[str],
                 operation: str, unknown_fields: UnknownFields) -> None:
    """Raise :class:`UnknownFieldError` for a value whose field does not exist
    (the service would drop it without a word), unless ``unknown_fields="ignore"``."""
    if unknown_fields == "ignore":
        return
    if unknown_fields != "raise":
        raise ValueError(f"unknown_fields must be 'raise' or 'ignore', not {unknown_fields!r}")
    names = list(fields)
    if not names:
        return
    missing = cache.missing(kind, parent_id, names)
    if missing:
        raise _unknown_field_error(
            cache, kind, parent_id, missing[0], operation,
            "(Copernica drops values for unknown fields without a word; pass "
            "unknown_fields='ignore' to send them anyway)")


def check_lengths(cache: FieldNameCache, kind: str, parent_id: int,
                  fields: Mapping[str, WireValue], requirements: Sequence[Requirement],
                  operation: str, *, strict: bool) -> Mapping[str, WireValue]:
    """``fields`` with text longer than its field cut to the field's length, warning.

    Copernica cuts (or refuses) over-long text without a word; the SDK does the
    cut itself so that it can say so: a :class:`TruncationWarning` per value, or
    :class:`ValueTooLongError` with ``strict=True``.  A key (an ``=``
    requirement's value) is never cut: the stored key would differ from the one
    searched for, and the next upsert would create a duplicate.
    """
    longest = 0  # loops, not generators: this runs on every write
    for v in fields.values():
        if isinstance(v, str) and len(v) > longest:
            longest = len(v)
    for r in requirements:
        if r.is_equality and len(r.value) > longest:
            longest = len(r.value)
    if longest == 0:
        return fields
    limits = cache.limits(kind, parent_id)
    if not limits or longest <= min(limits.values()):
        return fields
    for req in requirements:
        limit = limits.get(req.field.casefold())
        if req.is_equality and limit is not None and len(req.value) > limit:
            raise ValueTooLongError(
                f"refusing {operation}: the key {req.field!r} is {len(req.value)} characters, "
                f"longer than the field's {limit} in {kind} {parent_id}; Copernica would store "
                "it cut, so it would never match again. Use a shorter key or make the field "
                f"longer (client.fields.update(field, length=…))", operation=operation,
                field=req.field, length=len(req.value), limit=limit)
    out = dict(fields)
    for name, value in fields.items():
        limit = limits.get(name.casefold())
        if limit is None or not isinstance(value, str) or len(value) <= limit:
            continue
        if strict:
            raise ValueTooLongError(
                f"refusing {operation}: the value for {name!r} is {len(value)} characters, "
                f"longer than the field's {limit} in {kind} {parent_id} (strict_lengths=True); "
                "shorten it or make the field longer (client.fields.update(field, length=…))",
                operation=operation, field=name, length=len(value), limit=limit)
        warnings.warn(TruncationWarning(
            f"{operation}: field {name!r} of {kind} {parent_id} holds {limit} characters; "
            f"a value of {len(value)} was cut to {limit} (strict_lengths=True refuses instead)"),
            stacklevel=5)
        out[name] = value[:limit]
    return out


def check_touched(page: Page[Any], *, what: str, where: str, key: Mapping[str, object],
                  operation: str) -> None:
    """Raise :class:`SafetyError` if an answer for one unique key shows several records.

    The key identifies at most one record, so several in the answer mean the
    service matched more than it should: the key field was renamed or removed
    since it was last checked (the requirement was ignored), or duplicates exist.
    Either way every one of them was written, and the caller must stop.
    """
    touched = max(page.total, len(page.items))
    if touched <= 1:
        return
    names = sorted(key)
    lacking = [n for n in names if any(
        getattr(item, "fields", None)  # only answers that carry the records' fields tell
        and n.casefold() not in {f.casefold() for f in item.fields}
        for item in page.items)]
    if lacking:
        cause = (f"the answer's records have no field {lacking[0]!r}: it was renamed or removed "
                 "after the SDK last checked it, and Copernica ignored the requirement")
    else:
        cause = (f"{touched} {what}s share this key (duplicates); merge them "
                 "(client.profiles.merge) so the key identifies one")
    raise SafetyError(
        f"SAFETY STOP: {operation} for key {dict(key)!r} {where} touched {touched} {what}s, "
        f"not one — {cause}. All of them were written; nothing more is sent. Check the "
        f"{what}s in Copernica before the next run", operation=operation, touched=touched)


def check_ignored(page: Page[Any], requirements: Sequence[Requirement], *, what: str,
                  where: str, operation: str) -> None:
    """Raise :class:`SafetyError` if the records an answer reports lack a requirement's
    field: the service ignored that requirement and matched records it should not."""
    for req in requirements:
        for item in page.items:
            fields = getattr(item, "fields", None)
            if fields and req.field.casefold() not in {f.casefold() for f in fields}:
                raise SafetyError(
                    f"SAFETY STOP: {operation} {where} touched {max(page.total, len(page.items))}"
                    f" {what}(s) that have no field {req.field!r}: the field was renamed or "
                    "removed after the SDK last checked it, and Copernica ignored the "
                    "requirement. Every matched record was written; nothing more is sent. "
                    f"Check the {what}s in Copernica before the next run",
                    operation=operation, touched=max(page.total, len(page.items)))
