"""Pre-sorted indexes so the list queries a sync makes cost O(log n + page).

The connector's hot queries are "orders of one status, modified within a
window, by (modified, id)" and "everything of one status/role by id".  Each is
a slice of a list sorted once per state change (``Store.generation``); any
other query falls back to filter-and-sort, O(n log n).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
_LOW, _HIGH = -1, 1 << 62


@dataclass
class Sorted:
    """Rows sorted by ``(date_modified_gmt, id)`` and, separately, by id."""

    by_modified: list[Row] = field(default_factory=list)
    modified_keys: list[tuple[str, int]] = field(default_factory=list)
    by_id: list[Row] = field(default_factory=list)

    def window(self, after: str | None, before: str | None) -> tuple[int, int]:
        """Index range of ``by_modified`` with ``after < modified < before`` (strict)."""
        lo = bisect_right(self.modified_keys, (after, _HIGH)) if after is not None else 0
        hi = bisect_left(self.modified_keys, (before, _LOW)) if before is not None else len(self.modified_keys)
        return lo, max(lo, hi)


def build(rows: list[Row], group: str) -> dict[str, Sorted]:
    """Indexes per value of ``group`` (``status``/``role``), plus ``"any"`` (every
    order but trashed ones) and ``"all"`` (everything)."""
    groups: dict[str, list[Row]] = {"all": rows}
    for row in rows:
        groups.setdefault(str(row[group]), []).append(row)
        if group == "status" and row["status"] != "trash":
            groups.setdefault("any", []).append(row)
    out: dict[str, Sorted] = {}
    for name, members in groups.items():
        by_modified = sorted(members, key=lambda r: (r["date_modified_gmt"] or "", r["id"]))
        out[name] = Sorted(
            by_modified,
            [(r["date_modified_gmt"] or "", r["id"]) for r in by_modified],
            sorted(members, key=lambda r: r["id"]),
        )
    out.setdefault("any", Sorted())
    return out
