"""Per-field value indexes, so equality requirements are O(1) even at 100k profiles.

One casefolded map per field serves both comparisons: a case-insensitive lookup is
the map hit itself, a case-sensitive one filters the (usually one or two) hits by
exact value.  Keeping a second, exact map would double the memory for no gain.
"""

from __future__ import annotations

from collections.abc import Collection


class ValueIndex:
    """casefold(value) -> id, or a set of ids when several entities share it."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        # A bare int for the common unique-key case keeps 100k entries small.
        self._map: dict[str, int | set[int]] = {}

    def add(self, value: str, ident: int) -> None:
        key = value.casefold()
        current = self._map.get(key)
        if current is None:
            self._map[key] = ident
        elif isinstance(current, int):
            if current != ident:
                self._map[key] = {current, ident}
        else:
            current.add(ident)

    def discard(self, value: str, ident: int) -> None:
        key = value.casefold()
        current = self._map.get(key)
        if current is None:
            return
        if isinstance(current, int):
            if current == ident:
                del self._map[key]
            return
        current.discard(ident)
        if len(current) == 1:
            self._map[key] = next(iter(current))
        elif not current:
            del self._map[key]

    def lookup(self, folded: str) -> Collection[int]:
        """Ids whose value casefolds to ``folded`` (callers must not mutate the result)."""
        current = self._map.get(folded)
        if current is None:
            return ()
        if isinstance(current, int):
            return (current,)
        return current
