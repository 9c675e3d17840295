"""``client.subprofiles``: rows of collections (orders, order lines…) under profiles."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._paging import auto_paging
from .._safety import UnknownFields, check_fields, check_requirements
from ..errors import NotFoundError, UnsafeRequestError, ValidationError
from ..models import BulkResult, Page, Subprofile
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
    retrieve_by_id,
    set_fields,
    to_requirements,
    upserted,
)

__all__ = ["SubprofilesService"]


class SubprofilesService:
    """Subprofiles of a profile in a collection, or of a whole collection."""

    def __init__(self, client: ClientCore) -> None:
        self._client = client

    def search(self, profile: IdLike, collection: IdLike,
               requirements: RequirementsLike | None = None, *, start: int = 0,
               length: int | None = None, all_properties: bool = True) -> Page[Subprofile]:
        """One page of ``profile``'s subprofiles in ``collection`` matching ``requirements``.

        A requirement on a field the collection lacks is refused before any
        request (:class:`UnknownFieldError`): the service would ignore it.
        """
        collection_id = id_of(collection, "collection")
        reqs = to_requirements(requirements)
        check_requirements(self._client.field_names, "collection", collection_id, reqs,
                           "Profile_searchSubProfiles", write=False)
        return self._client._call("Profile_searchSubProfiles", {
            "id": id_of(profile, "profile"),
            "collection": {"id": collection_id},
            "requirements": encode_requirements(reqs),
            "start": start,
            "length": length or self._client.page_size,
            "allproperties": all_properties,
        }).page(Subprofile)

    def list(self, profile: IdLike, collection: IdLike,
             requirements: RequirementsLike | None = None, *,
             page_size: int | None = None) -> Iterator[Subprofile]:
        """Every matching subprofile of ``profile`` in ``collection`` (auto-paging)."""
        check_requirements(self._client.field_names, "collection",
                           id_of(collection, "collection"), to_requirements(requirements),
                           "Profile_searchSubProfiles", write=False)
        return auto_paging(
            lambda start, length: self.search(profile, collection, requirements,
                                              start=start, length=length),
            page_size or self._client.page_size, operation="Profile_searchSubProfiles")

    def list_collection(self, collection: IdLike, requirements: RequirementsLike | None = None,
                        *, page_size: int | None = None) -> Iterator[Subprofile]:
        """Every matching subprofile in ``collection``, across all profiles (auto-paging)."""
        collection_id = id_of(collection, "collection")
        checked = to_requirements(requirements)
        check_requirements(self._client.field_names, "collection", collection_id, checked,
                           "Collection_searchSubProfiles", write=False)
        reqs = encode_requirements(checked)

        def fetch(start: int, length: int) -> Page[Subprofile]:
            return self._client._call("Collection_searchSubProfiles", {
                "id": collection_id, "requirements": reqs, "start": start, "length": length,
                "allproperties": True,
            }).page(Subprofile)

        return auto_paging(fetch, page_size or self._client.page_size,
                           operation="Collection_searchSubProfiles")

    def get(self, collection: IdLike, subprofile: IdLike) -> Subprofile:
        """A subprofile by id; :class:`NotFoundError` if it is not in ``collection``."""
        subprofile_id = id_of(subprofile, "subprofile")
        found = self._client._call("Collection_subProfile", {
            "id": id_of(collection, "collection"), "identifier": subprofile_id,
        }).entity(Subprofile)
        if found is None:
            raise NotFoundError(f"no subprofile with id {subprofile_id} in this collection",
                                operation="Collection_subProfile")
        return found

    def retrieve(self, subprofile: IdLike) -> Subprofile:
        """A subprofile by id alone (``SubProfile_retrieve``); :class:`NotFoundError` if none."""
        return retrieve_by_id(self._client, "SubProfile_retrieve", Subprofile, subprofile,
                              "subprofile")

    def create(self, profile: IdLike, collection: IdLike,
               fields: Mapping[str, WireValue], *,
               unknown_fields: UnknownFields = "raise") -> Subprofile:
        """Create a subprofile.  Prefer :meth:`upsert`, which never creates a duplicate.

        Values for fields the collection lacks raise :class:`UnknownFieldError`
        unless ``unknown_fields="ignore"``.
        """
        collection_id = id_of(collection, "collection")
        fields = fit_lengths(self._client, "collection", collection_id, fields, (),
                                            "Profile_createSubProfile", unknown_fields)
        check_fields(self._client.field_names, "collection", collection_id, fields,
                     "Profile_createSubProfile", unknown_fields)
        created = self._client._call("Profile_createSubProfile", {
            "id": id_of(profile, "profile"),
            "collection": {"id": collection_id},
            "fields": encode_fields(fields),
        }).entity(Subprofile)
        if created is None:
            raise NotFoundError("the service did not return the created subprofile",
                                operation="Profile_createSubProfile")
        return created

    def update_fields(self, subprofile: IdLike, fields: Mapping[str, WireValue], *,
                      unknown_fields: UnknownFields = "raise") -> None:
        """Set fields of one subprofile; :class:`ConstraintError` if a value fails its type.

        Field names are checked against the subprofile's collection first (read
        once for a bare id) unless ``unknown_fields="ignore"``.
        """
        subprofile_id = id_of(subprofile, "subprofile")
        if unknown_fields != "ignore" and fields:
            collection_id = parent_id(self._client, subprofile, subprofile_id,
                                      attribute="collection_id", retrieve="SubProfile_retrieve",
                                      model=Subprofile, what="subprofile")
            if collection_id is not None:
                fields = fit_lengths(self._client, "collection", collection_id, fields, (),
                                                    "SubProfile_updateFields", unknown_fields)
                check_fields(self._client.field_names, "collection", collection_id, fields,
                             "SubProfile_updateFields", unknown_fields)
        set_fields(self._client, "SubProfile_updateFields", "subprofile", subprofile_id, fields)

    def upsert(self, profile: IdLike, collection: IdLike, *, key: Mapping[str, WireValue],
               fields: Mapping[str, WireValue],
               unknown_fields: UnknownFields = "raise") -> Subprofile:
        """Create or update ``profile``'s one subprofile identified by ``key``; returns it::

            client.subprofiles.upsert(profile, orders, key={"order_id": "1042"},
                                      fields={"status": "completed", "total": "99.50"})

        Checked like :meth:`ProfilesService.upsert`: an unknown key field or
        value field is refused before sending, and an answer that touched more
        than one subprofile raises :class:`SafetyError`.
        """
        profile_id = id_of(profile, "profile")
        collection_id = id_of(collection, "collection")
        reqs = to_requirements(key)
        check_requirements(self._client.field_names, "collection", collection_id, reqs,
                           "Profile_updateSubProfiles")
        fields = fit_lengths(self._client, "collection", collection_id, fields, reqs,
                                            "Profile_updateSubProfiles", unknown_fields)
        check_fields(self._client.field_names, "collection", collection_id, fields,
                     "Profile_updateSubProfiles", unknown_fields)
        params: dict[str, Any] = {
            "id": profile_id,
            "collection": {"id": collection_id},
            "requirements": encode_requirements(reqs),
            "fields": encode_fields({**key, **fields}),
            "create": True,
            "allproperties": True,
        }
        page = self._client._call("Profile_updateSubProfiles", params).page(Subprofile)
        return upserted(page, lambda: self.search(profile_id, collection_id, key, length=2),
                        what="subprofile", where=f"of profile {profile_id}", key=key,
                        operation="Profile_updateSubProfiles")

    def upsert_many(self, collection: IdLike,
                    items: Iterable[tuple[IdLike, Mapping[str, WireValue]]], *,
                    key_field: str, concurrency: int | None = None,
                    on_progress: Progress | None = None,
                    unknown_fields: UnknownFields = "raise") -> builtins.list[
                        BulkResult[Subprofile]]:
        """Upsert many subprofiles concurrently; one :class:`BulkResult` per item, in order.

        Each item is ``(profile, fields)``, the key among the fields::

            results = client.subprofiles.upsert_many(
                orders, [(ann, {"order_id": "1042", "status": "paid"}), …],
                key_field="order_id")

        The same contract as :meth:`ProfilesService.upsert_many`: every item goes
        through :meth:`upsert`, errors are kept per item, items with the same
        profile and key run in input order one at a time, ``concurrency``
        defaults to the client's ``max_connections``, ``on_progress(done, total)``
        runs in the calling thread, and a :class:`SafetyError` stops the rest.
        """
        rows = builtins.list(items)

        def key_of(item: tuple[IdLike, Mapping[str, WireValue]]) -> tuple[int, str]:
            if not isinstance(item, tuple) or len(item) != 2:
                raise ValidationError(f"a bulk item must be (profile, fields), not {item!r}")
            profile, fields = item
            if not isinstance(fields, Mapping) or fields.get(key_field) is None:
                raise UnsafeRequestError(
                    f"item has no value for the key field {key_field!r}; give every item its "
                    "key", operation="Profile_updateSubProfiles")
            return id_of(profile, "profile"), to_wire(fields[key_field], field=key_field)

        def work(item: tuple[IdLike, Mapping[str, WireValue]]) -> Subprofile:
            profile, fields = item
            rest = {k: v for k, v in fields.items() if k != key_field}
            return self.upsert(profile, collection, key={key_field: fields[key_field]},
                               fields=rest, unknown_fields=unknown_fields)

        return run_many(rows, key_of=key_of, work=work,
                        concurrency=(self._client.max_connections if concurrency is None
                                     else concurrency),
                        on_progress=on_progress, operation="Profile_updateSubProfiles")

    def unsubscribe(self, collection: IdLike, subprofile: IdLike) -> None:
        """Unsubscribe a subprofile the way its collection's unsubscribe behaviour says
        (``Collection_unsubscribe``; with behaviour ``remove`` it is removed)."""
        self._client._call("Collection_unsubscribe", {
            "id": id_of(collection, "collection"),
            "subprofile": {"id": id_of(subprofile, "subprofile")}})

    def remove(self, subprofile: IdLike) -> None:
        self._client._call("SubProfile_remove", {"id": id_of(subprofile, "subprofile")})

    def remove_many(self, collection: IdLike, subprofiles: Iterable[IdLike]) -> None:
        ids = [id_of(s, "subprofile") for s in subprofiles]
        if ids:
            self._client._call("Collection_removeSubProfiles", {
                "id": id_of(collection, "collection"), "ids": {"item": ids}})

    def move(self, subprofile: IdLike, profile: IdLike) -> None:
        """Move a subprofile to another profile of the same database."""
        self._client._call("SubProfile_moveToProfile", {
            "id": id_of(subprofile, "subprofile"), "profile": {"id": id_of(profile, "profile")}})
