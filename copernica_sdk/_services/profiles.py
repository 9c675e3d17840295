"""``client.profiles``: search, read, create, update, upsert and remove profiles."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .._paging import auto_paging
from .._safety import (
    UnknownFields,
    check_fields,
    check_ignored,
    check_requirements,
    check_touched,
)
from ..errors import NotFoundError, UnsafeRequestError, ValidationError
from ..models import BulkResult, Page, Profile, Requirement
from ..values import WireValue, to_wire
from ._bulk import Progress, run_many
from ._common import (
    ClientCore,
    IdLike,
    RequirementsLike,
    encode_fields,
    encode_requirements,
    fit_lengths,
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
        fields = fit_lengths(self._client, "database", database_id, fields, (),
                                            "Database_createProfile", unknown_fields)
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
                fields = fit_lengths(self._client, "database", database_id, fields, (),
                                                    "Profile_updateFields", unknown_fields)
                check_fields(self._client.field_names, "database", database_id, fields,
                             "Profile_updateFields", unknown_fields)
        set_fields(self._client, "Profile_updateFields", "profile", profile_id, fields)

    def upsert(self, database: IdLike, *, key: Mapping[str, WireValue],
               fields: Mapping[str, WireValue],
               interests: Mapping[str, WireValue] | None = None,
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

        ``interests`` sets the profile's interests (interest name → ``True``/``False``
        or the service's ``"1"``/``"0"``), sent as ``Database_updateProfiles``'
        ``interests`` map (docs/sdk.md, "Interests").
        """
        page = self.update_many(database, key, {**key, **fields}, create=True, unique=True,
                                interests=interests, unknown_fields=unknown_fields)
        return upserted(page, lambda: self.search(database, key, length=2), what="profile",
                        where=f"in database {id_of(database, 'database')}", key=key,
                        operation="Database_updateProfiles")

    def update_many(self, database: IdLike, requirements: RequirementsLike,
                    fields: Mapping[str, WireValue], *, create: bool = False,
                    unique: bool = False,
                    interests: Mapping[str, WireValue] | None = None,
                    unknown_fields: UnknownFields = "raise") -> Page[Profile]:
        """Set ``fields`` on every profile matching ``requirements`` (create one if none
        match and ``create``).  Requirements and field names are checked first.

        ``unique=True`` says the requirements identify at most one profile (a
        key): an answer that reports more raises :class:`SafetyError`.  Without
        it, an answer whose profiles lack a requirement's field (the service
        ignored the requirement) raises it too.  ``create=True`` needs an ``=``
        requirement (the key a created profile starts with).  ``interests`` is
        the interests map to set on every matched (or created) profile.
        """
        database_id = id_of(database, "database")
        reqs = to_requirements(requirements)
        check_requirements(self._client.field_names, "database", database_id, reqs,
                           "Database_updateProfiles")
        if create and not any(r.is_equality for r in reqs):
            raise UnsafeRequestError(
                "refusing Database_updateProfiles with create=True but no '=' requirement: a "
                "profile created for it would have no key; give the key as field = value",
                operation="Database_updateProfiles")
        fields = fit_lengths(self._client, "database", database_id, fields, reqs,
                                            "Database_updateProfiles", unknown_fields)
        check_fields(self._client.field_names, "database", database_id, fields,
                     "Database_updateProfiles", unknown_fields)
        params: dict[str, Any] = {
            "id": database_id,
            "requirements": encode_requirements(reqs),
            "fields": encode_fields(fields),
            "create": create,
            "allproperties": True,
        }
        if interests:
            params["interests"] = encode_fields(interests)
        page = self._client._call("Database_updateProfiles", params).page(Profile)
        where = f"in database {database_id}"
        if unique:
            check_touched(page, what="profile", where=where, key=_as_key(reqs),
                          operation="Database_updateProfiles")
        else:
            check_ignored(page, reqs, what="profile", where=where,
                          operation="Database_updateProfiles")
        return page

    def upsert_many(self, database: IdLike, items: Iterable[Mapping[str, WireValue]], *,
                    key_field: str, concurrency: int | None = None,
                    on_progress: Progress | None = None,
                    unknown_fields: UnknownFields = "raise") -> builtins.list[
                        BulkResult[Profile]]:
        """Upsert many profiles concurrently; one :class:`BulkResult` per item, in order.

        Each item is a profile's fields, the key among them::

            results = client.profiles.upsert_many(
                db, [{"customer_key": "ann@example.com", "firstname": "Ann"}, …],
                key_field="customer_key", on_progress=lambda done, total: …)
            failed = [r for r in results if not r.ok]

        Every item goes through :meth:`upsert` (the same checks, retries and
        errors); an item's error is kept in its result, not raised, and the other
        items still run.  Items with the same key run in input order, one at a
        time (the last one wins, as in a loop; never two creates for one key).
        ``concurrency`` (default: the client's ``max_connections``) calls are in
        flight at once through the client's connection pool.  ``on_progress(done,
        total)`` is called in the calling thread after each item.  A
        :class:`SafetyError` stops the rest: items not yet sent fail with
        :class:`UnsafeRequestError` ("not sent").
        """
        rows = builtins.list(items)

        def key_of(item: Mapping[str, WireValue]) -> str:
            return _key_value(item, key_field)

        def work(item: Mapping[str, WireValue]) -> Profile:
            key = {key_field: item[key_field]}
            rest = {k: v for k, v in item.items() if k != key_field}
            return self.upsert(database, key=key, fields=rest, unknown_fields=unknown_fields)

        return run_many(rows, key_of=key_of, work=work,
                        concurrency=(self._client.max_connections if concurrency is None
                                     else concurrency),
                        on_progress=on_progress, operation="Database_updateProfiles")

    def distinct(self, database: IdLike, fields: Sequence[str], *,
                 order_by: str | None = None, ascending: bool = True,
                 page_size: int | None = None) -> Iterator[Profile]:
        """One profile per distinct combination of ``fields``' values (auto-paging).

        Each profile's ``fields`` holds just those fields.  Names are checked
        first: the service would leave out an unknown one silently.
        """
        database_id = id_of(database, "database")
        names = builtins.list(fields)
        if not names:
            raise ValidationError("distinct needs at least one field name",
                                  operation="Database_distinctProfiles")
        check_fields(self._client.field_names, "database", database_id, names,
                     "Database_distinctProfiles", "raise")

        def fetch(start: int, length: int) -> Page[Profile]:
            params: dict[str, Any] = {"id": database_id, "fields": {"item": names},
                                      "start": start, "length": length}
            if order_by:
                params["order"], params["asc"] = order_by, ascending
            return self._client._call("Database_distinctProfiles", params).page(Profile)

        return auto_paging(fetch, page_size or self._client.page_size,
                           operation="Database_distinctProfiles")

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


def _key_value(item: Mapping[str, WireValue], key_field: str) -> str:
    """The key of one bulk item, as sent; a missing or empty key fails that item."""
    if not isinstance(item, Mapping):
        raise ValidationError(f"a bulk item must be a mapping of field values, not {item!r}")
    if key_field not in item or item[key_field] is None:
        raise UnsafeRequestError(f"item has no value for the key field {key_field!r}; give "
                                 "every item its key", operation="Database_updateProfiles")
    return to_wire(item[key_field], field=key_field)


def _as_key(requirements: list[Requirement]) -> dict[str, str]:
    return {r.field: r.value for r in requirements}
