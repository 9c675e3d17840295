"""Entities as the WSDL's result types (Database, Field, Profile, ...).

Booleans are Python bools here; the serialiser writes them as PHP does ('1' / '').
Member order does not matter in these dicts: wire.emit_struct writes schema order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .models import Account, Callback, Collection, Database, Field, Profile, Subprofile
from .state import State
from .wire import Out

Result = dict[str, Out]
T = TypeVar("T")


def account_out(account: Account) -> Result:
    return {
        "id": account.id,
        "name": account.name,
        "description": "",
        "created": account.created,
        "active": True,
    }


def database_out(state: State, db: Database) -> Result:
    return {
        "id": db.id,
        "name": db.name,
        "description": db.description,
        "archived": db.archived,
        "created": db.created,
        "unsubscribebehavior": db.unsubscribebehavior,
        "countprofiles": len(state.db_profiles[db.id]),
        "lastbuilt": db.created,
    }


def collection_out(state: State, coll: Collection) -> Result:
    return {
        "id": coll.id,
        "name": coll.name,
        "database": coll.database,
        "weight": 0,
        "created": coll.created,
        "unsubscribebehavior": coll.unsubscribebehavior,
        "countsubprofiles": len(state.coll_subs[coll.id]),
    }


def field_out(found: Field) -> Result:
    return {
        "id": found.id,
        "name": found.name,
        "type": found.type,
        "value": found.value,
        "displayed": found.displayed,
        "ordered": found.ordered,
        "length": found.effective_length(),
        "lines": found.lines,
        "big": found.big,
        "hidden": found.hidden,
        "index": found.index,
        "specialcontent": found.specialcontent,
    }


def profile_out(state: State, profile: Profile, full: bool) -> Result:
    """A profile; ``fields``/``interests`` only when ``full`` (allproperties)."""
    out: Result = {
        "id": profile.id,
        "code": profile.code,
        "extra": "",
        "database": profile.database,
        "created": profile.created,
        "modified": profile.modified,
        "lastexport": "",
    }
    if full:
        out["fields"] = state.named_values(profile, state.databases[profile.database].field_ids)
        out["interests"] = dict(profile.interests)
    return out


def subprofile_out(state: State, sub: Subprofile, full: bool) -> Result:
    """A subprofile; ``fields`` only when ``full`` (allproperties)."""
    out: Result = {
        "id": sub.id,
        "code": sub.code,
        "profile": sub.profile,
        "collection": sub.collection,
        "created": sub.created,
        "modified": sub.modified,
        "lastexport": "",
    }
    if full:
        out["fields"] = state.named_values(sub, state.collections[sub.collection].field_ids)
    return out


def callback_out(callback: Callback) -> Result:
    return {
        "id": callback.id,
        "url": callback.url,
        "method": callback.method,
        "expression": callback.expression,
    }


def paged(
    element: str,
    entities: Sequence[T],
    build: Callable[[T], Result],
    start: int | None,
    length: int | None,
    allproperties: bool = False,
) -> Result:
    """A paged collection: start, length (items returned), total, items.

    ``entities`` is every match; only the requested page is built.  ``length``
    absent (or negative) means everything from ``start``.  ``allproperties`` is
    only echoed when true, as the real service does.
    """
    first = max(start or 0, 0)
    end = None if length is None or length < 0 else first + length
    page = [build(entity) for entity in entities[first:end]]
    result: Result = {
        "start": first,
        "length": len(page),
        "total": len(entities),
        "items": {element: page},
    }
    if allproperties:
        result["allproperties"] = True
    return result
