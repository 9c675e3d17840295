"""Declarative mapping from source records to Copernica profiles and subprofiles.

Each record of a stream (a customer, an order…) becomes one profile upsert in
the target database plus zero or more subprofile upserts in its collections.
One profile per person: profiles are keyed by a key field (``customer_key`` by
default) filled by an expression, normally the normalised e-mail address.

The mapping lives in the job's ``[target]`` table and is deep-merged over the
connector's default mapping, so a job only writes what it changes::

    [target]
    database = "Customers"
    profile_key = "customer_key"            # the profile key field (always indexed)

    [target.streams.customers.profile]
    key = "email | normalize_email"         # expression giving the key value
    source_id = "id"                        # optional: the source's own person id
                                            # (0 or empty = guest); lets the engine
                                            # follow e-mail changes
    recency = "date_modified_gmt"           # optional: how new the record's data is,
                                            # for field precedence (default: the
                                            # stream's replication key)
    [target.streams.customers.profile.fields]
    email = "email | normalize_email"
    firstname = "first_name"
    total_spent = { source = "total_spent | number:2", type = "float" }
    newsletter = { source = "meta_data[key=newsletter].value | bool | default:'0'", type = "text", length = 1 }
    phone = false                           # false removes a field inherited from the defaults

    [target.streams.orders.profile]
    key = "billing.email | normalize_email"
    source_id = "customer_id"
    fields = { firstname = "billing.first_name" }

    [target.streams.orders.collections.Orders]
    key_field = "order_id"
    fields = { order_id = "id", status = "status", total = { source = "total | number:2", type = "float" } }

    [target.streams.orders.collections.OrderItems]
    each = "line_items"                     # one subprofile per element of this list
    key_field = "item_key"
    fields = { item_key = "{$parent.id}-{id}", sku = "sku", quantity = { source = "quantity", type = "integer" } }

The mapping language — fields, types, expressions, paths, transforms, ``each``,
``$parent``/``$record``, ``if_missing``, aggregates, merging, values and dead
letters — is documented, with examples the test suite runs, in ``docs/mapping.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from ..models import DEFAULT_TEXT_LENGTH
from ..values import find_forbidden_chars, sanitize_text, to_wire
from ._expressions import Expression, TransformError, compile_expression, show_value
from .errors import ConfigError, MappingError
from .merge import DELETE, deep_merge

__all__ = [
    "DEFAULT_PROFILE_KEY",
    "FIELD_TYPES",
    "CollectionMapping",
    "FieldSpec",
    "MappedRecord",
    "ProfileMapping",
    "ProfileWrite",
    "StreamMapping",
    "SubprofileWrite",
    "TargetMapping",
    "parse_target",
]

#: Copernica's field types a mapping may declare.
FIELD_TYPES: frozenset[str] = frozenset({
    "text", "integer", "float", "date", "datetime", "email", "big", "select",
    "empty_date", "empty_datetime", "phone", "phone_fax", "phone_gsm", "country", "locale",
})
#: The profile key field when ``[target]`` does not name one.
DEFAULT_PROFILE_KEY = "customer_key"

_LENGTH_TYPES = frozenset({
    "text", "email", "select", "phone", "phone_fax", "phone_gsm", "country", "locale"})
_DEFAULT_TEXT_LENGTH = DEFAULT_TEXT_LENGTH  # one default for the SDK and the sync (255)
_AUTO_LENGTH = -1  # "not given": resolved from the type in FieldSpec.__post_init__
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_TOP_KEYS = ("database", "profile_key", "streams")
_STREAM_KEYS = ("profile", "collections", "aggregates")
_AGGREGATE_KEYS = ("include_when", "fields")
_AGGREGATE_FIELD_KEYS = ("function", "source", "type")
AGGREGATE_FUNCTIONS = ("count", "sum", "min", "max")
_PROFILE_KEYS = ("key", "source_id", "recency", "fields")
_COLLECTION_KEYS = ("key_field", "each", "fields")
_FIELD_KEYS = ("source", "type", "length", "index", "if_missing")


# ---------------------------------------------------------------------------
# Specs


@dataclass(frozen=True)
class FieldSpec:
    """One Copernica field and the expression that fills it.  ``length``
    defaults to 255 for ``text`` and to ``None`` (no limit) for other types."""

    name: str
    source: str
    type: str = "text"
    length: int | None = _AUTO_LENGTH
    index: bool = False
    #: ``"clear"``: a missing source value empties the field; ``"keep"``: the field is
    #: left out of the write, so Copernica keeps what it has (for values a source
    #: does not always show, e.g. customer meta hidden from non-admin API keys).
    if_missing: str = "clear"

    def __post_init__(self) -> None:
        # Checked where the mapping is read (parse_target, the pydantic models); here
        # only the length a type has when none is given.
        if self.length == _AUTO_LENGTH:
            object.__setattr__(self, "length",
                               _DEFAULT_TEXT_LENGTH if self.type == "text" else None)


@dataclass(frozen=True)
class ProfileMapping:
    """How a record becomes its profile.  ``key`` is the expression giving the
    value of ``key_field``; ``source_id`` the expression giving the source's own
    person id.  ``fields`` always contains the key field, indexed: it is added
    with the ``key`` expression when missing."""

    key_field: str
    key: str
    fields: tuple[FieldSpec, ...] = ()
    source_id: str | None = None
    #: Expression giving how new the record's data is (a timestamp), which decides
    #: between records that write one profile (see :mod:`copernica_sdk.sync.identity`);
    #: ``None``: the stream's replication key.
    recency: str | None = None

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not any(spec.name == self.key_field for spec in fields):
            fields = (FieldSpec(self.key_field, self.key, index=True), *fields)
        fields = tuple(replace(spec, index=True) if spec.name == self.key_field
                       and not spec.index else spec for spec in fields)
        object.__setattr__(self, "fields", fields)


@dataclass(frozen=True)
class CollectionMapping:
    """How a record becomes subprofiles of collection ``name``: one, or one per
    element of the list ``each`` gives.  ``key_field`` (indexed) names the field
    that identifies a subprofile within its profile."""

    name: str
    key_field: str
    fields: tuple[FieldSpec, ...]
    each: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(
            replace(spec, index=True) if spec.name == self.key_field and not spec.index
            else spec for spec in self.fields))


# ---------------------------------------------------------------------------
# Writes


# ASCII-only compact JSON: one canonical byte form whatever the text contains.
# One shared encoder: building it per call cost as much as the hashing.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class AggregateSpec:
    """A profile field computed over every record of a stream that belongs to the
    profile: ``count`` of records, ``sum``/``min``/``max`` of ``source``."""

    name: str
    function: str
    source: str = ""
    type: str = "integer"

    def field_spec(self) -> FieldSpec:
        """The Copernica field that holds the result (for the schema)."""
        return FieldSpec(self.name, self.source or "'count'", self.type)


_NUMBER_TYPES = frozenset({"integer", "float"})


@dataclass(frozen=True)
class AggregateMapping:
    """Aggregates of a stream.  ``include_when`` maps an expression to the values a
    record must have to count (e.g. only paid order statuses); records that do not
    qualify contribute nothing, and stop contributing when they change."""

    fields: tuple[AggregateSpec, ...]
    include_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def combine(self, contributions: Iterable[Mapping[str, str]]) -> dict[str, str]:
        """The aggregate field values from every record's contribution."""
        rows = list(contributions)
        out: dict[str, str] = {}
        for spec in self.fields:
            values = [row[spec.name] for row in rows if row.get(spec.name, "") != ""]
            if spec.function == "count":
                out[spec.name] = str(len(values))
            elif spec.function == "sum":
                total = sum((Decimal(v) for v in values), Decimal(0))
                out[spec.name] = to_wire(total, field=spec.name)
            elif values:
                pick = min if spec.function == "min" else max
                # Numbers by value ("10" > "9"); dates and times written as
                # YYYY-MM-DD hh:mm:ss, and text, compare as text.
                out[spec.name] = (pick(values, key=Decimal) if spec.type in _NUMBER_TYPES
                                  else pick(values))
            elif spec.type not in _NEVER_EMPTY:
                out[spec.name] = ""
        return out


