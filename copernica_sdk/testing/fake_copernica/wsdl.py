"""The bundled WSDL, read once with lxml: the single source of truth for the fake.

Required parameters, scalar types, list members and the element order of every
result type are all taken from the WSDL itself, so the fake and the WSDL that
zeep is built from cannot drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"

# The WSDL lives in the SDK's _soap package.  It is located by path rather than
# through importlib.resources so that loading it never imports copernica_sdk._soap
# (and with it zeep) into the fake.
WSDL_PATH = Path(__file__).resolve().parent.parent.parent / "_soap" / "wsdl" / "copernica.wsdl"

SCALARS = frozenset({"int", "string", "boolean"})


def safe_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True)
class Member:
    """One element of a complexType's sequence."""

    name: str
    type: str  # "int" / "string" / "boolean" for xsd scalars, else a complexType name
    required: bool
    repeated: bool

    @property
    def scalar(self) -> bool:
        return self.type in SCALARS


@dataclass(frozen=True, slots=True)
class ServiceSchema:
    """What the fake needs to know about the WSDL."""

    tns: str
    types: dict[str, tuple[Member, ...]]
    # operation name -> name of its input complexType (input_<Op>)
    operations: dict[str, str]
    soap_actions: dict[str, str]
    wsdl_text: bytes

    def list_item(self, type_name: str) -> Member | None:
        """The item member if ``type_name`` is a pure list wrapper (Map, IntArray, ...)."""
        members = self.types.get(type_name, ())
        if len(members) == 1 and members[0].repeated:
            return members[0]
        return None

    def served_wsdl(self, location: str) -> bytes:
        """The WSDL with its ``soap:address`` pointing at ``location``."""
        root = etree.fromstring(self.wsdl_text, safe_parser())
        for address in root.iter(f"{{{WSDL_SOAP_NS}}}address"):
            address.set("location", location)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _local(qname: str) -> str:
    return qname.rpartition(":")[2]


def _member(element: etree._Element) -> Member:
    type_attr = element.get("type", "xsd:string")
    return Member(
        name=element.get("name", ""),
        type=_local(type_attr),
        required=element.get("minOccurs", "1") != "0",
        repeated=element.get("maxOccurs", "1") not in ("0", "1"),
    )


def parse_schema(wsdl_text: bytes) -> ServiceSchema:
    """Read types, operations and soapActions from WSDL text."""
    root = etree.fromstring(wsdl_text, safe_parser())
    tns = root.get("targetNamespace", "")
    types: dict[str, tuple[Member, ...]] = {}
    for ctype in root.iter(f"{{{XSD_NS}}}complexType"):
        members = tuple(_member(el) for el in ctype.iter(f"{{{XSD_NS}}}element"))
        types[ctype.get("name", "")] = members
    message_types: dict[str, str] = {}
    for message in root.iter(f"{{{WSDL_NS}}}message"):
        part = message.find(f"{{{WSDL_NS}}}part")
        if part is not None:
            message_types[message.get("name", "")] = _local(part.get("type", ""))
    operations: dict[str, str] = {}
    for port_type in root.iter(f"{{{WSDL_NS}}}portType"):
        for op in port_type.iter(f"{{{WSDL_NS}}}operation"):
            input_el = op.find(f"{{{WSDL_NS}}}input")
            if input_el is not None:
                operations[op.get("name", "")] = message_types[_local(input_el.get("message", ""))]
    actions: dict[str, str] = {}
    for binding in root.iter(f"{{{WSDL_NS}}}binding"):
        for op in binding.iter(f"{{{WSDL_NS}}}operation"):
            soap_op = op.find(f"{{{WSDL_SOAP_NS}}}operation")
            if soap_op is not None:
                actions[op.get("name", "")] = soap_op.get("soapAction", "")
    return ServiceSchema(tns, types, operations, actions, wsdl_text)


@functools.cache
def load_schema() -> ServiceSchema:
    """The parsed bundled WSDL (parsed once per process)."""
    return parse_schema(WSDL_PATH.read_bytes())
