"""Typed, immutable objects the SDK returns.  No zeep object ever leaves the SDK.

Field values are kept as the strings Copernica stores (every value in a
Copernica map is a string on the wire); convert them where you know the type.
Timestamps are naive ``datetime`` objects in the account's time zone, as the
service reports them, or ``None`` when the service sends an empty or zero date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from .errors import InvalidRequirementError, UnverifiedOperatorError
from .values import to_wire

__all__ = [
    "DEFAULT_TEXT_LENGTH",
    "OPERATORS",
    "UNVERIFIED_OPERATORS",
    "VERIFIED_OPERATORS",
    "BulkResult",
    "Callback",
    "Collection",
    "Database",
    "Field",
    "Operator",
    "Page",
    "Profile",
    "Requirement",
    "Subprofile",
]

T = TypeVar("T")

#: Search operators a :class:`Requirement` takes: the ones Copernica's requirements
#: take (its REST API on the same backend documents ``== != <> < > <= >= =~ !~``;
#: docs/copernica-api-notes.md §5), plus SOAP's own ``=``.
Operator = Literal["=", "==", "!=", "<>", "<", ">", "<=", ">=", "=~", "!~"]

#: Operators seen working on the SOAP API (docs/copernica-api-notes.md §5).  ``==``
#: and ``<>`` are REST's spellings of the same tests and are sent as ``=``/``!=``.
VERIFIED_OPERATORS = frozenset({"=", "==", "!=", "<>"})

#: Operators documented for REST only: sent on SOAP only when asked for by name
#: (``unverified=True``), because nobody has seen the SOAP service accept them.
UNVERIFIED_OPERATORS = frozenset({"<", ">", "<=", ">=", "=~", "!~"})

OPERATORS = VERIFIED_OPERATORS | UNVERIFIED_OPERATORS

#: What each operator is sent as (REST's aliases become SOAP's verified spelling).
_WIRE_OPERATOR = {"==": "=", "<>": "!="}

#: Length of a text field created without one, by the SDK (``fields.create``,
#: ``FieldSchema``) and by the sync mapping alike.  Copernica's own default is not
#: documented, so the SDK always sends a length.
DEFAULT_TEXT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Database:
    """A Copernica database (a table of profiles)."""

    id: int
    name: str
    description: str = ""
    archived: bool = False
    created: datetime | None = None
    unsubscribe_behavior: str = ""
    profile_count: int | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a database or of a collection."""

    id: int
    name: str
    type: str = "text"
    default: str = ""
    length: int | None = None
    index: bool = False
    hidden: bool = False
    displayed: bool = False
    ordered: bool = False
    big: bool = False
    lines: int | None = None
    special_content: str = ""


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection (a table of subprofiles hanging under profiles) in a database."""

    id: int
    name: str
    database_id: int | None = None
    created: datetime | None = None
    subprofile_count: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A profile in a database.

    ``fields`` is only filled when the profile was read with all properties
    (the default for the SDK's search and iteration methods).
    """

    id: int
    code: str = ""
    database_id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    interests: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subprofile:
    """A subprofile: one row of a collection, owned by one profile."""

    id: int
    code: str = ""
    profile_id: int | None = None
    collection_id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Callback:
    """A database callback (old-style webhook)."""

    id: int
    url: str
    method: str = ""
    expression: str = ""


@dataclass(frozen=True, slots=True, init=False)
class Requirement:
    """One search condition: ``field``, ``operator``, ``value``.  Requirements in a
    list are combined with AND::

        Requirement("country", "=", "NL")
        Requirement("status", "!=", "deleted")
        Requirement("score", ">", 500, unverified=True)   # see below

    ``value`` may be anything the SDK writes (numbers, dates…; see
    :func:`copernica_sdk.values.to_wire`) and is kept as the text sent.
    ``case_sensitive`` is always sent explicitly, because the service's default
    is undocumented.

    ``=``/``==`` and ``!=``/``<>`` are verified on the SOAP API.  ``< > <= >=``
    and ``=~``/``!~`` (LIKE / NOT LIKE, with ``%`` and ``_`` wildcards) are
    documented for Copernica's REST API only: constructing one raises
    :class:`~copernica_sdk.errors.UnverifiedOperatorError` unless
    ``unverified=True`` says you know (or see :mod:`copernica_sdk.requirements`).
    Any other operator raises :class:`~copernica_sdk.errors.InvalidRequirementError`.
    """

    field: str
    operator: Operator
    value: str
    case_sensitive: bool
    unverified: bool

    def __init__(self, field: str, operator: str = "=", value: Any = None, *,
                 case_sensitive: bool = True, unverified: bool = False) -> None:
        if not isinstance(field, str) or not field.strip():
            raise InvalidRequirementError(f"a requirement needs a field name, not {field!r}",
                                          operator=str(operator), field=str(field))
        if operator not in OPERATORS:
            raise InvalidRequirementError(
                f"requirement on {field!r}: operator {operator!r} is not one Copernica takes; "
                f"use one of {', '.join(sorted(OPERATORS))} (docs/sdk.md, 'Search operators')",
                operator=str(operator), field=field)
        if operator in UNVERIFIED_OPERATORS and not unverified:
            raise UnverifiedOperatorError(
                f"requirement on {field!r}: operator {operator!r} is documented for Copernica's "
                "REST API but not verified on the SOAP API; pass unverified=True (or use "
                "copernica_sdk.requirements.unverified) to send it anyway, or use = / != "
                "(docs/sdk.md, 'Search operators')", operator=operator, field=field)
        if value is None:
            raise InvalidRequirementError(
                f"requirement on {field!r} needs a value (use \"\" for an empty one)",
                operator=operator, field=field)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "value", to_wire(value, field=field))
        object.__setattr__(self, "case_sensitive", bool(case_sensitive))
        object.__setattr__(self, "unverified", bool(unverified))

    @property
    def wire_operator(self) -> str:
        """The operator as sent: REST's ``==``/``<>`` become SOAP's ``=``/``!=``."""
        return _WIRE_OPERATOR.get(self.operator, self.operator)

    @property
    def is_equality(self) -> bool:
        """``=`` (or ``==``): the condition a created record starts with."""
        return self.wire_operator == "="


@dataclass(frozen=True, slots=True)
class BulkResult(Generic[T]):
    """The outcome of one item of a bulk call (``upsert_many``), in input order.

    ``ok`` tells which of ``value`` (what the single call returns) and ``error``
    (the exception it raised) is set.  :meth:`unwrap` returns the value or
    raises the error.
    """

    index: int
    value: T | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paged result: ``items`` starting at ``start`` of ``total``."""

    items: tuple[T, ...]
    start: int
    total: int

    @property
    def next_start(self) -> int:
        return self.start + len(self.items)

    @property
    def has_more(self) -> bool:
        return bool(self.items) and self.next_start < self.total
