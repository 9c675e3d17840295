"""``client.profiles``: search, read, create, update, upsert and remove profiles."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._paging import auto_paging
from .._safety import check_requirements
from ..errors import NotFoundError
from ..models import Page, Profile
from ..values import WireValue
from ._common import (
    ClientCore,
    IdLike,
    RequirementsLike,
    encode_fields,
    encode_requirements,
    id_of,
    set_fields,
    to_requirements,
    upserted,
)

__all__ = ["ProfilesService"]


class ProfilesService:
    """Profiles of a database."""

    def __init__(self, client: ClientCore) -> None:
        self._client = client

    def search(self, database: IdLike, requirements: RequirementsLike | None = None, *,
               start: int = 0, length: int | None = None, order_by: str | None = None,
               ascending: bool = True, all_properties: bool = True) -> Page[Profile]:
        """One page of profiles matching every requirement (all profiles when none).

        ``length`` defaults to the client's page size: the service would otherwise
        return every match in one answer.
        """
        params: dict[str, Any] = {
            "id": id_of(database, "database"),
            "requirements": encode_requirements(to_requirements(requirements)),
            "start": start,
            "length": length or self._client.page_size,
            "allproperties": all_properties,
        }
        if order_by:
            params["order"], params["asc"] = order_by, ascending
        return self._client._call("Database_searchProfiles", params).page(Profile)

    def list(self, database: IdLike, requirements: RequirementsLike | None = None, *,
             page_size: int | None = None, order_by: str | None = None,
             all_properties: bool = True) -> Iterator[Profile]:
        """Every matching profile, fetched a page at a time (constant memory)::

            for profile in client.profiles.list(db, {"country": "NL"}):
                ...
        """
        return auto_paging(
            lambda start, length: self.search(database, requirements, start=start,
                                              length=length, order_by=order_by,
                                              all_properties=all_properties),
            page_size or self._client.page_size, operation="Database_searchProfiles")

    def find_one(self, database: IdLike, key: RequirementsLike) -> Profile | None:
        """The first profile matching ``key`` (e.g. ``{"customer_key": "a@b.nl"}``), or None."""
        page = self.search(database, key, length=1)
        return page.items[0] if page.items else None

    def get(self, profile: IdLike) -> Profile:
        """A profile by id, with its fields; :class:`NotFoundError` if it does not exist."""
        profile_id = id_of(profile, "profile")
        found = self._client._call("Profile_retrieve", {"id": profile_id}).entity(Profile)
        if found is None:
            raise NotFoundError(f"no profile with id {profile_id}", operation="Profile_retrieve")
        fields = self._client._call("Profile_fields", {"id": profile_id}).map()
        return Profile(id=found.id, code=found.code, database_id=found.database_id,
                       created=found.created, modified=found.modified, fields=fields,
                       interests=found.interests)

    def create(self, database: IdLike, fields: Mapping[str, WireValue]) -> Profile:
        """Create a profile.  Prefer :meth:`upsert`, which never creates a duplicate."""
        result = self._client._call("Database_createProfile", {
            "id": id_of(database, "database"), "fields": encode_fields(fields)})
        created = result.entity(Profile)
        if created is None:
            raise NotFoundError("the service did not return the created profile",
                                operation="Database_createProfile")
        return created

    def update_fields(self, profile: IdLike, fields: Mapping[str, WireValue]) -> None:
        """Set fields of one profile; :class:`ConstraintError` if a value fails its type."""
        set_fields(self._client, "Profile_updateFields", "profile", id_of(profile, "profile"),
                   fields)

    def upsert(self, database: IdLike, *, key: Mapping[str, WireValue],
               fields: Mapping[str, WireValue]) -> Profile:
        """Create or update the one profile identified by ``key``; returns it.

        ``key`` names the business key, e.g. ``{"customer_key": "ann@example.com"}``;
        its fields must exist (and should be indexed).  Repeating the call changes
        nothing, so it is safe to retry.  Refused before sending if the key is
        empty or names an unknown field (see :class:`UnsafeRequestError`)::

            client.profiles.upsert(db, key={"customer_key": "ann@example.com"},
                                   fields={"firstname": "Ann"})
        """
        page = self.update_many(database, key, {**key, **fields}, create=True)
        return upserted(page, lambda: self.search(database, key, length=2), what="profile",
                        where=f"in database {id_of(database, 'database')}", key=key,
                        operation="Database_updateProfiles")

    def update_many(self, database: IdLike, requirements: RequirementsLike,
                    fields: Mapping[str, WireValue], *, create: bool = False) -> Page[Profile]:
        """Set ``fields`` on every profile matching ``requirements`` (create one if none
        match and ``create``).  Requirements are checked for safety first."""
        database_id = id_of(database, "database")
        reqs = to_requirements(requirements)
        check_requirements(self._client.field_names, "database", database_id, reqs,
                           "Database_updateProfiles")
        return self._client._call("Database_updateProfiles", {
            "id": database_id,
            "requirements": encode_requirements(reqs),
            "fields": encode_fields(fields),
            "create": create,
            "allproperties": True,
        }).page(Profile)

    def remove(self, profile: IdLike) -> None:
        """Remove a profile and its subprofiles."""
        self._client._call("Profile_remove", {"id": id_of(profile, "profile")})

    def remove_many(self, database: IdLike, profiles: Iterable[IdLike]) -> None:
        ids = [id_of(p, "profile") for p in profiles]
        if ids:
            self._client._call("Database_removeProfiles", {
                "id": id_of(database, "database"), "ids": {"item": ids}})

    def merge(self, into: IdLike, source: IdLike) -> None:
        """Move ``source``'s subprofiles into ``into`` and remove ``source`` (deduplication)."""
        self._client._call("Profile_move", {"id": id_of(into, "profile"),
                                            "profile": {"id": id_of(source, "profile")}})
