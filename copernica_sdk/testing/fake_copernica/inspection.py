"""Helpers for tests: look at the fake's data directly, and seed it without SOAP calls.

Databases and collections are named by name (case-insensitive) or id; the account
defaults to the first configured one.  Everything returned is a detached copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import SoapFault
from .models import Collection, Database, Field, Profile, Subprofile
from .state import State

FieldSpec = str | Mapping[str, Any]

_SPEC_KEYS = {
    "type",
    "value",
    "display",
    "displayed",
    "ordered",
    "length",
    "textlines",
    "lines",
    "big",
    "hidden",
    "index",
    "specialcontent",
}


class Inspector:
    """Mixin for FakeCopernica: inspection and seeding helpers over ``self.state``."""

    state: State

    # ---------------------------------------------------------------- resolution

    def _account_name(self, account: str | None) -> str:
        if account is None:
            return next(iter(self.state.accounts))
        if account not in self.state.accounts:
            raise KeyError(f"no account {account!r}")
        return account

    def _database(self, database: str | int, account: str | None = None) -> Database:
        found = self.state.find_database(self._account_name(account), str(database))
        if found is None:
            raise KeyError(f"no database {database!r}")
        return found

    def _collection(self, collection: str | int, database: str | int | None) -> Collection:
        if database is not None:
            db = self._database(database)
            found = self.state.find_collection(db, str(collection))
            if found is None:
                raise KeyError(f"no collection {collection!r} in database {database!r}")
            return found
        account = self._account_name(None)
        matches = [
            coll
            for db in self.state.account_databases(account)
            if (coll := self.state.find_collection(db, str(collection))) is not None
        ]
        if not matches:
            raise KeyError(f"no collection {collection!r}")
        if len(matches) > 1:
            raise KeyError(f"collection {collection!r} exists in several databases; pass database=")
        return matches[0]

    def _key_field(self, field_ids: list[int], key_field: str) -> Field:
        found = self.state.find_field(field_ids, key_field)
        if found is None:
            raise KeyError(f"no field {key_field!r}")
        return found

    # -------------------------------------------------------------------- reads

    def _profile_dict(self, profile: Profile) -> dict[str, Any]:
        state = self.state
        return {
            "id": profile.id,
            "code": profile.code,
            "created": profile.created,
            "modified": profile.modified,
            "fields": state.named_values(profile, state.databases[profile.database].field_ids),
            "interests": dict(profile.interests),
        }

    def _subprofile_dict(self, sub: Subprofile) -> dict[str, Any]:
        state = self.state
        return {
            "id": sub.id,
            "code": sub.code,
            "profile": sub.profile,
            "collection": sub.collection,
            "created": sub.created,
            "modified": sub.modified,
            "fields": state.named_values(sub, state.collections[sub.collection].field_ids),
        }

    def profiles(self, database: str | int) -> list[dict[str, Any]]:
        """Every profile of a database, in id order: id, code, created, modified, fields."""
        with self.state.lock:
            db = self._database(database)
            return [self._profile_dict(p) for p in self.state.db_profiles[db.id].values()]

    def subprofiles(
        self, collection: str | int, *, database: str | int | None = None
    ) -> list[dict[str, Any]]:
        """Every subprofile of a collection (also with its ``profile`` id), in id order."""
        with self.state.lock:
            coll = self._collection(collection, database)
            subs = sorted(self.state.coll_subs[coll.id].values(), key=lambda s: s.id)
            return [self._subprofile_dict(s) for s in subs]

    def duplicates(self, database: str | int, key_field: str) -> dict[str, list[int]]:
        """Key value -> profile ids, for values held by more than one profile."""
        with self.state.lock:
            db = self._database(database)
            fid = self._key_field(db.field_ids, key_field).id
            groups: dict[str, list[int]] = {}
            for profile in self.state.db_profiles[db.id].values():
                groups.setdefault(profile.values.get(fid, ""), []).append(profile.id)
            return {key: ids for key, ids in groups.items() if len(ids) > 1}

    def subprofile_duplicates(
        self, collection: str | int, key_field: str, *, database: str | int | None = None
    ) -> dict[tuple[int, str], list[int]]:
        """(profile id, key value) -> subprofile ids, where one profile has the key twice."""
        with self.state.lock:
            coll = self._collection(collection, database)
            fid = self._key_field(coll.field_ids, key_field).id
            groups: dict[tuple[int, str], list[int]] = {}
            for sub in sorted(self.state.coll_subs[coll.id].values(), key=lambda s: s.id):
                groups.setdefault((sub.profile, sub.values.get(fid, "")), []).append(sub.id)
            return {key: ids for key, ids in groups.items() if len(ids) > 1}

    # ------------------------------------------------------------------- seeding

    def create_database(
        self,
        name: str,
        fields: Mapping[str, FieldSpec] | None = None,
        collections: Mapping[str, Mapping[str, FieldSpec]] | None = None,
        *,
        account: str | None = None,
    ) -> int:
        """Create a database with fields and collections; returns its id.

        A field spec is a type name (``"text"``, ``"integer"``, ...) or a dict such as
        ``{"type": "text", "length": 100, "index": True}``.  Raises ValueError for an
        invalid name, type or a duplicate.
        """
        try:
            with self.state.transaction():
                db = self.state.create_database(self._account_name(account), name)
                try:
                    for field_name, spec in (fields or {}).items():
                        self.state.create_field("database", db.id, _spec(field_name, spec))
                    for coll_name, coll_fields in (collections or {}).items():
                        coll = self.state.create_collection(db, coll_name)
                        for field_name, spec in coll_fields.items():
                            self.state.create_field("collection", coll.id, _spec(field_name, spec))
                except (SoapFault, ValueError):
                    self.state.remove_database(db)  # all or nothing
                    raise
                return db.id
        except SoapFault as fault:
            raise ValueError(fault.message) from None


def _spec(name: str, spec: FieldSpec) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"name": name, "type": spec}
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"unknown field option(s) {sorted(unknown)} for field {name!r}")
    out = {"name": name, **spec}
    if "displayed" in out:
        out["display"] = out.pop("displayed")
    return out
