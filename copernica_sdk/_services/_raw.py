"""The checks ``client.call`` applies before and after any operation called by name.

The facade's guards, keyed by operation: requirements are checked against the
field list of the database or collection they apply to (Copernica ignores a
requirement on an unknown field, so a search returns — and an update overwrites
— every record), writes refuse an empty requirement list or an empty key, field
values name existing fields and fit their length, and an update whose answer
shows an ignored requirement raises :class:`SafetyError`.  An operation that
takes requirements but whose parent the SDK cannot tell (``View_updateProfiles``:
a view's database is not in the call) is refused rather than sent unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._safety import check_fields, check_ignored, check_requirements
from ..errors import InvalidRequirementError, UnsafeRequestError
from ..models import Page, Profile, Requirement, Subprofile
from ._common import ClientCore, encode_requirements, id_of, parent_id

__all__ = ["after_call", "before_call"]

# operation → (parent kind, parameter holding the parent's id, writes?)
_REQUIREMENTS: dict[str, tuple[str, str, bool]] = {
    "Database_searchProfiles": ("database", "id", False),
    "Database_updateProfiles": ("database", "id", True),
    "Profile_searchSubProfiles": ("collection", "collection", False),
    "Profile_updateSubProfiles": ("collection", "collection", True),
    "Collection_searchSubProfiles": ("collection", "id", False),
}
# operation → (parent kind, parameter holding the parent's id) for a ``fields`` parameter
_FIELDS: dict[str, tuple[str, str]] = {
    "Database_createProfile": ("database", "id"),
    "Database_updateProfiles": ("database", "id"),
    "Database_setUnsubscribeValues": ("database", "id"),
    "Database_distinctProfiles": ("database", "id"),
    "Profile_createSubProfile": ("collection", "collection"),
    "Profile_updateSubProfiles": ("collection", "collection"),
}
# operation → (parent kind, retrieve operation, model, attribute naming the parent)
_FIELDS_OF_OBJECT: dict[str, tuple[str, str, type[Any], str]] = {
    "Profile_updateFields": ("database", "Profile_retrieve", Profile, "database_id"),
    "SubProfile_updateFields": ("collection", "SubProfile_retrieve", Subprofile,
                                "collection_id"),
}
_CHECKED_AFTER: dict[str, type[Any]] = {
    "Database_updateProfiles": Profile,
    "Profile_updateSubProfiles": Subprofile,
}


def _parent(params: Mapping[str, Any], name: str, kind: str) -> int:
    value = params.get(name)
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None:
        raise UnsafeRequestError(f"the call names no {kind} ({name}=…)")
    return id_of(value, kind)


def _requirement(raw: object) -> Requirement:
    if isinstance(raw, Requirement):
        return raw
    if isinstance(raw, Mapping) and "fieldname" in raw:
        return Requirement(raw["fieldname"], raw.get("operator") or "=", raw.get("value", ""),
                           case_sensitive=raw.get("casesensitive", True),
                           unverified=bool(raw.get("unverified", False)))
    raise InvalidRequirementError(
        f"a requirement must be a Requirement or a mapping with fieldname/value/operator, "
        f"not {raw!r}")


def requirements_of(value: object) -> list[Requirement]:
    """``requirements=`` in any plain form: ``{"field": value}`` (equality), a list of
    :class:`Requirement` objects, or a list of ``{"fieldname", "value", "operator"}``."""
    if isinstance(value, Mapping):
        if set(value) == {"requirement"}:
            value = value["requirement"]
        else:
            return [Requirement(str(k), "=", v) for k, v in value.items()]
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise InvalidRequirementError(f"requirements must be a mapping or a list, not {value!r}")
    return [_requirement(r) for r in value]


def before_call(client: ClientCore, operation: str, params: dict[str, Any],
                declared: Callable[[str], bool]) -> tuple[dict[str, Any], list[Requirement]]:
    """``params`` checked (and requirements encoded) the way the facade would send them.

    ``declared(name)`` tells whether the operation takes a parameter ``name``.
    """
    params = dict(params)
    reqs: list[Requirement] = []
    if "requirements" in params and declared("requirements"):
        reqs = requirements_of(params["requirements"])
        where = _REQUIREMENTS.get(operation)
        if where is None:
            raise UnsafeRequestError(
                f"refusing client.call({operation!r}): the SDK cannot tell whose fields its "
                "requirements name, so it cannot check them (Copernica ignores a requirement "
                "on an unknown field, and the call would match every record)",
                operation=operation)
        kind, holder, write = where
        check_requirements(client.field_names, kind, _parent(params, holder, kind), reqs,
                           operation, write=write)
        if params.get("create") is True and not any(r.is_equality for r in reqs):
            raise UnsafeRequestError(
                f"refusing {operation} with create=True but no '=' requirement: a record "
                "created for it would have no key", operation=operation)
        params["requirements"] = encode_requirements(reqs)
        if operation in _CHECKED_AFTER:
            # The answer's records must carry their fields for after_call to see an
            # ignored requirement, as the facade always asks.
            params.setdefault("allproperties", True)
    fields = params.get("fields")
    if operation in _FIELDS and fields is not None:
        kind, holder = _FIELDS[operation]
        parent = _parent(params, holder, kind)
        if isinstance(fields, Mapping) and set(fields) != {"pair"}:
            fields = client.check_lengths(kind, parent, fields, reqs, operation)
            params["fields"] = fields
            check_fields(client.field_names, kind, parent, fields, operation, "raise")
        elif isinstance(fields, Sequence) and not isinstance(fields, str | bytes):
            check_fields(client.field_names, kind, parent, [str(f) for f in fields],
                         operation, "raise")
    elif operation in _FIELDS_OF_OBJECT and isinstance(fields, Mapping) and fields:
        kind, retrieve, model, attribute = _FIELDS_OF_OBJECT[operation]
        what = operation.split("_")[0].lower()  # "profile" or "subprofile"
        obj: Any = params.get("id")
        found = parent_id(client, obj, id_of(obj, what), attribute=attribute,
                          retrieve=retrieve, model=model, what=what)
        if found is not None:
            fields = client.check_lengths(kind, found, fields, (), operation)
            params["fields"] = fields
            check_fields(client.field_names, kind, found, fields, operation, "raise")
    return params, reqs


def after_call(page_of: Callable[[type[Any]], Page[Any]], operation: str,
               requirements: list[Requirement]) -> None:
    """Raise :class:`SafetyError` if an update's answer shows an ignored requirement."""
    model = _CHECKED_AFTER.get(operation)
    if model is not None and requirements:
        check_ignored(page_of(model), requirements, what=model.__name__.lower(),
                      where="(client.call)", operation=operation)
