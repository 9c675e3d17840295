"""The fake's thread-safe state: accounts -> databases -> fields, collections, profiles.

Every operation runs inside ``State.transaction()``: one re-entrant lock around the
whole state (simple and obviously race-free; handlers are fast) and, when a SQLite
file is configured, one write-through transaction per operation.  Handlers must
validate everything before they mutate anything, so a fault leaves no half-change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import client_fault, not_found
from .fieldtypes import DEFAULT_TEXT_LENGTH, FIELD_TYPES
from .index import ValueIndex
from .models import Account, Callback, Collection, Database, Entity, Field, Profile, Subprofile
from .persistence import SqliteStore
from .query import Condition, E, field_lookup, select

KINDS: dict[str, type[Any]] = {
    "database": Database,
    "collection": Collection,
    "field": Field,
    "callback": Callback,
    "profile": Profile,
    "subprofile": Subprofile,
}
_INT_KEYED = ("values", "unsubscribe_values")
UNSUBSCRIBE_BEHAVIOURS = ("nothing", "remove", "update")


def now() -> str:
    """A Copernica timestamp, ``YYYY-MM-DD hh:mm:ss``."""
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _valid_name(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise client_fault(f"Invalid {what} name ''")
    return name


class State:
    """All accounts' data plus indexes; every public method expects ``lock`` held."""

    def __init__(
        self, accounts: Sequence[str], *, seed: int = 0, store: SqliteStore | None = None
    ) -> None:
        self.lock = threading.RLock()
        created = now()
        self.accounts: dict[str, Account] = {
            name: Account(i + 1, name, created) for i, name in enumerate(dict.fromkeys(accounts))
        }
        self.databases: dict[int, Database] = {}
        self.collections: dict[int, Collection] = {}
        self.fields: dict[int, Field] = {}
        self.callbacks: dict[int, Callback] = {}
        self.profiles: dict[int, Profile] = {}
        self.subprofiles: dict[int, Subprofile] = {}
        self.db_profiles: dict[int, dict[int, Profile]] = {}
        self.coll_subs: dict[int, dict[int, Subprofile]] = {}
        self.profile_subs: dict[int, dict[int, Subprofile]] = {}
        self._indexes: dict[int, ValueIndex] = {}
        self._next: dict[str, int] = dict.fromkeys(KINDS, 1)
        self._seed = seed
        self._rng = random.Random(seed)
        self._store = store
        self._depth = 0
        self._closed = False
        self._puts: dict[tuple[str, int], Any] = {}
        self._deletes: set[tuple[str, int]] = set()
        if store is not None:
            self._load(store)

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; on leaving the outermost level, write changes to SQLite."""
        with self.lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._flush()

    def _touch(self, kind: str, obj: Any) -> None:
        if self._store is not None:
            self._puts[(kind, obj.id)] = obj
            self._deletes.discard((kind, obj.id))

    def _gone(self, kind: str, ident: int) -> None:
        if self._store is not None:
            self._puts.pop((kind, ident), None)
            self._deletes.add((kind, ident))

    def _flush(self) -> None:
        if self._store is None or not (self._puts or self._deletes):
            return
        puts = [(kind, ident, dataclasses.asdict(obj)) for (kind, ident), obj in self._puts.items()]
        self._store.write(puts, self._deletes, {"next": self._next})
        self._puts.clear()
        self._deletes.clear()

    def close(self) -> None:
        """Close the SQLite file, if any (memory stays usable)."""
        with self.lock:
            self._flush()
            if self._store is not None:
                self._store.close()
                self._store = None
                self._closed = True

    @property
    def closed(self) -> bool:
        """True after close() of a state that had a SQLite file."""
        return self._closed

    def reopen(self, store: SqliteStore) -> None:
        """Resume write-through after close(); memory is authoritative, so nothing is reloaded."""
        with self.lock:
            self._store = store
            self._closed = False
            # Changes made while closed were not recorded: rewrite the file from memory.
            store.clear()
            everything: list[tuple[str, Any]] = [
                *(("database", x) for x in self.databases.values()),
                *(("collection", x) for x in self.collections.values()),
                *(("field", x) for x in self.fields.values()),
                *(("callback", x) for x in self.callbacks.values()),
                *(("profile", x) for x in self.profiles.values()),
                *(("subprofile", x) for x in self.subprofiles.values()),
            ]
            for kind, obj in everything:
                self._touch(kind, obj)
            self._flush()

    def _load(self, store: SqliteStore) -> None:
        entities, meta = store.load()
        for kind, rows in entities.items():
            cls = KINDS.get(kind)
            if cls is None:
                continue
            for row in rows:
                for key in _INT_KEYED:
                    if key in row:
                        row[key] = {int(k): v for k, v in row[key].items()}
                obj = cls(**row)
                getattr(self, _TABLES[kind])[obj.id] = obj
                self._next[kind] = max(self._next[kind], obj.id + 1)
        for kind, value in meta.get("next", {}).items():
            if kind in self._next:
                self._next[kind] = max(self._next[kind], int(value))
        for db in self.databases:
            self.db_profiles[db] = {}
        for coll in self.collections:
            self.coll_subs[coll] = {}
        for profile in self.profiles.values():
            self.db_profiles[profile.database][profile.id] = profile
            self.profile_subs[profile.id] = {}
        for sub in self.subprofiles.values():
            self.coll_subs[sub.collection][sub.id] = sub
            self.profile_subs[sub.profile][sub.id] = sub
        # Continue the code sequence rather than replaying the first run's codes.
        self._rng = random.Random(f"{self._seed}:{sorted(self._next.items())}")

    # ------------------------------------------------------------------------ basics

    def _new_id(self, kind: str) -> int:
        ident = self._next[kind]
        self._next[kind] = ident + 1
        return ident

    def _new_code(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def account(self, name: str) -> Account:
        return self.accounts[name]

    # ------------------------------------------------------------------- lookups by id

    def database(self, account: str, ident: int) -> Database:
        db = self.databases.get(ident)
        if db is None or db.account != account:
            raise not_found("database", ident)
        return db

    def collection(self, account: str, ident: int) -> Collection:
        coll = self.collections.get(ident)
        if coll is None or self.databases[coll.database].account != account:
            raise not_found("collection", ident)
        return coll

    def db_field(self, account: str, ident: int) -> Field:
        found = self.fields.get(ident)
        if (
            found is None
            or found.owner != "database"
            or self.databases[found.owner_id].account != account
        ):
            raise not_found("field", ident)
        return found

    def coll_field(self, account: str, ident: int) -> Field:
        found = self.fields.get(ident)
        if (
            found is None
            or found.owner != "collection"
            or self.database_of(found).account != account
        ):
            raise not_found("collection field", ident)
        return found

    def profile(self, account: str, ident: int) -> Profile:
        found = self.profiles.get(ident)
        if found is None or self.databases[found.database].account != account:
            raise not_found("profile", ident)
        return found

    def subprofile(self, account: str, ident: int) -> Subprofile:
        found = self.subprofiles.get(ident)
        if found is None or self.database_of_collection(found.collection).account != account:
            raise not_found("subprofile", ident)
        return found

    def database_of_collection(self, collection_id: int) -> Database:
        return self.databases[self.collections[collection_id].database]

    def database_of(self, found: Field) -> Database:
        if found.owner == "database":
            return self.databases[found.owner_id]
        return self.database_of_collection(found.owner_id)

    # --------------------------------------------------------------- lookups by name

    def account_databases(self, account: str) -> list[Database]:
        return [db for db in self.databases.values() if db.account == account]

    @staticmethod
    def _by_identifier(items: Sequence[Any], identifier: str) -> Any | None:
        """Match a name (case-insensitively) or a numeric id, as ``identifier`` allows."""
        wanted = identifier.strip()
        if wanted.isdigit():
            for item in items:
                if item.id == int(wanted):
                    return item
        folded = wanted.casefold()
        for item in items:
            if item.name.casefold() == folded:
                return item
        return None

    def find_database(self, account: str, identifier: str) -> Database | None:
        found: Database | None = self._by_identifier(self.account_databases(account), identifier)
        return found

    def find_collection(self, db: Database, identifier: str) -> Collection | None:
        found: Collection | None = self._by_identifier(self.db_collections(db), identifier)
        return found

    def find_field(self, field_ids: Sequence[int], identifier: str) -> Field | None:
        found: Field | None = self._by_identifier(self.fields_of(field_ids), identifier)
        return found

    def fields_of(self, field_ids: Iterable[int]) -> list[Field]:
        return [self.fields[fid] for fid in field_ids]

    def db_collections(self, db: Database) -> list[Collection]:
        return [self.collections[cid] for cid in db.collection_ids]

    # ---------------------------------------------------------------------- creation

    def create_database(self, account: str, name: str, description: str = "") -> Database:
        name = _valid_name(name, "database")
        if _name_taken(self.account_databases(account), name):
            raise client_fault(f"Database '{name}' already exists")
        db = Database(self._new_id("database"), account, name, description, now())
        self.databases[db.id] = db
        self.db_profiles[db.id] = {}
        self._touch("database", db)
        return db

    def update_database(self, db: Database, changes: Mapping[str, str]) -> None:
        if "name" in changes:
            name = _valid_name(changes["name"], "database")
            if _name_taken(self.account_databases(db.account), name, db.id):
                raise client_fault(f"Database '{name}' already exists")
        behaviour = changes.get("unsubscribebehavior")
        if behaviour is not None and behaviour not in UNSUBSCRIBE_BEHAVIOURS:
            raise client_fault(f"Invalid unsubscribebehavior '{behaviour}'")
        if "name" in changes:
            db.name = changes["name"].strip()
        if "description" in changes:
            db.description = changes["description"]
        if behaviour is not None:
            db.unsubscribebehavior = behaviour
        self._touch("database", db)

    def create_collection(self, db: Database, name: str) -> Collection:
        name = _valid_name(name, "collection")
        if _name_taken(self.db_collections(db), name):
            raise client_fault(f"Collection '{name}' already exists")
        coll = Collection(self._new_id("collection"), db.id, name, now())
        self.collections[coll.id] = coll
        self.coll_subs[coll.id] = {}
        db.collection_ids.append(coll.id)
        self._touch("collection", coll)
        self._touch("database", db)
        return coll

    def _owner(self, owner: str, owner_id: int) -> tuple[list[int], Mapping[int, Entity]]:
        if owner == "database":
            return self.databases[owner_id].field_ids, self.db_profiles[owner_id]
        return self.collections[owner_id].field_ids, self.coll_subs[owner_id]

    def _check_field_spec(self, spec: Mapping[str, Any], field_type: str) -> None:
        if field_type not in FIELD_TYPES:
            raise client_fault(f"Invalid field type '{field_type}'")
        length = spec.get("length")
        if length is not None and length < 0:
            raise client_fault(f"Invalid length {length}")

    def create_field(self, owner: str, owner_id: int, spec: Mapping[str, Any]) -> Field:
        """Create a field from ``spec`` (the Database_createField parameters)."""
        field_ids, entities = self._owner(owner, owner_id)
        name = _valid_name(str(spec.get("name", "")), "field")
        if _name_taken(self.fields_of(field_ids), name):
            raise client_fault(f"Field '{name}' already exists")
        field_type = str(spec.get("type") or "text")
        self._check_field_spec(spec, field_type)
        new = Field(self._new_id("field"), owner, owner_id, name, field_type)
        _apply_spec(new, spec)
        if new.type != "select" and new.value and new.normalise(new.value) is None:
            raise client_fault(
                f"Invalid value '{new.value}' for field '{name}' (type {field_type})"
            )
        self.fields[new.id] = new
        field_ids.append(new.id)
        default = new.default()
        for entity in entities.values():
            entity.values[new.id] = default
            self._touch(owner_kind(owner), entity)
        self._touch("field", new)
        self._touch(
            owner, self.databases[owner_id] if owner == "database" else self.collections[owner_id]
        )
        return new

    def update_field(self, found: Field, spec: Mapping[str, Any]) -> None:
        """Field_update / CollectionField_update: rename, retype, re-flag."""
        field_ids, entities = self._owner(found.owner, found.owner_id)
        if "name" in spec:
            name = _valid_name(str(spec["name"]), "field")
            if _name_taken(self.fields_of(field_ids), name, found.id):
                raise client_fault(f"Field '{name}' already exists")
        field_type = str(spec.get("type") or found.type)
        self._check_field_spec(spec, field_type)
        before = (found.type, found.effective_length(), found.big)
        if "name" in spec:
            found.name = str(spec["name"]).strip()
        found.type = field_type
        _apply_spec(found, spec)
        if (found.type, found.effective_length(), found.big) != before:
            # Stored values must fit the new definition; values it rejects become the default.
            default = found.default()
            self._indexes.pop(found.id, None)
            for entity in entities.values():
                old = entity.values.get(found.id, default)
                entity.values[found.id] = found.normalise(old) or default
                self._touch(owner_kind(found.owner), entity)
        self._touch("field", found)

    def create_callback(self, db: Database, url: str, method: str, expression: str) -> Callback:
        callback = Callback(self._new_id("callback"), db.id, url, method, expression)
        self.callbacks[callback.id] = callback
        db.callback_ids.append(callback.id)
        self._touch("callback", callback)
        self._touch("database", db)
        return callback

    def set_unsubscribe_values(self, db: Database, values: Mapping[int, str]) -> None:
        db.unsubscribe_values = dict(values)
        self._touch("database", db)

    # ---------------------------------------------------------------------- values

    def resolve_values(
        self, field_ids: Sequence[int], given: Mapping[str, str], *, strict: bool
    ) -> dict[int, str] | None:
        """Map field names to ids and normalise values; unknown names are ignored.

        A value the field's type rejects raises ``Invalid value ...`` when ``strict``
        (the upsert/create operations), else returns None (updateFields answers false).
        """
        by_name = field_lookup(self.fields_of(field_ids))
        out: dict[int, str] = {}
        for key, raw in given.items():
            found = by_name.get(key.strip().casefold())
            if found is None:
                continue
            value = found.normalise(raw)
            if value is None:
                if strict:
                    raise client_fault(
                        f"Invalid value '{raw}' for field '{found.name}' (type {found.type})"
                    )
                return None
            out[found.id] = value
        return out

    def index_for(self, found: Field) -> ValueIndex:
        """The field's value index, built on first use and maintained on every write."""
        index = self._indexes.get(found.id)
        if index is None:
            index = ValueIndex()
            _, entities = self._owner(found.owner, found.owner_id)
            default = found.default()
            for entity in entities.values():
                index.add(entity.values.get(found.id, default), entity.id)
            self._indexes[found.id] = index
        return index

    def _index_entity(self, entity: Entity, add: bool) -> None:
        for fid, value in entity.values.items():
            index = self._indexes.get(fid)
            if index is not None:
                if add:
                    index.add(value, entity.id)
                else:
                    index.discard(value, entity.id)

    def set_values(self, entity: Entity, values: Mapping[int, str]) -> bool:
        """Write values, keeping indexes current; True (and a new ``modified``) if changed."""
        changed = False
        for fid, value in values.items():
            old = entity.values.get(fid)
            if old == value:
                continue
            index = self._indexes.get(fid)
            if index is not None:
                if old is not None:
                    index.discard(old, entity.id)
                index.add(value, entity.id)
            entity.values[fid] = value
            changed = True
        if changed:
            entity.modified = now()
            self._touch("profile" if isinstance(entity, Profile) else "subprofile", entity)
        return changed

    def set_interests(self, profile: Profile, interests: Mapping[str, str]) -> None:
        if interests:
            profile.interests.update(interests)
            profile.modified = now()
            self._touch("profile", profile)

    def _initial_values(
        self, field_ids: Sequence[int], values: Mapping[int, str]
    ) -> dict[int, str]:
        out = {fid: self.fields[fid].default() for fid in field_ids}
        out.update(values)
        return out

    def create_profile(self, db: Database, values: Mapping[int, str]) -> Profile:
        stamp = now()
        profile = Profile(
            self._new_id("profile"),
            db.id,
            self._new_code(),
            stamp,
            stamp,
            self._initial_values(db.field_ids, values),
        )
        self.profiles[profile.id] = profile
        self.db_profiles[db.id][profile.id] = profile
        self.profile_subs[profile.id] = {}
        self._index_entity(profile, add=True)
        self._touch("profile", profile)
        return profile

    def create_subprofile(
        self, coll: Collection, profile: Profile, values: Mapping[int, str]
    ) -> Subprofile:
        if profile.database != coll.database:
            raise not_found("collection", coll.id)
        stamp = now()
        sub = Subprofile(
            self._new_id("subprofile"),
            coll.id,
            profile.id,
            self._new_code(),
            stamp,
            stamp,
            self._initial_values(coll.field_ids, values),
        )
        self.subprofiles[sub.id] = sub
        self.coll_subs[coll.id][sub.id] = sub
        self.profile_subs[profile.id][sub.id] = sub
        self._index_entity(sub, add=True)
        self._touch("subprofile", sub)
        return sub

    # ---------------------------------------------------------------------- removal

    def remove_subprofile(self, sub: Subprofile) -> None:
        self._index_entity(sub, add=False)
        del self.subprofiles[sub.id]
        del self.coll_subs[sub.collection][sub.id]
        del self.profile_subs[sub.profile][sub.id]
        self._gone("subprofile", sub.id)

    def remove_profile(self, profile: Profile) -> None:
        for sub in list(self.profile_subs[profile.id].values()):
            self.remove_subprofile(sub)
        self._index_entity(profile, add=False)
        del self.profiles[profile.id]
        del self.db_profiles[profile.database][profile.id]
        del self.profile_subs[profile.id]
        self._gone("profile", profile.id)

    def move_subprofile(self, sub: Subprofile, target: Profile) -> None:
        if self.collections[sub.collection].database != target.database:
            raise client_fault(f"Profile {target.id} is not in the subprofile's database")
        del self.profile_subs[sub.profile][sub.id]
        sub.profile = target.id
        self.profile_subs[target.id][sub.id] = sub
        sub.modified = now()
        self._touch("subprofile", sub)

    def remove_collection(self, coll: Collection) -> None:
        for sub in list(self.coll_subs[coll.id].values()):
            self.remove_subprofile(sub)
        for fid in coll.field_ids:
            self._drop_field(fid)
        db = self.databases[coll.database]
        db.collection_ids.remove(coll.id)
        del self.collections[coll.id]
        del self.coll_subs[coll.id]
        self._gone("collection", coll.id)
        self._touch("database", db)

    def _drop_field(self, fid: int) -> None:
        self._indexes.pop(fid, None)
        del self.fields[fid]
        self._gone("field", fid)

    def remove_database(self, db: Database) -> None:
        for coll in self.db_collections(db):
            self.remove_collection(coll)
        for profile in list(self.db_profiles[db.id].values()):
            del self.profiles[profile.id]
            del self.profile_subs[profile.id]
            self._gone("profile", profile.id)
        for fid in db.field_ids:
            self._drop_field(fid)
        for cid in db.callback_ids:
            del self.callbacks[cid]
            self._gone("callback", cid)
        del self.db_profiles[db.id]
        del self.databases[db.id]
        self._gone("database", db.id)

    # ----------------------------------------------------------------------- search

    def select(self, conditions: Sequence[Condition], universe: Mapping[int, E]) -> list[E]:
        return select(conditions, universe, self.index_for)

    def profile_universe(self, profile: Profile, coll: Collection | None) -> dict[int, Subprofile]:
        """One profile's subprofiles (in one collection, if given)."""
        return {
            sid: sub
            for sid, sub in self.profile_subs[profile.id].items()
            if coll is None or sub.collection == coll.id
        }

    def named_values(self, entity: Entity, field_ids: Sequence[int]) -> dict[str, str]:
        """Field name -> value, in field order."""
        fields = self.fields
        return {fields[fid].name: entity.values.get(fid, "") for fid in field_ids}

    def entity_fields(self, entity: Entity) -> list[int]:
        if isinstance(entity, Profile):
            return self.databases[entity.database].field_ids
        return self.collections[entity.collection].field_ids


