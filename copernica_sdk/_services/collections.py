"""``client.collections``: collections (tables of subprofiles) in a database."""

from __future__ import annotations

from collections.abc import Iterator

from .._paging import auto_paging
from ..errors import NotFoundError
from ..models import Collection, Page
from ._common import ClientCore, IdLike, id_of, retrieve_by_id

__all__ = ["CollectionsService"]


class CollectionsService:
    """Collections of a database.  Their fields are under ``client.fields``."""

    def __init__(self, client: ClientCore) -> None:
        self._client = client

    def list(self, database: IdLike) -> Iterator[Collection]:
        """Every collection of ``database``."""
        database_id = id_of(database, "database")

        def fetch(start: int, length: int) -> Page[Collection]:
            return self._client._call("Database_collections", {
                "id": database_id, "start": start, "length": length, "allproperties": True,
            }).page(Collection)

        return auto_paging(fetch, self._client.page_size, operation="Database_collections")

    def find(self, database: IdLike, name_or_id: str | int) -> Collection | None:
        """The collection with this name (or id) in ``database``, or ``None``."""
        return self._client._call("Database_collection", {
            "id": id_of(database, "database"), "identifier": str(name_or_id),
        }).entity(Collection)

    def get(self, database: IdLike, name_or_id: str | int) -> Collection:
        """The collection; :class:`NotFoundError` if ``database`` has none of that name."""
        collection = self.find(database, name_or_id)
        if collection is None:
            raise NotFoundError(f"database {id_of(database, 'database')} has no collection "
                                f"{name_or_id!r}", operation="Database_collection")
        return collection

    def retrieve(self, collection: IdLike) -> Collection:
        """A collection by id (``Collection_retrieve``); :class:`NotFoundError` if none."""
        return retrieve_by_id(self._client, "Collection_retrieve", Collection, collection,
                              "collection")

    def create(self, database: IdLike, name: str) -> Collection:
        """Create a collection.  Example: ``client.collections.create(db, "Orders")``."""
        collection = self._client._call("Database_createCollection", {
            "id": id_of(database, "database"), "name": name,
        }).entity(Collection)
        return collection if collection is not None else self.get(database, name)

    def remove(self, collection: IdLike) -> None:
        """Remove a collection and every subprofile in it."""
        self._client._call("Collection_remove", {"id": id_of(collection, "collection")})
