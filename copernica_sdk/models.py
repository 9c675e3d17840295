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
from typing import Generic, Literal, TypeVar

__all__ = [
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

#: Search operators the SDK sends.  Copernica documents ``=`` and ``!=`` in
#: real use; other operators are unverified on the SOAP API, so they are refused.
Operator = Literal["=", "!="]


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


@dataclass(frozen=True, slots=True)
class Requirement:
    """One search condition.  Requirements in a list are combined with AND.

    ``case_sensitive`` is always sent explicitly, because the service's default
    is undocumented.
    """

    field: str
    value: str
    operator: Operator = "="
    case_sensitive: bool = True


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
