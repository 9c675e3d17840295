"""Plain Python values in and out of any operation, by what the WSDL declares.

For ``client.call``: the caller writes ``fields={"a": 1}``, ``collection=5`` or
``ids=[1, 2]``; the schema says a ``Map``, a reference struct or an array is
due, and :func:`shape` turns the plain value into that structure.  On the way
back :func:`read` walks the ``<result>`` element with the same schema: integers
and booleans become ``int``/``bool``, maps become ``dict``, repeated elements
lists.  The facade's typed models are built elsewhere (parse.py); this is the
generic path for operations the facade does not cover.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.etree import _Element

from ..errors import ConfigurationError, ResponseParseError
from ..values import to_wire

__all__ = ["PlainCodec"]


@dataclass(frozen=True)
class _Shape:
    """One element as the schema declares it, reduced to what plain values need."""

    local: str
    kind: str            # "int" | "bool" | "str" | "other" (scalars), "map", "struct"
    many: bool
    children: tuple[_Shape, ...] = ()

    @property
    def is_list_wrapper(self) -> bool:
        """A struct of one repeated element (``ids``→``item``, ``requirements``→``requirement``)."""
        return self.kind == "struct" and len(self.children) == 1 and self.children[0].many

    def child(self, name: str) -> _Shape | None:
        return next((c for c in self.children if c.local == name), None)


def _scalar_kind(xsd_type: Any) -> str:
    name = type(xsd_type).__name__
    if name == "Boolean":
        return "bool"
    if name in ("Int", "Integer", "Long", "Short"):
        return "int"
    return "str" if name == "String" else "other"


def _shape(element: Any) -> _Shape:
    local = etree.QName(element.qname).localname
    many = element.max_occurs == "unbounded" or (isinstance(element.max_occurs, int)
                                                 and element.max_occurs > 1)
    children = getattr(element.type, "elements", None)
    if children is None:
        return _Shape(local, _scalar_kind(element.type), many)
    kids = tuple(_shape(child) for _, child in children)
    is_map = (len(kids) == 1 and kids[0].local == "pair" and kids[0].many
              and {c.local for c in kids[0].children} == {"key", "value"})
    return _Shape(local, "map" if is_map else "struct", many, kids)


class PlainCodec:
    """Shapes plain parameters and reads plain results for one binding."""

    def __init__(self, binding: Any) -> None:
        self._binding = binding
        self._lock = threading.Lock()
        self._plans: dict[str, tuple[_Shape, _Shape]] = {}

    def _plans_for(self, operation: str) -> tuple[_Shape, _Shape]:
        plan = self._plans.get(operation)
        if plan is None:
            try:
                op = self._binding.get(operation)
            except ValueError:
                raise ConfigurationError(
                    f"the WSDL in use has no operation {operation!r}; check the spelling "
                    "(operation names are case-sensitive), or pass the service's own WSDL "
                    "(CopernicaClient(wsdl=…)) if it declares the operation") from None
            (_, params), = op.input.body.type.elements
            (_, result), = op.output.body.type.elements
            plan = (_shape(params), _shape(result))
            with self._lock:
                self._plans[operation] = plan
        return plan

    def parameters(self, operation: str) -> _Shape:
        return self._plans_for(operation)[0]

    def shape(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` in the structure the request builder (and the WSDL) expects."""
        node = self.parameters(operation)
        out: dict[str, Any] = {}
        for name, value in params.items():
            child = node.child(name)
            out[name] = value if child is None else _to_wire_shape(child, value, name)
        return out

    def read(self, operation: str, element: _Element) -> Any:
        """The result as plain Python: ``None`` when empty, the one member when there is
        one (``Database_retrieve`` → the database as a dict), else a dict of members."""
        result = self._plans_for(operation)[1]
        out = _read_struct(result, element)
        if not isinstance(out, dict) or not out:
            return None
        if len(out) == 1:
            return next(iter(out.values()))
        return out


def _ident(value: Any) -> Any:
    ident = getattr(value, "id", None)
    return ident if isinstance(ident, int) and not isinstance(value, int) else value


def _to_wire_shape(node: _Shape, value: Any, path: str) -> Any:
    if value is None:
        return None
    if node.kind == "map":
        if isinstance(value, Mapping) and set(value) != {"pair"}:
            return {"pair": [{"key": str(k), "value": to_wire(v, field=str(k))}
                             for k, v in value.items()]}
        return value
    if node.kind == "struct":
        if node.is_list_wrapper and isinstance(value, list | tuple):
            item = node.children[0]
            return {item.local: [_to_wire_shape(item, v, path) for v in value]}
        if not isinstance(value, Mapping) and node.child("id") is not None:
            return {"id": _ident(value)}  # a reference: collection=5 or collection=coll
        if isinstance(value, Mapping):
            return {k: (_to_wire_shape(c, v, f"{path}.{k}") if (c := node.child(k)) else v)
                    for k, v in value.items()}
        return value
    if node.kind == "int":
        return _ident(value)
    if node.kind == "str" and not isinstance(value, str):
        return to_wire(value, field=path)
    return value


def _read(node: _Shape, el: _Element) -> Any:
    if node.kind == "map":
        out: dict[str, str] = {}
        for pair in el:
            parts = {etree.QName(p).localname: (p.text or "") for p in pair
                     if isinstance(p.tag, str)}
            if "key" in parts:
                out[parts["key"]] = parts.get("value", "")
        return out
    if node.kind == "struct":
        members = _read_struct(node, el)
        if node.local == "items" or node.is_list_wrapper:
            # One list of whatever entities (or items) it holds.
            return [v for vs in members.values() for v in (vs if isinstance(vs, list) else [vs])]
        return members
    text = el.text or ""
    if node.kind == "int":
        try:
            return int(text.strip()) if text.strip() else None
        except ValueError:
            raise ResponseParseError(f"{node.local}: expected a whole number, got "
                                     f"{text[:40]!r}") from None
    if node.kind == "bool":
        return text.strip().lower() in ("1", "true")
    return text


def _read_struct(node: _Shape, el: _Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        shape = node.child(name)
        if shape is None:
            out[name] = child.text or ""  # undeclared: keep its text
            continue
        value = _read(shape, child)
        if shape.many:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out
