"""Schema as code: declare a database, its fields, collections and indexes; plan; apply.

``plan`` compares the declaration with what exists in Copernica and lists what
is missing.  ``apply`` creates it.  Neither ever deletes or retypes anything: a
field whose type differs is reported as a conflict with the fix, and left alone.
::

    schema = DatabaseSchema("Customers", fields=[
        FieldSchema("customer_key", length=64, index=True),
        FieldSchema("email", type="email"),
    ], collections=[CollectionSchema("Orders", fields=[FieldSchema("order_id", index=True)])])
    result = plan(client, schema)
    print(result.describe())
    apply(client, result)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .models import DEFAULT_TEXT_LENGTH, Collection, Database, Field

if TYPE_CHECKING:
    from .client import CopernicaClient

__all__ = [
    "CollectionSchema",
    "DatabaseSchema",
    "FieldSchema",
    "SchemaChange",
    "SchemaPlan",
    "apply",
    "plan",
]

# Copernica types that hold the same kind of value: declaring one where the other
# exists is not a conflict (e.g. "empty_date" accepts what "date" accepts and empty).
_COMPATIBLE = {
    "date": {"date", "empty_date"},
    "datetime": {"datetime", "empty_datetime"},
    "text": {"text", "big", "email", "phone", "phone_fax", "phone_gsm", "select", "country",
             "locale"},
    "email": {"email", "text"},
    "big": {"big"},
}


@dataclass(frozen=True)
class FieldSchema:
    """A field as it should exist.  ``length`` applies to text fields; without one a
    ``text`` field is created with :data:`~copernica_sdk.models.DEFAULT_TEXT_LENGTH`
    (255) characters, the sync mapping's default too (docs/sdk.md, "Text lengths")."""

    name: str
    type: str = "text"
    length: int | None = None
    index: bool = False

    @property
    def effective_length(self) -> int | None:
        """The length the field is created with: ``length``, else 255 for ``text``."""
        if self.length is not None:
            return self.length
        return DEFAULT_TEXT_LENGTH if self.type == "text" else None


@dataclass(frozen=True)
class CollectionSchema:
    name: str
    fields: Sequence[FieldSchema] = ()


@dataclass(frozen=True)
class DatabaseSchema:
    name: str
    fields: Sequence[FieldSchema] = ()
    collections: Sequence[CollectionSchema] = ()


Action = Literal["create_database", "create_field", "create_collection", "create_collection_field",
                 "add_index", "add_collection_index"]


@dataclass(frozen=True)
class SchemaChange:
    """One thing ``apply`` will do.  ``path`` reads like ``Customers.Orders.order_id``."""

    action: Action
    path: str
    field: FieldSchema | None = None
    collection: str | None = None

    def describe(self) -> str:
        verb = {
            "create_database": "create database",
            "create_field": "create field",
            "create_collection": "create collection",
            "create_collection_field": "create collection field",
            "add_index": "index field",
            "add_collection_index": "index collection field",
        }[self.action]
        extra = ""
        if self.field is not None and self.action.startswith("create") and "field" in self.action:
            length = self.field.effective_length
            extra = f" ({self.field.type}" + (f", length {length}" if length else "")
            extra += ", indexed)" if self.field.index else ")"
        return f"+ {verb} {self.path}{extra}"


@dataclass
class SchemaPlan:
    """What is missing (``changes``) and what cannot be reconciled (``conflicts``)."""

    schema: DatabaseSchema
    changes: list[SchemaChange] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    database: Database | None = None
    collections: dict[str, Collection] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def describe(self) -> str:
        lines = [c.describe() for c in self.changes]
        lines += [f"! {c}" for c in self.conflicts]
        if not lines:
            lines = [f"database {self.schema.name!r} is up to date"]
        elif self.conflicts:
            lines.append(f"{len(self.conflicts)} conflict(s) need a decision (see ! lines); "
                         "nothing is ever deleted or retyped")
        return "\n".join(lines)


def plan(client: CopernicaClient, schema: DatabaseSchema) -> SchemaPlan:
    """Compare ``schema`` with Copernica; read-only."""
    result = SchemaPlan(schema)
    database = client.databases.find(schema.name)
    result.database = database
    if database is None:
        result.changes.append(SchemaChange("create_database", schema.name))
        result.changes += [SchemaChange("create_field", f"{schema.name}.{f.name}", field=f)
                           for f in schema.fields]
        for coll in schema.collections:
            path = f"{schema.name}.{coll.name}"
            result.changes.append(SchemaChange("create_collection", path, collection=coll.name))
            result.changes += [SchemaChange("create_collection_field", f"{path}.{f.name}",
                                            field=f, collection=coll.name) for f in coll.fields]
        return result
    _compare_fields(result, schema.name, schema.fields,
                    client.fields.list(database=database), collection=None)
    existing = {c.name.casefold(): c for c in client.collections.list(database)}
    for coll in schema.collections:
        path = f"{schema.name}.{coll.name}"
        found = existing.get(coll.name.casefold())
        if found is None:
            result.changes.append(SchemaChange("create_collection", path, collection=coll.name))
            result.changes += [SchemaChange("create_collection_field", f"{path}.{f.name}",
                                            field=f, collection=coll.name) for f in coll.fields]
            continue
        result.collections[coll.name] = found
        _compare_fields(result, path, coll.fields, client.fields.list(collection=found),
                        collection=coll.name)
    return result


def _compare_fields(result: SchemaPlan, path: str, wanted: Sequence[FieldSchema],
                    existing: Sequence[Field], *, collection: str | None) -> None:
    have = {f.name.casefold(): f for f in existing}
    create: Action = "create_collection_field" if collection else "create_field"
    index: Action = "add_collection_index" if collection else "add_index"
    for spec in wanted:
        target = f"{path}.{spec.name}"
        current = have.get(spec.name.casefold())
        if current is None:
            result.changes.append(SchemaChange(create, target, field=spec, collection=collection))
            continue
        if current.type not in _COMPATIBLE.get(spec.type, {spec.type}):
            result.conflicts.append(
                f"{target} is of type {current.type!r} in Copernica but the mapping declares "
                f"{spec.type!r}: change the mapping's type to {current.type!r}, or convert the "
                "field in Copernica yourself (copernica-sync never retypes fields)")
        if spec.index and not current.index:
            result.changes.append(SchemaChange(index, target, field=spec, collection=collection))


def apply(client: CopernicaClient, schema_plan: SchemaPlan) -> list[str]:
    """Carry out ``schema_plan``'s changes (creates only); returns what was done."""
    done: list[str] = []
    name = schema_plan.schema.name
    database = schema_plan.database
    collections = dict(schema_plan.collections)
    for change in schema_plan.changes:
        if change.action == "create_database":
            database = client.databases.create(name)
        elif database is None:
            raise RuntimeError(f"plan for {name!r} has no database to apply changes to")
        elif change.action == "create_collection":
            assert change.collection is not None
            collections[change.collection] = client.collections.create(database,
                                                                       change.collection)
        elif change.field is not None:
            spec = change.field
            in_db = None if change.collection else database
            in_coll = collections[change.collection] if change.collection else None
            if change.action in ("create_field", "create_collection_field"):
                client.fields.create(spec.name, database=in_db, collection=in_coll,
                                     type=spec.type, length=spec.effective_length,
                                     index=spec.index or None)
            else:
                existing = client.fields.get(spec.name, database=in_db, collection=in_coll)
                client.fields.update(existing, in_collection=in_coll is not None, index=True)
        done.append(change.describe())
    return done
