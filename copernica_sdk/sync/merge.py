"""One deep merge: a table laid over another, key by key.

Configuration layers (a job's table over the shared one) and mappings (a job's
``[target]`` over a connector's defaults) are merged the same way: tables are
merged key by key, recursively; any other value replaces the one below it; a
``None`` on top keeps what is below (an unset setting); :data:`DELETE` on top
removes the key.  A caller with a shorthand of its own (a mapping field written
as a string instead of a table, ``false`` meaning "remove") passes ``adapt``,
which rewrites each (below, above) pair before it is merged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["DELETE", "Adapt", "deep_merge", "merge_values"]


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


#: On top: remove the key from the result.
DELETE: Any = _Delete()

#: ``(path, below, above) -> (below, above)``: rewrites a pair before it is merged;
#: ``path`` is the key's place, outermost first.
Adapt = Callable[[tuple[str, ...], Any, Any], tuple[Any, Any]]


def deep_merge(base: Mapping[str, Any] | None, over: Mapping[str, Any] | None, *,
               adapt: Adapt | None = None, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """``over`` laid over ``base`` (neither is changed); see the module docstring."""
    out = dict(base or {})
    for name, value in (over or {}).items():
        child = (*path, str(name))
        old = out.get(name)
        if adapt is not None:
            old, value = adapt(child, old, value)
        if value is DELETE:
            out.pop(name, None)
        elif isinstance(value, Mapping):
            out[name] = deep_merge(old if isinstance(old, Mapping) else {}, value, adapt=adapt,
                                   path=child)
        elif value is not None or name not in out:
            out[name] = value
    return out


def merge_values(base: Any, over: Any) -> Any:
    """Like :func:`deep_merge` for values of any kind: two tables are merged, a
    value that is not a table replaces what is below, ``None`` keeps it."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        return deep_merge(base, over)
    return over if over is not None else base
