"""Dotted/indexed paths into JSON documents: ``data``, ``links.next.href``, ``items[0].id``.

The record selectors, cursor paths, next-link paths and total paths of the REST
building blocks are written this way.  Deliberately tiny (not JSONPath): such a
path only ever walks down objects and list indexes.  The empty path (or ``$``)
is the document itself.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MISSING", "Path", "PathError", "as_path", "compile_path", "get_path"]

#: A compiled path: names and list indexes, outermost first.
Path = tuple[str | int, ...]

_SEGMENT = re.compile(r"([^.\[\]]+)?((?:\[-?\d+\])*)")
_INDEX = re.compile(r"\[(-?\d+)\]")


class _Missing:
    """Sentinel: the path does not exist in the document."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class PathError(ValueError):
    """A path string that cannot be parsed."""


def as_path(path: str | Path) -> Path:
    """``path`` compiled (a string) or as it is (already a tuple of steps)."""
    return compile_path(path) if isinstance(path, str) else tuple(path)


def compile_path(path: str) -> Path:
    """``"a.b[0].c"`` → ``("a", "b", 0, "c")``; raises :class:`PathError`."""
    text = path.strip()
    if not text or text == "$":
        return ()
    text = text.removeprefix("$.")
    steps: list[str | int] = []
    for part in text.split("."):
        match = _SEGMENT.fullmatch(part)
        if not part or match is None or (match.group(1) is None and not match.group(2)):
            raise PathError(f"bad path {path!r}: expected names and [index] joined by dots, "
                            "e.g. data or links.next.href or items[0].id")
        if match.group(1) is not None:
            steps.append(match.group(1))
        steps.extend(int(i) for i in _INDEX.findall(match.group(2)))
    return tuple(steps)


def get_path(document: Any, steps: Path) -> Any:
    """The value at ``steps`` in ``document``, or :data:`MISSING`."""
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return MISSING
            value = value[step]
    return value
