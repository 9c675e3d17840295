"""Upsert safety: never send a call that could update every profile.

Copernica silently drops a requirement on a field that does not exist, so an
``updateProfiles`` call whose only requirement names a misspelt field matches —
and overwrites — every profile in the database.  Before any requirement-based
write, the SDK checks every requirement against the database's (or
collection's) field list, cached per parent and reloaded once on a miss so a
field created a moment ago is found.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from .errors import UnsafeRequestError
from .models import Requirement

__all__ = ["FieldNameCache", "check_requirements"]

Loader = Callable[[str, int], Iterable[str]]


class FieldNameCache:
    """Field names per database or collection, case-insensitive, thread-safe."""

    def __init__(self, load: Loader) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._names: dict[tuple[str, int], frozenset[str]] = {}
        self._loading: dict[tuple[str, int], threading.Lock] = {}

    def has(self, kind: str, parent_id: int, name: str) -> bool:
        key, wanted = (kind, parent_id), name.casefold()
        with self._lock:
            names = self._names.get(key)
            loading = self._loading.setdefault(key, threading.Lock())
        if names is not None and wanted in names:
            return True
        with loading:  # many writer threads miss at once on a cold cache: load once
            with self._lock:
                current = self._names.get(key)
            if current is not None and current is not names and wanted in current:
                return True
            names = frozenset(n.casefold() for n in self._load(kind, parent_id))
            with self._lock:
                self._names[key] = names
        return wanted in names

    def invalidate(self, kind: str, parent_id: int) -> None:
        with self._lock:
            self._names.pop((kind, parent_id), None)


def check_requirements(cache: FieldNameCache, kind: str, parent_id: int,
                       requirements: Sequence[Requirement], operation: str) -> None:
    """Raise :class:`UnsafeRequestError` unless every requirement is safe to send."""
    if not requirements:
        raise UnsafeRequestError(
            f"refusing {operation} without requirements: it would update every profile in "
            f"{kind} {parent_id}; pass the key that identifies the record", operation=operation)
    for req in requirements:
        if req.operator == "=" and req.value == "":
            raise UnsafeRequestError(
                f"refusing {operation}: key field {req.field!r} is empty, which would match "
                "every record without a value; give the record a key", operation=operation)
        if not cache.has(kind, parent_id, req.field):
            raise UnsafeRequestError(
                f"refusing {operation}: {kind} {parent_id} has no field {req.field!r}, and "
                "Copernica ignores requirements on unknown fields (the call would update "
                f"every record). Create the field first (client.fields.create or "
                "`copernica-sync schema apply`) or fix its name", operation=operation)
