"""Requirements: resolve them against a field list and select matching entities.

The real quirks are reproduced on purpose (docs/copernica-api-notes.md §5): a requirement naming an
unknown field is silently dropped, so a call whose only requirement is dropped
matches *everything*; field names match case-insensitively; requirements are ANDed;
case-insensitive comparison casefolds both sides.

Operators: ``=``/``==``, ``!=``/``<>``, ``< > <= >=`` (numbers compare as numbers on
numeric fields — an empty stored value counts as 0 — and everything else as text,
which orders ``YYYY-MM-DD`` dates correctly), ``=~``/``!~`` (SQL LIKE: ``%`` any run
of characters, ``_`` exactly one).  Assumption: the SOAP service reads them as the
REST API documents them (docs/copernica-api-notes.md §5).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .fieldtypes import sort_key
from .index import ValueIndex
from .models import Entity, Field
from .params import Requirement

_NUMERIC = ("integer", "float", "foreign_key")
E = TypeVar("E", bound=Entity)


_ALIASES = {"==": "=", "<>": "!="}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def _like(pattern: str, casesensitive: bool) -> re.Pattern[str]:
    """SQL LIKE as a regular expression: ``%`` any run, ``_`` one character."""
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
             for ch in pattern)
    return re.compile("".join(parts), re.DOTALL | (0 if casesensitive else re.IGNORECASE))


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Condition:
    """A requirement bound to a known field."""

    field: Field
    value: str
    folded: str
    operator: str
    casesensitive: bool
    _pattern: re.Pattern[str] | None = dataclasses.field(default=None, compare=False)

    @property
    def negate(self) -> bool:
        return self.operator in ("!=", "!~")

    @property
    def is_equality(self) -> bool:
        """``=``: usable for an index lookup, and a value a created entity starts with."""
        return self.operator == "="

    def matches(self, stored: str) -> bool:
        op = self.operator
        if op in ("=", "!="):
            equal = (stored == self.value if self.casesensitive
                     else stored.casefold() == self.folded)
            return equal != (op == "!=")
        if op in ("=~", "!~"):
            assert self._pattern is not None
            return (self._pattern.fullmatch(stored) is not None) != (op == "!~")
        compare = _COMPARE[op]
        if self.field.type in _NUMERIC:
            a, b = _number(stored), _number(self.value)
            return a is not None and b is not None and compare(a, b)
        if self.casesensitive:
            return compare(stored, self.value)
        return compare(stored.casefold(), self.folded)


def field_lookup(fields: Iterable[Field]) -> dict[str, Field]:
    """casefolded name -> field."""
    return {f.name.casefold(): f for f in fields}


def resolve(fields: Iterable[Field], requirements: Sequence[Requirement]) -> list[Condition]:
    """Bind requirements to fields, dropping those on unknown fields (the real quirk)."""
    by_name = field_lookup(fields)
    out: list[Condition] = []
    for req in requirements:
        found = by_name.get(req.fieldname.strip().casefold())
        if found is None:
            continue
        value = req.value
        if found.type in _NUMERIC:
            # Numbers are stored normalised ('007' -> '7'); compare like with like.
            value = found.normalise(value) or value
        op = _ALIASES.get(req.operator, req.operator)
        pattern = _like(value, req.casesensitive) if op in ("=~", "!~") else None
        out.append(Condition(found, value, value.casefold(), op, req.casesensitive, pattern))
    return out


def equality_values(conditions: Sequence[Condition]) -> dict[int, str]:
    """field id -> value of every ``=`` condition (what a created entity starts with)."""
    return {c.field.id: c.value for c in conditions if c.is_equality}


def select(
    conditions: Sequence[Condition],
    universe: Mapping[int, E],
    index_for: Callable[[Field], ValueIndex],
) -> list[E]:
    """Entities of ``universe`` matching every condition, in id order.

    With an equality condition, candidates come from the smallest index bucket
    (O(1) per lookup); otherwise the universe is scanned.
    """
    candidates: Collection[int] | None = None
    for cond in conditions:
        if not cond.is_equality:
            continue
        bucket = index_for(cond.field).lookup(cond.folded)
        if candidates is None or len(bucket) < len(candidates):
            candidates = bucket
        if not candidates:
            return []
    if candidates is None:
        pool: Iterable[E] = universe.values()
    else:
        pool = [universe[i] for i in candidates if i in universe]
    hits = [e for e in pool if all(c.matches(e.values.get(c.field.id, "")) for c in conditions)]
    hits.sort(key=lambda e: e.id)
    return hits


def order_by(entities: list[E], fields: Iterable[Field], order: str | None, asc: bool) -> list[E]:
    """Sort by the named field (numbers numerically); unknown or no field keeps id order."""
    if order:
        found = field_lookup(fields).get(order.strip().casefold())
        if found is not None:
            fid, ftype = found.id, found.type
            return sorted(
                entities,
                key=lambda e: (sort_key(ftype, e.values.get(fid, "")), e.id),
                reverse=not asc,
            )
    return entities if asc else list(reversed(entities))
