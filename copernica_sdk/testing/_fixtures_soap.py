"""SOAP request inspection shared by the recorder and the replay matcher.

Requests are read with lxml and matched by *local* names: the operation element is in
the target namespace and ``<parameters>`` is unqualified with zeep, but PHP-style
clients prefix every child (docs/copernica-api-notes.md §1), and a prefix is not meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lxml import etree
from requests import PreparedRequest

__all__ = [
    "SoapCall",
    "find_param",
    "parse_soap_call",
    "pretty_xml",
    "soap_matcher",
]

# Secrets never become match parameters: they are redacted on disk, so they could not
# match on replay anyway, and a fixture must not depend on whose token recorded it.
SECRET_PARAMS = frozenset({"access_token", "password", "username"})

_STEP_RE = re.compile(r"^(?P<name>[^\[\]/]+)(?:\[(?P<index>[1-9]\d*)\])?$")


def safe_parser(*, remove_blank_text: bool = False) -> etree.XMLParser:
    """An lxml parser that never expands entities or touches the network (XXE-safe)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=remove_blank_text,
    )


def _local(element: etree._Element) -> str:
    tag = element.tag
    # Comments and processing instructions have a non-str tag; they are never matched.
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


@dataclass(frozen=True)
class SoapCall:
    """What a SOAP request asks for: its operation, SOAPAction and parameters element."""

    operation: str
    soap_action: str | None
    parameters: etree._Element | None = field(compare=False)


def body_bytes(request: PreparedRequest) -> bytes:
    """The request body as bytes (``requests`` keeps it as str or bytes)."""
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    raise TypeError(f"cannot inspect a streamed request body ({type(body).__name__})")


def soap_action_operation(header: str | None) -> str | None:
    """The operation a SOAPAction header names: the part after the last ``#``, unquoted."""
    if header is None:
        return None
    value = header.strip().strip('"').strip()
    return value.rpartition("#")[2] or None


def parse_soap_call(request: PreparedRequest) -> SoapCall:
    """Read operation, SOAPAction and ``<parameters>`` from a SOAP request.

    Raises ``ValueError`` with a readable reason when the body is not a SOAP envelope.
    """
    data = body_bytes(request)
    if not data.strip():
        raise ValueError("request has no body")
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"request body is not XML ({exc})") from exc
    body = next((child for child in _elements(root) if _local(child) == "Body"), None)
    if _local(root) != "Envelope" or body is None:
        raise ValueError("request body is not a SOAP envelope with a Body")
    children = _elements(body)
    if not children:
        raise ValueError("SOAP Body is empty")
    operation_element = children[0]
    parameters = next(
        (child for child in _elements(operation_element) if _local(child) == "parameters"),
        None,
    )
    return SoapCall(
        operation=_local(operation_element),
        soap_action=request.headers.get("SOAPAction"),
        parameters=parameters,
    )


def find_param(parameters: etree._Element | None, path: str) -> str | None:
    """The text at ``path`` inside ``<parameters>``, or ``None`` when nothing is there.

    ``path`` is a ``/``-separated list of local names (``requirements/requirement/value``);
    a step may carry a 1-based index (``fields/pair[2]/value``). Like XPath, the first
    match in document order wins. Text is compared stripped.
    """
    if parameters is None:
        return None
    nodes = [parameters]
    for step in path.strip("/").split("/"):
        match = _STEP_RE.match(step)
        if match is None:
            raise ValueError(f"bad parameter path {path!r} (step {step!r})")
        name, index = match.group("name"), match.group("index")
        found: list[etree._Element] = []
        for node in nodes:
            named = [child for child in _elements(node) if _local(child) == name]
            if index is not None:
                named = named[int(index) - 1 : int(index)]
            found.extend(named)
        nodes = found
        if not nodes:
            return None
    return (nodes[0].text or "").strip()


def flatten_params(parameters: etree._Element | None) -> dict[str, str]:
    """Every leaf under ``<parameters>`` as ``path -> text``, secrets left out.

    Repeated siblings get an index (``fields/pair[2]/key``) so that every value is
    addressable; a lone element does not, so common paths read like ``collection/id``.
    """
    result: dict[str, str] = {}
    if parameters is None:
        return result

    def walk(element: etree._Element, prefix: str) -> None:
        children = _elements(element)
        names = [_local(child) for child in children]
        seen: dict[str, int] = {}
        for child, name in zip(children, names, strict=True):
            seen[name] = seen.get(name, 0) + 1
            step = f"{name}[{seen[name]}]" if names.count(name) > 1 else name
            path = f"{prefix}/{step}" if prefix else step
            if not prefix and name in SECRET_PARAMS:
                continue
            if _elements(child):
                walk(child, path)
            else:
                result[path] = (child.text or "").strip()

    walk(parameters, "")
    return result


def pretty_xml(data: bytes) -> bytes | None:
    """Re-indent an XML document for review, or ``None`` when ``data`` is not XML.

    Only whitespace between elements changes, which SOAP toolkits ignore; text values
    and prefixes are kept.
    """
    try:
        root = etree.fromstring(data, parser=safe_parser(remove_blank_text=True))
    except etree.XMLSyntaxError:
        return None
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="utf-8")


class _SoapMatcher:
    """Callable matcher; a class so that its repr shows up usefully in error reports."""

    def __init__(self, operation: str, params: dict[str, str]) -> None:
        self.operation = operation
        self.params = params

    def __repr__(self) -> str:
        return f"soap_matcher({self.operation!r}, {self.params!r})"

    def __call__(self, request: PreparedRequest) -> tuple[bool, str]:
        try:
            call = parse_soap_call(request)
        except (ValueError, TypeError) as exc:
            return False, f"not a SOAP call for {self.operation}: {exc}"
        if call.operation != self.operation:
            return False, (
                f"operation differs: request calls {call.operation}, "
                f"fixture is for {self.operation}"
            )
        action = soap_action_operation(call.soap_action)
        if call.soap_action is not None and action != self.operation:
            return False, (
                f"SOAPAction {call.soap_action!r} names {action}, "
                f"but the body and the fixture are {self.operation}"
            )
        for path, expected in self.params.items():
            actual = find_param(call.parameters, path)
            if actual is None:
                return False, (
                    f"{self.operation} parameter {path!r} is missing (fixture expects {expected!r})"
                )
            if actual != expected.strip():
                return False, (
                    f"{self.operation} parameter {path!r} is {actual!r}, "
                    f"fixture expects {expected!r}"
                )
        return True, ""


def soap_matcher(
    operation: str, params: Mapping[str, str] | None = None
) -> Callable[[PreparedRequest], tuple[bool, str]]:
    """A ``responses`` matcher for one SOAP operation and, optionally, some parameters.

    The returned callable takes a ``PreparedRequest`` and returns ``(matched, reason)``.
    It checks that the first child of the SOAP Body has the local name ``operation``,
    that the SOAPAction header (if sent; quotes optional) names the same operation, and
    that each ``params`` path (see :func:`find_param`) has the given text. The reason
    says which check failed.
    """
    return _SoapMatcher(operation, dict(params or {}))
