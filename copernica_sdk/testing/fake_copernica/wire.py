"""SOAP 1.1 rpc/literal on the wire: read request envelopes, write responses and faults.

Requests are decoded against the WSDL's ``input_<Op>`` types (required members,
int/boolean checks, list members); responses are written in the WSDL's sequence
order because zeep parses results strictly.  Elements are matched by local name:
clients may or may not namespace-qualify the children of ``<parameters>``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TypeAlias

from lxml import etree

from .errors import client_fault
from .wsdl import Member, ServiceSchema, safe_parser

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# A decoded request value.  List-wrapper types (Map, Requirements, IntArray, ...)
# decode to a list of their items; other complex types to a dict.
Decoded: TypeAlias = "int | bool | str | dict[str, Decoded] | list[Decoded]"
# What handlers hand to the serialiser.  Mapping values for a Map member become pairs.
Out: TypeAlias = "int | bool | str | Mapping[str, Out] | Sequence[Out] | None"

_INT_RE = re.compile(r"\s*[+-]?\d+\s*\Z")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# Characters XML 1.0 forbids; only text the fake did not parse itself (fault messages
# that echo headers) can contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


# --------------------------------------------------------------------------- requests


def parse_envelope(body: bytes) -> tuple[str, etree._Element]:
    """Return the operation name (the Body's first child) and its parameters element.

    rpc/literal puts the arguments in a ``<parameters>`` part; if a client sent the
    members directly under the operation element, those are used instead.
    """
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError):
        raise client_fault("Bad Request") from None
    if root is None or _local(root.tag) != "Envelope":
        raise client_fault("Bad Request")
    soap_body = next((el for el in root if _local(el.tag) == "Body"), None)
    if soap_body is None:
        raise client_fault("Bad Request")
    op_el = next((el for el in soap_body if isinstance(el.tag, str)), None)
    if op_el is None:
        raise client_fault("Bad Request")
    params = next((el for el in op_el if _local(el.tag) == "parameters"), op_el)
    return _local(op_el.tag), params


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's safe parser: building one per request cost more than parsing
    a small envelope, and an lxml parser must not be used by two threads at once."""
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = safe_parser()
    return parser


#: Decodes one element; the path names it in a fault ("fields.pair.key").
_ValueDecoder: TypeAlias = Callable[[etree._Element, str], Decoded]
#: A complexType's members, in schema order: name, required, repeated, decoder.
_Members: TypeAlias = "list[tuple[str, bool, bool, _ValueDecoder]]"


class RequestDecoder:
    """Decodes request elements against the WSDL's complexTypes.

    Each type's members and the decoder of each member are worked out once, on the
    type's first use: the fake decodes every request's parameters, and walking the
    schema per element was a fifth of its CPU per call.
    """

    def __init__(self, schema: ServiceSchema) -> None:
        self._schema = schema
        self._members: dict[str, _Members] = {}

    def struct(self, type_name: str, el: etree._Element, prefix: str = "") -> dict[str, Decoded]:
        """Decode ``el`` as the complexType ``type_name``; unknown children are ignored.

        Raises a Client fault naming the parameter when a required member is missing
        or an int/boolean member does not parse.
        """
        members = self._members.get(type_name)
        if members is None:
            members = self._members[type_name] = [
                (m.name, m.required, m.repeated, self._value(m))
                for m in self._schema.types[type_name]
            ]
        children: dict[str, list[etree._Element]] = {}
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and child.get(_XSI_NIL) not in _NIL:
                children.setdefault(tag.rpartition("}")[2], []).append(child)
        out: dict[str, Decoded] = {}
        for name, required, repeated, decode in members:
            found = children.get(name)
            if not found:
                if required:
                    raise client_fault(f"Missing parameter '{prefix}{name}'")
                continue
            path = prefix + name
            out[name] = [decode(c, path) for c in found] if repeated else decode(found[0], path)
        return out

    def _value(self, member: Member) -> _ValueDecoder:
        if member.type == "string":
            return _text
        if member.scalar:
            return partial(_typed_scalar, member.type)
        item = self._schema.list_item(member.type)
        if item is None:
            type_name = member.type
            return lambda el, path: self.struct(type_name, el, f"{path}.")
        item_name, decode_item = item.name, self._value(item)

        def decode_list(el: etree._Element, path: str) -> Decoded:
            item_path = f"{path}.{item_name}"
            return [decode_item(child, item_path) for child in el
                    if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == item_name
                    and child.get(_XSI_NIL) not in _NIL]
        return decode_list


_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_NIL = ("true", "1")


def _text(el: etree._Element, path: str) -> str:
    return el.text or ""


def _typed_scalar(type_name: str, el: etree._Element, path: str) -> int | bool:
    """An ``int`` or ``boolean`` member (strings are :func:`_text`)."""
    text = el.text or ""
    if type_name == "int":
        if _INT_RE.match(text) and _INT_MIN <= int(text) <= _INT_MAX:
            return int(text)
    else:
        value = _BOOLEANS.get(text.strip())
        if value is not None:
            return value
    raise client_fault(
        f"Invalid value '{clean(text)}' for parameter '{path}' (expected {type_name})"
    )


# -------------------------------------------------------------------------- responses


def clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def esc(text: str) -> str:
    """Escape text content; CR is kept as a character reference so it survives parsing."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _scalar_text(value: Out) -> str:
    if isinstance(value, bool):
        # PHP casts booleans to strings as "1" and "".
        return "1" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return esc(value)
    raise TypeError(f"not a scalar: {value!r}")


def _emit_map(out: list[str], name: str, value: Mapping[str, Out]) -> None:
    out.append(f"<{name}>")
    for key, val in value.items():
        out.append(f"<pair><key>{esc(key)}</key><value>{_scalar_text(val)}</value></pair>")
    out.append(f"</{name}>")


def _emit_member(out: list[str], schema: ServiceSchema, member: Member, value: Out) -> None:
    name = member.name
    if member.scalar:
        out.append(f"<{name}>{_scalar_text(value)}</{name}>")
        return
    if member.type == "Map" and isinstance(value, Mapping):
        _emit_map(out, name, value)
        return
    item = schema.list_item(member.type)
    if item is not None:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise TypeError(f"{name} expects a list")
        out.append(f"<{name}>")
        for entry in value:
            _emit_member(out, schema, item, entry)
        out.append(f"</{name}>")
        return
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} expects a mapping")
    out.append(f"<{name}>")
    emit_struct(out, schema, member.type, value)
    out.append(f"</{name}>")


def emit_struct(
    out: list[str], schema: ServiceSchema, type_name: str, data: Mapping[str, Out]
) -> None:
    """Append ``data`` as the members of ``type_name``, in schema order; None is omitted."""
    for member in schema.types[type_name]:
        value = data.get(member.name)
        if value is None:
            continue
        if member.repeated and isinstance(value, list):
            for entry in value:
                _emit_member(out, schema, member, entry)
        else:
            _emit_member(out, schema, member, value)


def response_envelope(schema: ServiceSchema, operation: str, result: Mapping[str, Out]) -> bytes:
    """``<ns1:{Op}Response><result>…</result></ns1:{Op}Response>``, always with ``<result>``."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:ns1="{schema.tns}">'
        f"<SOAP-ENV:Body><ns1:{operation}Response><result>"
    ]
    emit_struct(out, schema, "Result", result)
    out.append(f"</result></ns1:{operation}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n")
    return "".join(out).encode("utf-8")


def fault_envelope(code: str, message: str) -> bytes:
    """A SOAP 1.1 fault with ``faultcode`` ``SOAP-ENV:<code>``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>SOAP-ENV:{code}</faultcode><faultstring>{esc(clean(message))}</faultstring>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    ).encode()
