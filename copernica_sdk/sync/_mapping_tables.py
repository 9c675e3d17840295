"""The ``[target]`` mapping's tables as pydantic models (the one configuration model).

:func:`copernica_sdk.sync.mapping.parse_target` merges the job's table over the
connector's defaults, validates the result with these models — unknown keys
(with "did you mean"), types, required keys, field types and lengths — and then
compiles the expressions and checks what needs every stream at once.  Fields
given as a bare expression reach :class:`FieldTable` as ``{ source = … }``.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ..configuration import Table, problem
from .mapping import _LENGTH_TYPES as LENGTH_TYPES
from .mapping import _NAME as NAME
from .mapping import FIELD_TYPES

__all__ = ["FIELD_TYPES", "FieldTable", "StreamTable", "TargetTable"]

_EXPRESSION = "an expression string"
_QUIET: Any = {"hint": ""}  # "required", and nothing more


def _expression(value: str) -> str:
    if not value.strip():
        raise problem(f"must be {_EXPRESSION}, got empty text")
    return value


def _field_type(value: str) -> str:
    if value not in FIELD_TYPES:
        close = difflib.get_close_matches(value, sorted(FIELD_TYPES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise problem(f"unknown type {value!r} (known: {', '.join(sorted(FIELD_TYPES))}){hint}")
    return value


Expression = Annotated[str, AfterValidator(_expression)]
FieldType = Annotated[str, AfterValidator(_field_type)]


class _MappingTable(Table):
    unknown_word: ClassVar[str] = "key"


class FieldTable(_MappingTable):
    """One field: ``{ source, type = "text", length, index = false, if_missing = "clear" }``."""

    expected: ClassVar[str] = ("an expression string, a table { source = …, type = … } "
                               "or false")
    source: str | None = Field(None, validate_default=True, description=_EXPRESSION)
    type: FieldType = Field("text", description="a Copernica field type as text")
    length: Annotated[int, Field(ge=1)] | None = Field(
        None, description="a whole number of at least 1")
    index: bool = Field(False, description="true or false")
    if_missing: Literal["clear", "keep"] = Field(
        "clear", description='"clear" (empty the field) or "keep" (leave Copernica\'s value)')

    @field_validator("source")
    @classmethod
    def _an_expression(cls, value: str | None) -> str | None:
        if value is None:
            raise problem("required — the expression filling the field")
        if not value.strip():
            raise problem("empty expression (write `false` to remove the field)")
        return value

    @field_validator("length")
    @classmethod
    def _text_like(cls, value: int | None, info: ValidationInfo) -> int | None:
        ftype = info.data.get("type")
        if value is not None and ftype is not None and ftype not in LENGTH_TYPES:
            raise problem(f"only text-like fields have a length, not {ftype!r} fields")
        return value


class ProfileTable(_MappingTable):
    """``[target.streams.NAME.profile]``."""

    key: Expression = Field(description=_EXPRESSION, json_schema_extra=_QUIET)
    source_id: Expression | None = Field(None, description=_EXPRESSION)
    recency: Expression | None = Field(None, description=_EXPRESSION)
    fields: dict[str, FieldTable] = Field(default_factory=dict,
                                          description="a table of fields")


class CollectionTable(_MappingTable):
    """``[target.streams.NAME.collections.COLLECTION]``."""

    key_field: str = Field(
        description="text (quote it): the field that identifies a subprofile",
        json_schema_extra={"hint": 'the field that identifies a subprofile, e.g. key_field = '
                                   '"order_id"'})
    each: Expression | None = Field(None, description=_EXPRESSION)
    fields: dict[str, FieldTable] = Field(
        description="a table of fields", json_schema_extra={"hint": "at least the key field"})

    @field_validator("key_field")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise problem('required — the field that identifies a subprofile, e.g. '
                          'key_field = "order_id"')
        return value

    @field_validator("fields")
    @classmethod
    def _some(cls, value: dict[str, FieldTable]) -> dict[str, FieldTable]:
        if not value:
            raise problem("required — at least the key field")
        return value


class AggregateFieldTable(_MappingTable):
    """``fields.NAME`` of ``aggregates``: ``{ function, source, type }``."""

    expected: ClassVar[str] = "a table { function = …, source = …, type = … }"
    function: Literal["count", "sum", "min", "max"] = Field(
        description="one of count, sum, min, max")
    source: str = Field("", description=_EXPRESSION)
    type: FieldType | None = Field(None, description="a Copernica field type as text")


def _non_empty(values: list[Any]) -> list[Any]:
    if not values:
        raise problem("expected a non-empty list of values")
    return values


class AggregatesTable(_MappingTable):
    """``aggregates``: ``include_when`` and ``fields``."""

    expected: ClassVar[str] = "a table with `fields` (and optional `include_when`)"
    include_when: dict[str, Annotated[list[Any], AfterValidator(_non_empty)]] = Field(
        default_factory=dict, description="a table of expression = [values]")
    fields: dict[str, AggregateFieldTable] = Field(
        description="a table of aggregate fields", json_schema_extra=_QUIET)

    @field_validator("fields")
    @classmethod
    def _some(cls, value: dict[str, AggregateFieldTable]) -> dict[str, AggregateFieldTable]:
        if not value:
            raise problem("expected a table of aggregate fields")
        return value


class StreamTable(_MappingTable):
    """``[target.streams.NAME]``."""

    profile: ProfileTable = Field(
        description="a table", json_schema_extra={
            "hint": 'every record becomes a profile; e.g. [….profile] key = '
                    '"email | normalize_email"'})
    collections: dict[str, CollectionTable] = Field(
        default_factory=dict, description="a table of collections")
    aggregates: AggregatesTable | None = Field(None, description=AggregatesTable.expected)


class TargetTable(_MappingTable):
    """``[target]``: the database, the profile key field, the streams (checked one by one
    with :class:`StreamTable`, so that every stream's problems come at once)."""

    database: str = Field(
        validate_default=True, description="text (quote it): the Copernica database",
        json_schema_extra={"hint": 'the Copernica database, e.g. database = "Customers"'})
    profile_key: Annotated[str, Field(pattern=NAME.pattern + "$")] = Field(
        "customer_key", description="a field name (letters, digits, underscores)")
    streams: dict[str, Any] = Field(
        description="a table of streams", json_schema_extra={
            "hint": 'map at least one stream, e.g. [target.streams.customers.profile] '
                    'key = "email | normalize_email"'})

    @field_validator("database")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise problem('required — the Copernica database, e.g. database = "Customers"')
        return value

    @field_validator("streams")
    @classmethod
    def _some(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise problem('map at least one stream, e.g. [target.streams.customers.profile] '
                          'key = "email | normalize_email"')
        return value
