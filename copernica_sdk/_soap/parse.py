"""Read ``<result>`` elements straight into the SDK's models with lxml.

zeep builds our requests, but its response deserialisation costs about ten
times more per object than one pass over the children here (see
bench/soap_parse.py).  Element names are matched by local name, so answers with
or without namespace-qualified children both work.  The service may send
booleans as ``1``/empty (PHP casts) or ``true``/``false``; both are understood.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from lxml import etree

from ..errors import ResponseParseError
from ..models import Callback, Collection, Database, Field, Page, Profile, Subprofile

__all__ = ["SoapResult"]

T = TypeVar("T")
_Element = etree._Element


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _text(el: _Element) -> str:
    return el.text or ""


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _timestamp(value: str | None) -> datetime | None:
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _pairs(el: _Element) -> dict[str, str]:
    # _local and _text inlined: an answer holds a pair per field, each read per call.
    out: dict[str, str] = {}
    for pair in el:
        key = value = None
        for part in pair:
            tag = part.tag
            if not isinstance(tag, str):
                continue  # comments and processing instructions
            name = tag.rpartition("}")[2] if tag[:1] == "{" else tag
            if name == "key":
                key = part.text or ""
            elif name == "value":
                value = part.text or ""
        if key is not None:
            out[key] = value or ""
    return out


def _props(el: _Element) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """One pass over an entity: scalar children as text, map children as dicts."""
    scalars: dict[str, str] = {}
    maps: dict[str, dict[str, str]] = {}
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions (as _local)
        name = tag.rpartition("}")[2] if tag[:1] == "{" else tag
        if name in ("fields", "interests", "map"):
            maps[name] = _pairs(child)
        elif name:
            scalars[name] = child.text or ""
    return scalars, maps


def _required_id(props: dict[str, str], kind: str) -> int:
    value = _int(props.get("id"))
    if value is None:
        raise ResponseParseError(f"{kind} without a numeric id in the response")
    return value


def _database(el: _Element) -> Database:
    p, _ = _props(el)
    return Database(
        id=_required_id(p, "database"),
        name=p.get("name", ""),
        description=p.get("description", ""),
        archived=_bool(p.get("archived")),
        created=_timestamp(p.get("created")),
        unsubscribe_behavior=p.get("unsubscribebehavior", ""),
        profile_count=_int(p.get("countprofiles")),
    )


def _collection(el: _Element) -> Collection:
    p, _ = _props(el)
    return Collection(
        id=_required_id(p, "collection"),
        name=p.get("name", ""),
        database_id=_int(p.get("database")),
        created=_timestamp(p.get("created")),
        subprofile_count=_int(p.get("countsubprofiles")),
    )


def _field(el: _Element) -> Field:
    p, _ = _props(el)
    return Field(
        id=_required_id(p, "field"),
        name=p.get("name", ""),
        type=p.get("type", "") or "text",
        default=p.get("value", ""),
        length=_int(p.get("length")),
        index=_bool(p.get("index")),
        hidden=_bool(p.get("hidden")),
        displayed=_bool(p.get("displayed")),
        ordered=_bool(p.get("ordered")),
        big=_bool(p.get("big")),
        lines=_int(p.get("lines")),
        special_content=p.get("specialcontent", ""),
    )


def _profile(el: _Element) -> Profile:
    p, maps = _props(el)
    return Profile(
        id=_required_id(p, "profile"),
        code=p.get("code", ""),
        database_id=_int(p.get("database")),
        created=_timestamp(p.get("created")),
        modified=_timestamp(p.get("modified")),
        fields=maps.get("fields", {}),
        interests=maps.get("interests", {}),
    )


def _subprofile(el: _Element) -> Subprofile:
    p, maps = _props(el)
    return Subprofile(
        id=_required_id(p, "subprofile"),
        code=p.get("code", ""),
        profile_id=_int(p.get("profile")),
        collection_id=_int(p.get("collection")),
        created=_timestamp(p.get("created")),
        modified=_timestamp(p.get("modified")),
        fields=maps.get("fields", {}),
    )


def _callback(el: _Element) -> Callback:
    p, _ = _props(el)
    return Callback(
        id=_required_id(p, "callback"),
        url=p.get("url", ""),
        method=p.get("method", ""),
        expression=p.get("expression", ""),
    )


#: Model → (element name in responses, converter).
_MODELS: dict[type, tuple[str, Callable[[_Element], Any]]] = {
    Database: ("database", _database),
    Collection: ("collection", _collection),
    Field: ("field", _field),
    Profile: ("profile", _profile),
    Subprofile: ("subprofile", _subprofile),
    Callback: ("callback", _callback),
}


def _model_parts(model: type[T], element: str | None) -> tuple[str, Callable[[_Element], T]]:
    name, converter = _MODELS[model]
    return element or name, converter


class SoapResult:
    """The ``<result>`` of one call, read on demand into the shape the caller expects."""

    __slots__ = ("_el", "operation")

    def __init__(self, element: _Element, operation: str) -> None:
        self._el = element
        self.operation = operation

    def _child(self, name: str) -> _Element | None:
        for child in self._el:
            if _local(child.tag) == name:
                return child
        return None

    @property
    def element(self) -> _Element:
        """The ``<result>`` element itself (for readers other than the typed ones)."""
        return self._el

    @property
    def is_empty(self) -> bool:
        return not any(_local(c.tag) for c in self._el)

    def value(self) -> str | None:
        """The scalar ``value`` member, or ``None`` when absent."""
        el = self._child("value")
        return None if el is None else _text(el)

    def succeeded(self) -> bool:
        """``value`` is the service's "true" (``1``); false is sent as empty or ``0``."""
        return _bool(self.value())

    def map(self) -> dict[str, str]:
        el = self._child("map")
        return {} if el is None else _pairs(el)

    def array(self) -> list[str]:
        el = self._child("array")
        return [] if el is None else [_text(item) for item in el if _local(item.tag)]

    def entity(self, model: type[T], element: str | None = None) -> T | None:
        """The single ``model`` object in the result, or ``None`` when not found.

        ``element`` overrides the element name (``collectionfield`` for a ``Field``
        of a collection).
        """
        name, converter = _model_parts(model, element)
        el = self._child(name)
        if el is None or not len(el):
            return None
        try:
            return converter(el)
        except ResponseParseError as exc:
            exc.operation = self.operation
            raise

    def page(self, model: type[T], element: str | None = None) -> Page[T]:
        """A paged collection of ``model`` items; an absent ``<items>`` is an empty page."""
        name, converter = _model_parts(model, element)
        start = total = None
        items: list[T] = []
        for child in self._el:
            tag = _local(child.tag)
            if tag == "start":
                start = _int(child.text)
            elif tag == "total":
                total = _int(child.text)
            elif tag == "items":
                try:
                    items = [converter(item) for item in child if _local(item.tag) == name]
                except ResponseParseError as exc:
                    exc.operation = self.operation
                    raise
        start = start or 0
        return Page(items=tuple(items), start=start,
                    total=total if total is not None else start + len(items))
