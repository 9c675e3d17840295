"""``client.fields``: fields of databases and of collections."""

from __future__ import annotations

from typing import Any

from .._paging import auto_paging
from ..errors import NotFoundError
from ..models import DEFAULT_TEXT_LENGTH, Field, Page
from ._common import ClientCore, IdLike, id_of

__all__ = ["FieldsService"]

# Parent kind → (list op, get op, create op, update op, element name in results).
_OPS = {
    "database": ("Database_fields", "Database_field", "Database_createField", "Field_update",
                 "field"),
    "collection": ("Collection_fields", "Collection_field", "Collection_createField",
                   "CollectionField_update", "collectionfield"),
}


def _parent(database: IdLike | None, collection: IdLike | None) -> tuple[str, int]:
    if (database is None) == (collection is None):
        raise ValueError("pass exactly one of database= or collection=")
    if database is not None:
        return "database", id_of(database, "database")
    assert collection is not None
    return "collection", id_of(collection, "collection")


def _definition(type: str, length: int | None, index: bool | None, default: str | None,
                display: bool | None, hidden: bool | None, ordered: bool | None,
                lines: int | None, special_content: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"type": type}
    optional = {"length": length, "index": index, "value": default, "display": display,
                "hidden": hidden, "ordered": ordered, "lines": lines,
                "specialcontent": special_content}
    params.update({k: v for k, v in optional.items() if v is not None})
    return params


class FieldsService:
    """Fields of a database (``database=``) or of a collection (``collection=``)."""

    def __init__(self, client: ClientCore) -> None:
        self._client = client

    def list(self, *, database: IdLike | None = None,
             collection: IdLike | None = None) -> list[Field]:
        """All fields.  Example: ``client.fields.list(database=db)``."""
        kind, parent_id = _parent(database, collection)
        list_op, _, _, _, element = _OPS[kind]

        def fetch(start: int, length: int) -> Page[Field]:
            return self._client._call(list_op, {"id": parent_id, "start": start,
                                                "length": length}).page(Field, element)

        return list(auto_paging(fetch, self._client.page_size, operation=list_op))

    def revalidate(self, *, database: IdLike | None = None,
                   collection: IdLike | None = None) -> tuple[str, ...]:
        """Read the field list the safety checks use again, now; returns the names.

        The SDK checks every requirement and field name against a cached field
        list before sending (Copernica ignores unknown ones, and a write whose
        key requirement is ignored updates every profile).  The cache is read
        again once it is older than the client's ``field_cache_max_age``; call
        this where a stale list must not be used at all — the sync engine does
        at the start of every run::

            client.fields.revalidate(database=db)
        """
        kind, parent_id = _parent(database, collection)
        return self._client.field_names.revalidate(kind, parent_id)

    def find(self, name: str, *, database: IdLike | None = None,
             collection: IdLike | None = None) -> Field | None:
        """The field with this name (or id), or ``None``."""
        kind, parent_id = _parent(database, collection)
        _, get_op, _, _, element = _OPS[kind]
        field = self._client._call(get_op, {"id": parent_id, "identifier": name}).entity(
            Field, element)
        # Copernica answers an unknown field with false or with an object whose id is 0.
        return field if field is not None and field.id > 0 else None

    def get(self, name: str, *, database: IdLike | None = None,
            collection: IdLike | None = None) -> Field:
        """The field with this name; :class:`NotFoundError` if there is none."""
        field = self.find(name, database=database, collection=collection)
        if field is None:
            kind, parent_id = _parent(database, collection)
            raise NotFoundError(f"{kind} {parent_id} has no field {name!r}",
                                operation=_OPS[kind][1])
        return field

    def create(self, name: str, *, database: IdLike | None = None,
               collection: IdLike | None = None, type: str = "text",
               length: int | None = None, index: bool | None = None,
               default: str | None = None, display: bool | None = None,
               hidden: bool | None = None, ordered: bool | None = None,
               lines: int | None = None, special_content: str | None = None) -> Field:
        """Create a field.  Index every field you search or upsert on::

            client.fields.create("customer_key", database=db, length=64, index=True)

        A ``text`` field without ``length`` gets :data:`~copernica_sdk.models.DEFAULT_TEXT_LENGTH`
        (255) characters, the same as the sync mapping's default; Copernica's own
        default is undocumented, so the SDK always sends one (docs/sdk.md, "Text lengths").
        """
        if length is None and type == "text":
            length = DEFAULT_TEXT_LENGTH
        kind, parent_id = _parent(database, collection)
        _, _, create_op, _, element = _OPS[kind]
        params = {"id": parent_id, "name": name,
                  **_definition(type, length, index, default, display, hidden, ordered,
                                lines, special_content)}
        field = self._client._call(create_op, params).entity(Field, element)
        self._client.field_names.invalidate(kind, parent_id)
        if field is None or field.id <= 0:
            return self.get(name, database=database, collection=collection)
        return field

    def update(self, field: IdLike, *, in_collection: bool = False, **changes: Any) -> None:
        """Change a field's settings, e.g. ``update(f, length=255, index=True)``.

        Accepts the keyword arguments of :meth:`create` except ``name``-less ones
        you do not want to change; ``in_collection=True`` for a collection field.
        """
        kind = "collection" if in_collection else "database"
        update_op = _OPS[kind][3]
        names = {"default": "value", "special_content": "specialcontent"}
        params = {names.get(k, k): v for k, v in changes.items() if v is not None}
        self._client._call(update_op, {"id": id_of(field, "field"), **params})
        # A rename changes what the safety checks must see; the field's parent is
        # not known here, so every cached list is read again before its next use.
        self._client.field_names.invalidate_all()