def _digest(owner: object, parts: list[Any]) -> str:
    cached: str | None = owner.__dict__.get("_digest")
    if cached is None:
        # The engine asks twice per write (compare, then store); the write is frozen.
        cached = hashlib.sha256(_ENCODER.encode(parts).encode("ascii")).hexdigest()
        object.__setattr__(owner, "_digest", cached)
    return cached


@dataclass(frozen=True)
class ProfileWrite:
    """One profile upsert.  ``fields`` includes the key field.  ``source_id`` is
    the source's person id as text, or ``None`` for guests (missing, ``""``, ``0``)."""

    key_field: str
    key: str
    fields: Mapping[str, str]
    source_id: str | None = None
    #: The record's ``recency`` value (profile mapping), ``None`` when not mapped.
    recency: str | None = field(default=None, compare=False)
    #: What the digest stands for when it is not simply ``fields``: field precedence
    #: (:mod:`copernica_sdk.sync.identity`) sets it so that every record of a stream
    #: writing one profile compares equal when nothing changed.
    basis: tuple[Any, ...] | None = field(default=None, compare=False)

    def digest(self) -> str:
        """SHA-256 (hex) of the content written, independent of field order; the
        engine skips a write whose digest it stored last time."""
        if self.basis is not None:
            return _digest(self, [self.key_field, self.key, list(self.basis)])
        return _digest(self, [self.key_field, self.key, sorted(self.fields.items())])


@dataclass(frozen=True)
class SubprofileWrite:
    """One subprofile upsert in ``collection``, identified by ``key_field`` = ``key``
    within its profile."""

    collection: str
    key_field: str
    key: str
    fields: Mapping[str, str]

    def digest(self) -> str:
        """SHA-256 (hex) of the content written, independent of field order."""
        return _digest(self, [self.collection, self.key_field, self.key,
                             sorted(self.fields.items())])


