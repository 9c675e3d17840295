"""The fake's entities: plain mutable records, owned and locked by ``State``.

Field values are keyed by field id, not name, so renaming a field (``Field_update``)
does not have to touch every profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fieldtypes import DEFAULT_TEXT_LENGTH, default_value, normalise


@dataclass(slots=True)
class Account:
    id: int
    name: str
    created: str


@dataclass(slots=True)
class Field:
    """A database field (owner ``database``) or collection field (owner ``collection``)."""

    id: int
    owner: str
    owner_id: int
    name: str
    type: str = "text"
    value: str = ""  # the default value; for a select field, its options, one per line
    displayed: bool = False
    ordered: bool = False
    length: int = 0
    lines: int = 0
    big: bool = False
    hidden: bool = False
    index: bool = False
    specialcontent: str = ""

    def normalise(self, value: str) -> str | None:
        """The stored form of ``value`` for this field, or None if the type rejects it."""
        return normalise(self.type, value, length=self.length, big=self.big, options=self.value)

    def default(self) -> str:
        """The value an entity gets when it is created without one for this field."""
        if self.type == "select" or not self.value:
            return default_value(self.type)
        return self.normalise(self.value) or default_value(self.type)

    def effective_length(self) -> int:
        if self.type == "text" and not self.big:
            return self.length or DEFAULT_TEXT_LENGTH
        return self.length


@dataclass(slots=True)
class Database:
    id: int
    account: str
    name: str
    description: str
    created: str
    archived: bool = False
    unsubscribebehavior: str = "nothing"
    unsubscribe_values: dict[int, str] = field(default_factory=dict)
    field_ids: list[int] = field(default_factory=list)
    collection_ids: list[int] = field(default_factory=list)
    callback_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Collection:
    id: int
    database: int
    name: str
    created: str
    unsubscribebehavior: str = "nothing"
    field_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Profile:
    id: int
    database: int
    code: str
    created: str
    modified: str
    values: dict[int, str] = field(default_factory=dict)
    interests: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Subprofile:
    id: int
    collection: int
    profile: int
    code: str
    created: str
    modified: str
    values: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Callback:
    id: int
    database: int
    url: str
    method: str
    expression: str


Entity = Profile | Subprofile
