"""Helpers shared by the service namespaces: ids, requirements, field maps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .._safety import FieldNameCache, check_touched
from .._soap import SoapResult
from ..errors import ConstraintError, InvalidRequirementError, NotFoundError
from ..models import Page, Requirement
from ..values import WireValue, to_wire_fields

__all__ = [
    "ClientCore",
    "IdLike",
    "RequirementsLike",
    "encode_fields",
    "encode_requirements",
    "fit_lengths",
    "id_of",
    "parent_id",
    "retrieve_by_id",
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
    max_connections: int
    field_names: FieldNameCache

    def _call(self, operation: str, params: dict[str, Any]) -> SoapResult: ...

    def check_lengths(self, kind: str, parent_id: int, fields: Mapping[str, WireValue],
                      requirements: Sequence[Requirement],
                      operation: str) -> Mapping[str, WireValue]: ...


def id_of(obj: IdLike, what: str) -> int:
    value = obj if isinstance(obj, int) else getattr(obj, "id", None)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{what} must be a positive id or an object with one, not {obj!r}")
    return value


def to_requirements(requirements: RequirementsLike | None) -> list[Requirement]:
    """Requirements as :class:`Requirement` objects; a mapping means equality on each key.

    Operators were checked when each :class:`Requirement` was made (an unknown or
    unverified one raises there, inside the ``CopernicaError`` tree).
    """
    if requirements is None:
        return []
    if isinstance(requirements, Mapping):
        return [Requirement(name, "=", value) for name, value in requirements.items()]
    if isinstance(requirements, str | bytes):
        raise InvalidRequirementError(
            f"requirements must be a mapping or a list of Requirement objects, not "
            f"{requirements!r}")
    out = list(requirements)
    for req in out:
        if not isinstance(req, Requirement):
            raise InvalidRequirementError(
                f"requirements must be Requirement objects (e.g. Requirement('score', '=', 5)),"
                f" not {req!r}")
    return out


def encode_requirements(requirements: Sequence[Requirement]) -> dict[str, Any]:
    return {"requirement": [
        {"fieldname": r.field, "value": r.value, "operator": r.wire_operator,
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


def retrieve_by_id(client: ClientCore, operation: str, model: type[T], obj: IdLike,
                   what: str) -> T:
    """The ``model`` that ``operation`` (an ``X_retrieve``) returns for ``obj``'s id;
    :class:`NotFoundError` naming it when there is none."""
    object_id = id_of(obj, what)
    found = client._call(operation, {"id": object_id}).entity(model)
    if found is None:
        raise NotFoundError(f"no {what} with id {object_id}", operation=operation)
    return found


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


def fit_lengths(client: ClientCore, kind: str, parent: int, fields: Mapping[str, WireValue],
                requirements: Sequence[Requirement], operation: str,
                unknown_fields: str) -> Mapping[str, WireValue]:
    """``fields`` with over-long text cut (warning) or refused (``strict_lengths``).

    A key too long for its field is always refused.  ``unknown_fields="ignore"``
    sends the values as given: the caller asked not to check them against the
    field list.
    """
    if unknown_fields == "ignore":
        if requirements:
            client.check_lengths(kind, parent, {}, requirements, operation)
        return fields
    return client.check_lengths(kind, parent, fields, requirements, operation)


def encode_fields(fields: Mapping[str, WireValue]) -> dict[str, Any]:
    return {"pair": [{"key": k, "value": v} for k, v in to_wire_fields(fields).items()]}
