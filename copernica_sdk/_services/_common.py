"""Helpers shared by the service namespaces: ids, requirements, field maps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .._safety import FieldNameCache, check_touched
from .._soap import SoapResult
from ..errors import ConstraintError, NotFoundError
from ..models import Page, Requirement
from ..values import WireValue, to_wire, to_wire_fields

__all__ = [
    "ClientCore",
    "IdLike",
    "RequirementsLike",
    "encode_fields",
    "encode_requirements",
    "id_of",
    "parent_id",
    "set_fields",
    "to_requirements",
    "upserted",
]

T = TypeVar("T")


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


#: An object id, or any model with an ``id`` (``Database``, ``Profile``…).
IdLike = int | _HasId

#: ``{"field": value}`` (equality, case-sensitive) or explicit :class:`Requirement` objects.
RequirementsLike = Mapping[str, WireValue] | Sequence[Requirement]


class ClientCore(Protocol):
    """The part of the client the services use."""

    page_size: int
    field_names: FieldNameCache

    def _call(self, operation: str, params: dict[str, Any]) -> SoapResult: ...


def id_of(obj: IdLike, what: str) -> int:
    value = obj if isinstance(obj, int) else getattr(obj, "id", None)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{what} must be a positive id or an object with one, not {obj!r}")
    return value


def to_requirements(requirements: RequirementsLike | None) -> list[Requirement]:
    if requirements is None:
        return []
    if isinstance(requirements, Mapping):
        return [Requirement(field=name, value=to_wire(value, field=name))
                for name, value in requirements.items()]
    out = list(requirements)
    for req in out:
        if req.operator not in ("=", "!="):
            raise ValueError(f"operator {req.operator!r} on field {req.field!r} is not supported; "
                             "use '=' or '!=' (other operators are unverified on the SOAP API)")
        to_wire(req.value, field=req.field)  # refuses XML-forbidden characters
    return out


def encode_requirements(requirements: Sequence[Requirement]) -> dict[str, Any]:
    return {"requirement": [
        {"fieldname": r.field, "value": r.value, "operator": r.operator,
         "casesensitive": r.case_sensitive}
        for r in requirements
    ]}


def upserted(page: Page[T], search: Callable[[], Page[T]], *, what: str, where: str,
             key: Mapping[str, WireValue], operation: str) -> T:
    """The object an upsert left behind: from its answer, else by searching the key.

    The service may not report the objects it touched (unverified), hence the
    search.  More than one match for the unique key is a :class:`SafetyError`:
    the service matched several records (an ignored requirement, or duplicates),
    and every one of them was written.
    """
    check_touched(page, what=what, where=where, key=key, operation=operation)
    if not page.items:
        page = search()
        check_touched(page, what=what, where=where, key=key, operation=operation)
    if not page.items:
        raise NotFoundError(f"upsert of {dict(key)!r} left no {what} behind",
                            operation=operation)
    return page.items[0]


def parent_id(client: ClientCore, obj: IdLike, object_id: int, *, attribute: str,
              retrieve: str, model: type[Any], what: str) -> int | None:
    """The database (or collection) id of a profile (or subprofile), for checking field
    names: from the model the SDK returned, else read once with ``retrieve``."""
    value = getattr(obj, attribute, None)
    if not isinstance(value, int) or value <= 0:
        found = client._call(retrieve, {"id": object_id}).entity(model)
        if found is None:
            raise NotFoundError(f"no {what} with id {object_id}", operation=retrieve)
        value = getattr(found, attribute)
    return value if isinstance(value, int) and value > 0 else None


def set_fields(client: ClientCore, operation: str, what: str, object_id: int,
               fields: Mapping[str, WireValue]) -> None:
    """``Profile_updateFields``/``SubProfile_updateFields``: the service answers false
    (not a fault) when a value fails its field's type, and changes nothing."""
    result = client._call(operation, {"id": object_id, "fields": encode_fields(fields)})
    if not result.succeeded():
        raise ConstraintError(
            f"{what} {object_id}: a value failed its field's type check (fields: "
            f"{', '.join(sorted(fields))}); nothing was changed", operation=operation)


def encode_fields(fields: Mapping[str, WireValue]) -> dict[str, Any]:
    return {"pair": [{"key": k, "value": v} for k, v in to_wire_fields(fields).items()]}