@dataclass(frozen=True)
class MappedRecord:
    """The writes one record produces, and what was repaired on the way
    (removed characters, cut text) so the engine can log it."""

    profile: ProfileWrite
    subprofiles: tuple[SubprofileWrite, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The record's contribution to its profile's aggregates (None: the stream has
    #: none; empty: the record does not qualify).  The engine combines them.
    facts: Mapping[str, str] | None = None


# ---------------------------------------------------------------------------
# Applying a stream mapping

_K_TEXT, _K_INTEGER, _K_FLOAT, _K_DATE = range(4)
# Copernica's date and datetime fields cannot hold an empty value (their empty_*
# twins can): an empty value for them is left out of the write, keeping what is stored.
_NEVER_EMPTY = frozenset({"date", "datetime"})

_KINDS = {"integer": _K_INTEGER, "float": _K_FLOAT, "date": _K_DATE, "datetime": _K_DATE,
          "empty_date": _K_DATE, "empty_datetime": _K_DATE}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?")


class _FieldPlan(NamedTuple):
    name: str
    expr: Expression
    kind: int
    length: int | None
    type: str
    keep_when_missing: bool


class _CollectionPlan(NamedTuple):
    name: str
    key_field: str
    each: Expression | None
    fields: tuple[_FieldPlan, ...]


class _StreamPlan(NamedTuple):
    key_field: str
    key: Expression
    source_id: Expression | None
    fields: tuple[_FieldPlan, ...]
    collections: tuple[_CollectionPlan, ...]


class _Failure(Exception):
    """Why a record fails, without the "stream record id:" prefix apply adds."""


@dataclass(frozen=True)
class StreamMapping:
    """The mapping of one stream: its profile and its collections."""

    stream: str
    profile: ProfileMapping
    collections: tuple[CollectionMapping, ...] = ()
    aggregates: AggregateMapping | None = None
    _plan: _StreamPlan = field(init=False, repr=False, compare=False)
    _aggregate_plan: _AggregatePlan | None = field(init=False, repr=False, compare=False)
    _recency: Expression | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "collections", tuple(self.collections))
        plan, problems = _build_plan(self.stream, self.profile, self.collections, "target")
        recency = None
        if self.profile.recency is not None:
            try:
                recency = compile_expression(
                    self.profile.recency, key=f"target.streams.{self.stream}.profile.recency")
            except ConfigError as error:
                problems.extend(error.problems)
        object.__setattr__(self, "_recency", recency)
        aggregate_plan = None
        if self.aggregates is not None:
            aggregate_plan = _build_aggregate_plan(
                self.aggregates, f"target.streams.{self.stream}.aggregates", problems)
        if plan is None or problems:
            raise ConfigError(problems)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_aggregate_plan", aggregate_plan)

    def apply(self, record: Mapping[str, Any], *, record_id: Any = None) -> MappedRecord:
        """Map one record.  ``record_id`` (default: the record's ``id``) only
        names the record in error messages.

        Raises :class:`MappingError` naming the stream, the record, the field and
        the fix, e.g. ``orders record 1042: no usable e-mail at billing.email
        ('not-an-email'); the profile key needs a valid address``.
        """
        plan = self._plan
        warnings: list[str] = []
        try:
            fields = _map_fields(plan.fields, record, None, record, warnings, "", None,
                                 plan.key_field)
            key = fields[plan.key_field]
            if not key:
                raise _Failure(_empty_key("", None, plan.key_field, plan.key))
            source_id = None
            if plan.source_id is not None:
                source_id = _source_id(plan.source_id, record)
            subprofiles: list[SubprofileWrite] = []
            for collection in plan.collections:
                _map_collection(collection, record, warnings, subprofiles)
            facts = (None if self._aggregate_plan is None
                     else _facts(self._aggregate_plan, record))
        except _Failure as failure:
            rid = record.get("id") if record_id is None else record_id
            shown = "(no id)" if rid is None else show_value(rid).strip("'")
            raise MappingError(f"{self.stream} record {shown}: {failure}") from None
        return MappedRecord(
            ProfileWrite(plan.key_field, key, fields, source_id, self._recency_of(record)),
            tuple(subprofiles),
            tuple(warnings),
            facts,
        )


    def _recency_of(self, record: Mapping[str, Any]) -> str | None:
        """The record's ``recency`` value as text; nothing when unmapped or empty (a
        bad value only weakens the record's claim, it never fails the record)."""
        if self._recency is None:
            return None
        try:
            value = self._recency.fn(record, None, record)
        except TransformError:
            return None
        return None if value is None or value == "" else str(value)


class _AggregatePlan(NamedTuple):
    fields: tuple[tuple[str, str, Expression | None], ...]   # name, function, source
    include_when: tuple[tuple[Expression, frozenset[str]], ...]


def _build_aggregate_plan(aggregates: AggregateMapping, key: str,
                          problems: list[str]) -> _AggregatePlan | None:
    start = len(problems)
    fields: list[tuple[str, str, Expression | None]] = []
    for spec in aggregates.fields:
        fkey = f"{key}.fields.{spec.name}"
        if spec.function not in AGGREGATE_FUNCTIONS:
            problems.append(f"{fkey}.function: must be one of {', '.join(AGGREGATE_FUNCTIONS)}")
            continue
        if spec.function != "count" and not spec.source.strip():
            problems.append(f"{fkey}.source: required for {spec.function}")
            continue
        expr = None
        if spec.source.strip() and spec.function != "count":
            try:
                expr = compile_expression(spec.source, key=f"{fkey}.source")
            except ConfigError as error:
                problems.extend(error.problems)
                continue
        fields.append((spec.name, spec.function, expr))
    include: list[tuple[Expression, frozenset[str]]] = []
    for source, allowed in aggregates.include_when.items():
        try:
            include.append((compile_expression(source, key=f"{key}.include_when"),
                            frozenset(str(v) for v in allowed)))
        except ConfigError as error:
            problems.extend(error.problems)
    if len(problems) > start:
        return None
    return _AggregatePlan(tuple(fields), tuple(include))


def _facts(plan: _AggregatePlan, record: Mapping[str, Any]) -> dict[str, str]:
    for condition, allowed in plan.include_when:
        value = condition.fn(record, None, record)
        if value is None or str(value) not in allowed:
            return {}
    out: dict[str, str] = {}
    for name, function, expr in plan.fields:
        if expr is None:
            out[name] = "1"
            continue
        value = expr.fn(record, None, record)
        if value is None or value == "":
            continue
        text = str(value)
        if function == "sum":
            try:
                Decimal(text)
            except InvalidOperation:
                raise _Failure(f"aggregate {name}: {show_value(value)} from {expr.source} is "
                               "not a number; fix the source value or the mapping") from None
        out[name] = text
    return out


# Labels ("OrderItems[2].sku") are built only when a warning or an error needs
# one: they would cost more than the mapping itself if built per value.


def _where(scope: str, index: int | None) -> str:
    """The label prefix: "" for the profile, "Orders." or "OrderItems[2]."."""
    if not scope:
        return ""
    return f"{scope}." if index is None else f"{scope}[{index}]."


def _role(scope: str, index: int | None) -> str:
    return "profile key" if not scope else _where(scope, index)[:-1] + " key"


def _map_collection(plan: _CollectionPlan, record: Mapping[str, Any], warnings: list[str],
                    out: list[SubprofileWrite]) -> None:
    name, key_field, each, fields_plan = plan
    if each is None:
        fields = _map_fields(fields_plan, record, None, record, warnings, name, None,
                             key_field)
        key = fields[key_field]
        if not key:
            raise _Failure(_empty_key(name, None, key_field, _expr_of(plan, key_field)))
        out.append(SubprofileWrite(name, key_field, key, fields))
        return
    try:
        elements = each.fn(record, None, record)
    except TransformError as error:
        raise _Failure(f"{name}: each = `{each.text}`: {error}") from None
    if elements is None:
        return
    if isinstance(elements, Mapping):
        raise _Failure(f"{name}: each = `{each.text}` gives an object, not a list; "
                       f"use `{each.source}[*]` to take its values")
    if not isinstance(elements, list | tuple):
        raise _Failure(f"{name}: each = `{each.text}` gives "
                       f"{show_value(elements)}, not a list")
    for i, element in enumerate(elements):
        fields = _map_fields(fields_plan, element, record, record, warnings, name, i,
                             key_field)
        key = fields[key_field]
        if not key:
            raise _Failure(_empty_key(name, i, key_field, _expr_of(plan, key_field)))
        out.append(SubprofileWrite(name, key_field, key, fields))


def _expr_of(plan: _CollectionPlan, name: str) -> Expression:
    return next(f.expr for f in plan.fields if f.name == name)


def _empty_key(scope: str, index: int | None, key_field: str, expr: Expression) -> str:
    return (f"{_role(scope, index)} {key_field} is empty: `{expr.text}` gave nothing; "
            f"every {'subprofile' if scope else 'profile'} needs a key "
            f"(is {expr.source} filled in?)")


def _source_id(expr: Expression, record: Mapping[str, Any]) -> str | None:
    try:
        value = expr.fn(record, None, record)
    except TransformError as error:
        raise _Failure(f"source_id: {error}") from None
    if value is None or isinstance(value, bool):
        return None
    if type(value) is int:
        # WooCommerce says "guest" with customer_id 0.
        return str(value) if value else None
    if isinstance(value, Mapping | list | tuple):
        raise _Failure(f"source_id: {expr.source} gives {show_value(value)}; "
                       "it must be one id")
    try:
        text = value if isinstance(value, str) else to_wire(value, field="source_id")
    except ValueError as exc:
        raise _Failure(f"source_id: {exc}") from None
    text = sanitize_text(text).strip()
    return None if text in ("", "0") else text


def _map_fields(fields: tuple[_FieldPlan, ...], item: Any, parent: Any, record: Any,
                warnings: list[str], scope: str, index: int | None, key_field: str
                ) -> dict[str, str]:
    """Evaluate and check one profile's or subprofile's fields.  ``scope`` is ""
    for the profile or the collection's name, ``index`` the ``each`` position."""
    out: dict[str, str] = {}
    for name, expr, kind, length, ftype, keep_when_missing in fields:
        try:
            value = expr.fn(item, parent, record)
        except TransformError as error:
            raise _Failure(_transform_failure(error, scope, index, name, key_field)) from None
        if type(value) is str:
            text = value
        elif value is None:
            if ftype not in _NEVER_EMPTY and not keep_when_missing:
                out[name] = ""
            continue
        elif type(value) is int:
            text = str(value)
            if kind in (_K_INTEGER, _K_FLOAT):
                out[name] = text
                continue
        else:
            text = _wire(value, expr, _where(scope, index) + name)
        if not text:
            if ftype not in _NEVER_EMPTY:
                out[name] = text
            continue
        # isprintable() runs at C speed and is true for almost every value; every
        # character XML forbids is unprintable, so only those values get searched.
        if not text.isprintable():
            bad = find_forbidden_chars(text)
            if bad:
                text = sanitize_text(text)
                warnings.append(f"field {_where(scope, index)}{name}: removed forbidden "
                                f"characters {', '.join(bad)}")
        if kind:  # not _K_TEXT
            text = _check_kind(text, kind, ftype, expr, _where(scope, index) + name)
        if length is not None and len(text) > length:
            if name == key_field:
                # A cut key could merge two people or orders into one.
                raise _Failure(f"{_role(scope, index)} {key_field} from {expr.source} is "
                               f"{len(text)} characters, longer than the field's {length}; "
                               "use a shorter key")
            warnings.append(f"field {_where(scope, index)}{name}: truncated from "
                            f"{len(text)} to {length} characters")
            text = text[:length]
        out[name] = text
    return out


def _wire(value: Any, expr: Expression, label: str) -> str:
    if isinstance(value, Mapping):
        raise _Failure(f"field {label}: {expr.source} gives an object; pick a value inside "
                       f"it, e.g. {expr.source}.name")
    if isinstance(value, list | tuple):
        raise _Failure(f"field {label}: {expr.source} gives {show_value(value)}; "
                       "add | join:', ' or pick one element")
    try:
        return to_wire(value, field=label)
    except ValueError:
        raise _Failure(f"field {label}: cannot send {show_value(value)} from "
                       f"{expr.source}") from None


def _check_kind(text: str, kind: int, ftype: str, expr: Expression, label: str) -> str:
    stripped = text.strip()
    if kind == _K_INTEGER:
        if _INTEGER_TEXT.fullmatch(stripped):
            return stripped
        hint = "convert with | int (whole numbers) or map it to a text field"
    elif kind == _K_FLOAT:
        if _FLOAT_TEXT.fullmatch(stripped):
            return stripped
        hint = "convert with | number:2 or map it to a text field"
    else:
        if _DATE_TEXT.fullmatch(stripped):
            try:
                datetime.fromisoformat(stripped)  # rejects 2024-02-30 and 25:00:00
            except ValueError:
                pass
            else:
                return stripped
        hint = "expected YYYY-MM-DD[ hh:mm:ss]; convert with | date or | datetime"
    article = "an" if ftype[0] in "aeiou" else "a"
    raise _Failure(f"field {label}: {show_value(text)} from {expr.source} is not valid for "
                   f"{article} {ftype} field; {hint}")


def _transform_failure(error: TransformError, scope: str, index: int | None, name: str,
                       key_field: str) -> str:
    shown = show_value(error.value)
    if name == key_field:
        if not scope and error.transform == "normalize_email":
            return (f"no usable e-mail at {error.source} ({shown}); "
                    "the profile key needs a valid address")
        return (f"{_role(scope, index)} {key_field}: {error.reason} at {error.source} "
                f"({shown}, transform {error.transform}); the key needs a valid value")
    return (f"field {_where(scope, index)}{name}: {error.reason} at {error.source} ({shown}, "
            f"transform {error.transform}); fix the source value or the mapping")


# ---------------------------------------------------------------------------
# Compiling a stream mapping


_PARENT_OUTSIDE_EACH = ("{key}: $parent is only available inside a collection with `each`; "
                        "here the record itself is read (use a plain path)")


def _build_plan(stream: str, profile: ProfileMapping, collections: tuple[CollectionMapping, ...],
                prefix: str) -> tuple[_StreamPlan | None, list[str]]:
    """Compile every expression of one stream and check what the dataclasses
    cannot check alone; all problems are returned, each with its full key."""
    base = f"{prefix}.streams.{stream}"
    problems: list[str] = []

    def compile_one(text: str, key: str, allow_parent: bool) -> Expression | None:
        try:
            expr = compile_expression(text, key=key)
        except ConfigError as error:
            problems.extend(error.problems)
            return None
        if expr.uses_parent and not allow_parent:
            problems.append(_PARENT_OUTSIDE_EACH.format(key=key))
        return expr

    key_expr = compile_one(profile.key, f"{base}.profile.key", False)
    source_id = (None if profile.source_id is None else
                 compile_one(profile.source_id, f"{base}.profile.source_id", False))
    profile_fields: list[_FieldPlan] = []
    _check_names(profile.fields, f"{base}.profile.fields", problems)
    for spec in profile.fields:
        key = f"{base}.profile.fields.{spec.name}"
        if spec.name == profile.key_field:
            if spec.source.strip() != profile.key.strip():
                problems.append(
                    f"{key}: the key field's value comes from {base}.profile.key "
                    f"({profile.key!r}), not {spec.source!r}; remove its source here")
            expr = key_expr
        else:
            expr = compile_one(spec.source, key, False)
        if expr is not None:
            profile_fields.append(_field_plan(spec, expr))

    collection_plans: list[_CollectionPlan] = []
    seen: dict[str, str] = {}
    for collection in collections:
        ckey = f"{base}.collections.{collection.name}"
        if not _NAME.fullmatch(collection.name):
            problems.append(f"{ckey}: collection names are letters, digits and underscores")
        if collection.name.lower() in seen:
            problems.append(f"{ckey}: same collection as {seen[collection.name.lower()]} "
                            "(Copernica ignores case)")
        seen[collection.name.lower()] = collection.name
        each = (None if collection.each is None else
                compile_one(collection.each, f"{ckey}.each", False))
        _check_names(collection.fields, f"{ckey}.fields", problems)
        if not any(spec.name == collection.key_field for spec in collection.fields):
            known = ", ".join(spec.name for spec in collection.fields) or "none"
            problems.append(f"{ckey}.key_field: {collection.key_field!r} is not one of the "
                            f"collection's fields ({known}); add it under {ckey}.fields")
        plans: list[_FieldPlan] = []
        for spec in collection.fields:
            expr = compile_one(spec.source, f"{ckey}.fields.{spec.name}",
                               collection.each is not None)
            if expr is not None:
                plans.append(_field_plan(spec, expr))
        collection_plans.append(
            _CollectionPlan(collection.name, collection.key_field, each, tuple(plans)))

    if problems or key_expr is None:
        return None, problems
    return _StreamPlan(profile.key_field, key_expr, source_id, tuple(profile_fields),
                       tuple(collection_plans)), []


def _field_plan(spec: FieldSpec, expr: Expression) -> _FieldPlan:
    return _FieldPlan(spec.name, expr, _KINDS.get(spec.type, _K_TEXT), spec.length, spec.type,
                      spec.if_missing == "keep")


def _check_names(specs: Iterable[FieldSpec], key: str, problems: list[str]) -> None:
    seen: dict[str, str] = {}
    for spec in specs:
        if not _NAME.fullmatch(spec.name):
            problems.append(f"{key}.{spec.name}: field names are letters, digits and "
                            "underscores, starting with a letter or underscore")
        lower = spec.name.lower()
        if lower in seen:
            problems.append(f"{key}.{spec.name}: same field as {key}.{seen[lower]} "
                            "(Copernica ignores case in field names)")
        seen[lower] = spec.name


# ---------------------------------------------------------------------------
# The whole target


@dataclass(frozen=True)
class TargetMapping:
    """The ``[target]`` table: the database, its profile key field and one
    mapping per stream."""

    database: str
    profile_key: str
    streams: Mapping[str, StreamMapping]

    def database_fields(self) -> list[FieldSpec]:
        """The database's fields: the union over all streams' profile fields by
        name (first definition wins for type and length; indexed if any stream
        indexes it).  The profile key field is indexed."""
        return _union(_profile_specs(self.streams, "target"))[0]

    def collections(self) -> dict[str, list[FieldSpec]]:
        """Each collection's fields, united over the streams that write it."""
        return {name: _union(specs)[0]
                for name, specs in _collection_specs(self.streams, "target").items()}


def _profile_specs(streams: Mapping[str, StreamMapping], prefix: str
                   ) -> list[tuple[str, FieldSpec]]:
    specs = [(f"{prefix}.streams.{name}.profile.fields.{spec.name}", spec)
             for name, stream in streams.items() for spec in stream.profile.fields]
    specs += [(f"{prefix}.streams.{name}.aggregates.fields.{agg.name}", agg.field_spec())
              for name, stream in streams.items() if stream.aggregates is not None
              for agg in stream.aggregates.fields]
    return specs


def _collection_specs(streams: Mapping[str, StreamMapping], prefix: str
                      ) -> dict[str, list[tuple[str, FieldSpec]]]:
    out: dict[str, list[tuple[str, FieldSpec]]] = {}
    for name, stream in streams.items():
        for collection in stream.collections:
            out.setdefault(collection.name, []).extend(
                (f"{prefix}.streams.{name}.collections.{collection.name}.fields.{spec.name}",
                 spec) for spec in collection.fields)
    return out


def _union(specs: Iterable[tuple[str, FieldSpec]]) -> tuple[list[FieldSpec], list[str]]:
    first: dict[str, tuple[str, FieldSpec]] = {}
    problems: list[str] = []
    for key, spec in specs:
        lower = spec.name.lower()
        if lower not in first:
            first[lower] = (key, spec)
            continue
        first_key, first_spec = first[lower]
        if spec.type != first_spec.type:
            problems.append(f"{key}: type {spec.type!r} conflicts with type "
                            f"{first_spec.type!r} at {first_key}; a Copernica field has "
                            "one type")
        elif spec.index and not first_spec.index:
            first[lower] = (first_key, replace(first_spec, index=True))
    return [spec for _, spec in first.values()], problems


def _target_problems(profile_key: str, streams: Mapping[str, StreamMapping], prefix: str
                     ) -> list[str]:
    problems: list[str] = []
    for name, stream in streams.items():
        if stream.profile.key_field != profile_key:
            problems.append(f"{prefix}.streams.{name}.profile: key field "
                            f"{stream.profile.key_field!r} differs from {prefix}.profile_key "
                            f"{profile_key!r}")
    problems.extend(_union(_profile_specs(streams, prefix))[1])
    key_fields: dict[str, tuple[str, str]] = {}
    for name, stream in streams.items():
        for collection in stream.collections:
            ckey = f"{prefix}.streams.{name}.collections.{collection.name}"
            known = key_fields.setdefault(collection.name, (ckey, collection.key_field))
            if known[1] != collection.key_field:
                problems.append(f"{ckey}.key_field: {collection.key_field!r} conflicts with "
                                f"{known[1]!r} at {known[0]}.key_field")
    for specs in _collection_specs(streams, prefix).values():
        problems.extend(_union(specs)[1])
    return problems


# ---------------------------------------------------------------------------
# Parsing the TOML table


def parse_target(table: Mapping[str, Any], defaults: Mapping[str, Any] | None = None, *,
                 prefix: str = "target", allow_keys: Collection[str] = ()) -> TargetMapping:
    """Deep-merge ``table`` over ``defaults`` (the connector's default mapping),
    validate everything and build the :class:`TargetMapping`.

    The shape is checked by the pydantic models of :mod:`._mapping_tables` (the one
    configuration model); expressions, names and conflicts between streams here.
    Raises one :class:`ConfigError` listing every problem, each naming its full
    key (``target.streams.orders.collections.Orders.fields.total: unknown
    transform 'nummber' …``).  ``allow_keys`` names extra top-level keys that
    other parts of the job read from the same table, so they are not reported
    as unknown.
    """
    from ..configuration import validate
    from ._mapping_tables import StreamTable, TargetTable

    if not isinstance(table, Mapping):
        raise ConfigError(f"{prefix}: expected a table, got {type(table).__name__}")
    merged = _merge(_merge({}, defaults or {}, ()), table, ())
    problems: list[str] = []
    top = {k: v for k, v in merged.items() if k not in allow_keys}
    try:
        target = validate(TargetTable, top, prefix)
        database, profile_key, stream_tables = target.database, target.profile_key, \
            target.streams
    except ConfigError as exc:
        problems += exc.problems
        database, profile_key = "", DEFAULT_PROFILE_KEY
        raw_streams = merged.get("streams")
        stream_tables = raw_streams if isinstance(raw_streams, dict) else {}

    streams: dict[str, StreamMapping] = {}
    for name, stream_table in stream_tables.items():
        key = f"{prefix}.streams.{name}"
        tables = _with_key_sources(stream_table, profile_key)
        try:
            checked = validate(StreamTable, tables, key, context={"key_field": profile_key})
        except ConfigError as exc:
            problems += exc.problems
            problems += _expression_problems(tables, key)
            continue
        stream = _build_stream(str(name), checked, profile_key, key, prefix, problems)
        if stream is not None:
            streams[str(name)] = stream

    problems.extend(_target_problems(profile_key, streams, prefix))
    if problems:
        raise ConfigError(problems)
    return TargetMapping(database, profile_key, streams)


def _expression_problems(table: Any, key: str) -> list[str]:
    """The expression problems of a stream table whose shape check failed (which
    stops before the expressions are compiled): reported with the shape problems,
    so one config check shows every problem."""
    problems: list[str] = []

    def check(text: Any, where: str, allow_parent: bool = False) -> None:
        if not isinstance(text, str) or not text.strip():
            return
        try:
            expr = compile_expression(text, key=where)
        except ConfigError as error:
            problems.extend(error.problems)
            return
        if expr.uses_parent and not allow_parent:
            problems.append(_PARENT_OUTSIDE_EACH.format(key=where))

    def check_fields(fields: Any, where: str, allow_parent: bool = False) -> None:
        for name, spec in fields.items() if isinstance(fields, Mapping) else ():
            check(spec.get("source") if isinstance(spec, Mapping) else spec, f"{where}.{name}",
                  allow_parent)

    if not isinstance(table, Mapping):
        return problems
    profile = table.get("profile")
    if isinstance(profile, Mapping):
        check(profile.get("key"), f"{key}.profile.key")
        check_fields(profile.get("fields"), f"{key}.profile.fields")
    collections = table.get("collections")
    for name, collection in collections.items() if isinstance(collections, Mapping) else ():
        if isinstance(collection, Mapping):
            check(collection.get("each"), f"{key}.collections.{name}.each")
            check_fields(collection.get("fields"), f"{key}.collections.{name}.fields",
                         collection.get("each") is not None)
    return problems


def _merge(base: Mapping[str, Any], over: Mapping[str, Any], path: tuple[str, ...]
           ) -> dict[str, Any]:
    return deep_merge(base, over, adapt=_mapping_shorthands, path=path)


def _mapping_shorthands(child: tuple[str, ...], old: Any, value: Any) -> tuple[Any, Any]:
    """`false` removes what the defaults set (inside a field table it is a plain
    value: index = false); a field given as a string is a table's `source`."""
    if value is False and not _is_field_table(child[:-1]):
        return old, DELETE
    if isinstance(value, Mapping) and isinstance(old, str) and _is_field_table(child):
        return {"source": old}, value
    return old, value


def _is_field_table(path: tuple[str, ...]) -> bool:
    """Whether ``path`` is a field's own table, e.g. streams.orders.profile.fields.total."""
    if len(path) == 5:
        return path[0] == "streams" and path[2] == "profile" and path[3] == "fields"
    if len(path) == 6:
        return path[0] == "streams" and path[2] == "collections" and path[4] == "fields"
    return False


def _with_key_sources(stream: Any, profile_key: str) -> Any:
    """A field given as an expression is the table ``{ source = … }``; the profile key
    field may omit ``source`` and takes the profile's ``key``."""
    if not isinstance(stream, Mapping):
        return stream
    out = dict(stream)
    profile = out.get("profile")
    if isinstance(profile, Mapping):
        profile = out["profile"] = dict(profile)
        profile["fields"] = _field_tables(profile.get("fields"))
        key_table = profile["fields"].get(profile_key) if isinstance(
            profile["fields"], Mapping) else None
        if isinstance(key_table, Mapping) and "source" not in key_table \
                and isinstance(profile.get("key"), str):
            profile["fields"][profile_key] = {**key_table, "source": profile["key"]}
        if profile["fields"] is None:
            del profile["fields"]
    collections = out.get("collections")
    if isinstance(collections, Mapping):
        out["collections"] = {
            name: ({**c, "fields": _field_tables(c.get("fields"))} if isinstance(c, Mapping)
                   and c.get("fields") is not None else c) for name, c in collections.items()}
    return out


def _field_tables(fields: Any) -> Any:
    if not isinstance(fields, Mapping):
        return fields
    return {name: {"source": value} if isinstance(value, str) else value
            for name, value in fields.items()}


def _build_stream(name: str, table: Any, profile_key: str, key: str, prefix: str,
                  problems: list[str]) -> StreamMapping | None:
    """The checked tables of one stream as its :class:`StreamMapping` (expressions
    compiled); ``None`` after adding the problems."""
    start = len(problems)
    profile = ProfileMapping(
        profile_key, table.profile.key,
        tuple(_field_specs(table.profile.fields, profile_key, f"{key}.profile.fields",
                           problems)),
        table.profile.source_id, table.profile.recency)
    collections = tuple(
        CollectionMapping(cname, c.key_field,
                          tuple(_field_specs(c.fields, c.key_field,
                                             f"{key}.collections.{cname}.fields", problems)),
                          c.each)
        for cname, c in table.collections.items())
    aggregates = None
    if table.aggregates is not None:
        aggregates = AggregateMapping(
            tuple(AggregateSpec(fname, f.function, f.source,
                                f.type or ("integer" if f.function == "count" else "text"))
                  for fname, f in table.aggregates.fields.items()),
            {expr: tuple(str(v) for v in values)
             for expr, values in table.aggregates.include_when.items()})
    # Expressions are compiled even when a field table had a problem, so that one
    # run of the config check reports every problem.
    plan, plan_problems = _build_plan(name, profile, collections, prefix)
    if aggregates is not None:
        _build_aggregate_plan(aggregates, f"{key}.aggregates", plan_problems)
    problems.extend(plan_problems)
    if plan is None or len(problems) > start:
        return None
    return StreamMapping(name, profile, collections, aggregates)


def _field_specs(fields: Mapping[str, Any], key_field: str, key: str, problems: list[str]
                 ) -> list[FieldSpec]:
    specs = []
    for name, f in fields.items():
        if name == key_field and "index" in f.model_fields_set and not f.index:
            problems.append(f"{key}.{name}.index: the key field is always indexed; remove "
                            "index = false")
            continue
        specs.append(FieldSpec(name, f.source, f.type,
                               f.length if f.length is not None else _AUTO_LENGTH,
                               f.index or name == key_field, f.if_missing))
    return specs
