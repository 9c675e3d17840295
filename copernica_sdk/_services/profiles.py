"""``client.profiles``: search, read, create, update, upsert and remove profiles."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._paging import auto_paging
from .._safety import (
    UnknownFields,
    check_fields,
    check_ignored,
    check_requirements,
    check_touched,
)
from ..errors import NotFoundError
from ..models import Page, Profile, Requirement
from ..values import WireValue
from ._common import (
    ClientCore,
    IdLike,
    RequirementsLike,
    encode_fields,
    encode_requirements,
    id_of,
    parent_id,
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
        return every match in one answer.  A requirement on a field the database
        does not have is refused before any request (:class:`UnknownFieldError`):
        the service would ignore it and return every profile.
        """
        database_id = id_of(database, "database")
        reqs = to_requirements(requirements)
        check_requirements(self._client.field_names, "database", database_id, reqs,
                           "Database_searchProfiles", write=False)
        params: dict[str, Any] = {
            "id": database_id,
            "requirements": encode_requirements(reqs),
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

        Requirements are checked (see :meth:`search`) before the first request.
        """
        check_requirements(self._client.field_names, "database", id_of(database, "database"),
                           to_requirements(requirements), "Database_searchProfiles", write=False)
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

    def create(self, database: IdLike, fields: Mapping[str, WireValue], *,
               unknown_fields: UnknownFields = "raise") -> Profile:
        """Create a profile.  Prefer :meth:`upsert`, which never creates a duplicate.

        A value for a field the database lacks raises :class:`UnknownFieldError`
        (the service would drop it silently) unless ``unknown_fields="ignore"``.
        """
        database_id = id_of(database, "database")
        check_fields(self._client.field_names, "database", database_id, fields,
                     "Database_createProfile", unknown_fields)
        result = self._client._call("Database_createProfile", {
            "id": database_id, "fields": encode_fields(fields)})
        created = result.entity(Profile)
        if created is None:
            raise NotFoundError("the service did not return the created profile",
                                operation="Database_createProfile")
        return created

    def update_fields(self, profile: IdLike, fields: Mapping[str, WireValue], *,
                      unknown_fields: UnknownFields = "raise") -> None:
        """Set fields of one profile; :class:`ConstraintError` if a value fails its type.

        Field names are checked against the profile's database first (a
        :class:`Profile` read from the SDK knows it; for a bare id the profile
        is read once to find it) unless ``unknown_fields="ignore"``.
        """
        profile_id = id_of(profile, "profile")
        if unknown_fields != "ignore" and fields:
            database_id = parent_id(self._client, profile, profile_id, attribute="database_id",
                                    retrieve="Profile_retrieve", model=Profile, what="profile")
            if database_id is not None:
                check_fields(self._client.field_names, "database", database_id, fields,
                             "Profile_updateFields", unknown_fields)
        set_fields(self._client, "Profile_updateFields", "profile", profile_id, fields)

    def upsert(self, database: IdLike, *, key: Mapping[str, WireValue],
               fields: Mapping[str, WireValue],
               unknown_fields: UnknownFields = "raise") -> Profile:
        """Create or update the one profile identified by ``key``; returns it.

        ``key`` names the business key, e.g. ``{"customer_key": "ann@example.com"}``;
        its fields must exist (and should be indexed).  Repeating the call changes
        nothing, so it is safe to retry.  Refused before sending if the key is
        empty or names an unknown field, or a value names an unknown field (see
        :class:`UnsafeRequestError`, :class:`UnknownFieldError`)::

            client.profiles.upsert(db, key={"customer_key": "ann@example.com"},
                                   fields={"firstname": "Ann"})

        If the answer shows that more than one profile was touched — the key
        field was renamed or removed after the last check, or duplicates exist —
        :class:`SafetyError` is raised (see docs/guarantees.md).
        """
        page = self.update_many(database, key, {**key, **fields}, create=True, unique=True,
                                unknown_fields=unknown_fields)
        return upserted(page, lambda: self.search(database, key, length=2), what="profile",
                        where=f"in database {id_of(database, 'database')}", key=key,
                        operation="Database_updateProfiles")

    def update_many(self, database: IdLike, requirements: RequirementsLike,
                    fields: Mapping[str, WireValue], *, create: bool = False,
                    unique: bool = False,
                    unknown_fields: UnknownFields = "raise") -> Page[Profile]:
        """Set ``fields`` on every profile matching ``requirements`` (create one if none
        match and ``create``).  Requirements and field names are checked first.

        ``unique=True`` says the requirements identify at most one profile (a
        key): an answer that reports more raises :class:`SafetyError`.  Without
        it, an answer whose profiles lack a requirement's field (the service
        ignored the requirement) raises it too.
        """
        database_id = id_of(database, "database")
        reqs = to_requirements(requirements)
        check_requirements(self._client.field_names, "database", database_id, reqs,
                           "Database_updateProfiles")
        check_fields(self._client.field_names, "database", database_id, fields,
                     "Database_updateProfiles", unknown_fields)
        page = self._client._call("Database_updateProfiles", {
            "id": database_id,
            "requirements": encode_requirements(reqs),
            "fields": encode_fields(fields),
            "create": create,
            "allproperties": True,
        }).page(Profile)
        where = f"in database {database_id}"
        if unique:
            check_touched(page, what="profile", where=where, key=_as_key(reqs),
                          operation="Database_updateProfiles")
        else:
            check_ignored(page, reqs, what="profile", where=where,
                          operation="Database_updateProfiles")
        return page

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


def _as_key(requirements: list[Requirement]) -> dict[str, str]:
    return {r.field: r.value for r in requirements}
