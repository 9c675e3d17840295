"""``client.databases``: databases, their unsubscribe settings and callbacks."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping

from .._paging import auto_paging
from ..errors import NotFoundError, UnsafeRequestError
from ..models import Callback, Database, Page
from ..values import WireValue
from ._common import ClientCore, IdLike, encode_fields, id_of, retrieve_by_id

__all__ = ["DatabasesService"]


class DatabasesService:
    """Databases of the account the client's credentials belong to."""

    def __init__(self, client: ClientCore) -> None:
        self._client = client

    def list(self, *, page_size: int | None = None) -> Iterator[Database]:
        """Every database of the account, fetched a page at a time."""
        def fetch(start: int, length: int) -> Page[Database]:
            return self._client._call("Account_databases", {
                "start": start, "length": length, "allproperties": True,
            }).page(Database)

        return auto_paging(fetch, page_size or self._client.page_size,
                           operation="Account_databases")

    def find(self, name_or_id: str | int) -> Database | None:
        """The database with this name (or id), or ``None``."""
        return self._client._call("Account_database",
                                  {"identifier": str(name_or_id)}).entity(Database)

    def get(self, name_or_id: str | int) -> Database:
        """The database with this name (or id); :class:`NotFoundError` if there is none."""
        database = self.find(name_or_id)
        if database is None:
            raise NotFoundError(f"no database {name_or_id!r} in this account",
                                operation="Account_database")
        return database

    def create(self, name: str, *, description: str = "") -> Database:
        """Create a database.  Example: ``client.databases.create("Customers")``."""
        params: dict[str, object] = {"name": name}
        if description:
            params["description"] = description
        database = self._client._call("Account_createDatabase", params).entity(Database)
        return database if database is not None else self.get(name)

    def retrieve(self, database: IdLike) -> Database:
        """A database by id (``Database_retrieve``); :class:`NotFoundError` if there is none."""
        return retrieve_by_id(self._client, "Database_retrieve", Database, database, "database")

    def update(self, database: IdLike, *, name: str | None = None,
               description: str | None = None,
               unsubscribe_behavior: str | None = None) -> None:
        """Rename a database or change its description or unsubscribe behaviour
        (``"nothing"``, ``"remove"`` or ``"update"``)."""
        changes = {"name": name, "description": description,
                   "unsubscribebehavior": unsubscribe_behavior}
        params: dict[str, object] = {k: v for k, v in changes.items() if v is not None}
        if not params:
            return
        if unsubscribe_behavior is not None and unsubscribe_behavior not in (
                "nothing", "remove", "update"):
            raise ValueError("unsubscribe_behavior must be 'nothing', 'remove' or 'update', "
                             f"not {unsubscribe_behavior!r}")
        self._client._call("Database_update", {"id": id_of(database, "database"), **params})

    def remove(self, database: IdLike, *, confirm_name: str) -> None:
        """Remove a database with every profile, subprofile and field in it.

        ``confirm_name`` must be the database's name: the SDK reads the database
        first and refuses (:class:`UnsafeRequestError`) when it differs, so a
        wrong id cannot remove another database::

            client.databases.remove(db, confirm_name="Test customers")
        """
        found = self.retrieve(database)
        if found.name != confirm_name:
            raise UnsafeRequestError(
                f"refusing Database_remove: database {found.id} is named {found.name!r}, not "
                f"{confirm_name!r}; pass its exact name as confirm_name",
                operation="Database_remove")
        self._client._call("Database_remove", {"id": found.id})

    def unsubscribe_values(self, database: IdLike) -> dict[str, str]:
        """The field values Copernica sets on a profile that unsubscribes."""
        return self._client._call("Database_unsubscribeValues",
                                  {"id": id_of(database, "database")}).map()

    def set_unsubscribe_values(self, database: IdLike, values: Mapping[str, WireValue]) -> None:
        self._client._call("Database_setUnsubscribeValues",
                           {"id": id_of(database, "database"), "fields": encode_fields(values)})

    def callbacks(self, database: IdLike) -> builtins.list[Callback]:
        """The database's callbacks (old-style webhooks)."""
        def fetch(start: int, length: int) -> Page[Callback]:
            return self._client._call("Database_callbacks", {
                "id": id_of(database, "database"), "start": start, "length": length,
            }).page(Callback)

        return list(auto_paging(fetch, self._client.page_size, operation="Database_callbacks"))

    def create_callback(self, database: IdLike, url: str, *, method: str = "json",
                        expression: str = "") -> None:
        """Register a callback URL; ``expression`` filters which profiles trigger it."""
        params: dict[str, object] = {"id": id_of(database, "database"), "url": url,
                                     "method": method}
        if expression:
            params["expression"] = expression
        self._client._call("Database_createCallback", params)