_TABLES = {
    "database": "databases",
    "collection": "collections",
    "field": "fields",
    "callback": "callbacks",
    "profile": "profiles",
    "subprofile": "subprofiles",
}


def owner_kind(owner: str) -> str:
    """The entity kind stored under a field owner kind."""
    return "profile" if owner == "database" else "subprofile"


def _name_taken(
    items: Iterable[Database | Collection | Field], name: str, except_id: int = 0
) -> bool:
    """Names are unique per parent, compared case-insensitively."""
    folded = name.strip().casefold()
    return any(item.name.casefold() == folded and item.id != except_id for item in items)


_FLAG_SPEC = {
    "display": "displayed",
    "ordered": "ordered",
    "big": "big",
    "hidden": "hidden",
    "index": "index",
}
_INT_SPEC = {"length": "length", "lines": "lines", "textlines": "lines"}
_STR_SPEC = {"value": "value", "specialcontent": "specialcontent"}


def _apply_spec(found: Field, spec: Mapping[str, Any]) -> None:
    for key, attr in _FLAG_SPEC.items():
        if spec.get(key) is not None:
            setattr(found, attr, bool(spec[key]))
    for key, attr in _INT_SPEC.items():
        if spec.get(key) is not None:
            setattr(found, attr, int(spec[key]))
    for key, attr in _STR_SPEC.items():
        if spec.get(key) is not None:
            setattr(found, attr, str(spec[key]))
    if found.type == "text" and not found.length and not found.big:
        found.length = DEFAULT_TEXT_LENGTH
