"""Turn an HTTP response into the ``<result>`` element, or into a typed error.

The HTTP status is judged before any XML is read: a 502 page from a proxy can be
well-formed XHTML, and zeep would report it as a SOAP "Unknown fault".  Faults
are mapped to the SDK's exception tree by a table of fault-string patterns.
Responses are parsed with a parser that loads no DTD, resolves no entity and
never touches the network; a response that declares a DTD is refused outright
(billion-laughs and XXE payloads both need one).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from ..errors import (
    APIError,
    AuthenticationError,
    ConstraintError,
    CopernicaError,
    HTTPStatusError,
    NotFoundError,
    RateLimitError,
    ResponseParseError,
    ValidationError,
)
from ..retry import parse_retry_after

__all__ = ["parse_response"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=True,  # profile pages with 1 MB text values are legitimate
    remove_blank_text=False,
)

# Fault string pattern → error class.  First match wins; the fallback depends on
# the fault code (Client → ValidationError, Server → retryable APIError).
FAULT_RULES: tuple[tuple[re.Pattern[str], type[APIError]], ...] = (
    (re.compile(r"not logged on|access token|authori[sz]ation token|credentials|"
                r"access denied|permission", re.I), AuthenticationError),
    (re.compile(r"\bno \w+ with (id|name)\b|not found|does not exist|unknown (database|"
                r"collection|profile|subprofile|field)", re.I), NotFoundError),
    (re.compile(r"invalid value .* for field|constraint", re.I), ConstraintError),
)

Redactor = Callable[[str], str]


def parse_response(
    status: int,
    content_type: str,
    headers_retry_after: str | None,
    body: bytes,
    operation: str,
    redact: Redactor,
) -> etree._Element:
    """Return the ``<result>`` element of a successful response, or raise."""
    if status != 200:
        looks_xml = ("xml" in content_type.lower()
                     or body.lstrip()[:5] in (b"<?xml", b"<SOAP", b"<soap"))
        fault = _fault_in(body, operation, redact, status) if looks_xml and body else None
        if fault is not None:
            raise fault
        raise _status_error(status, body, headers_retry_after, operation, redact)
    if _looks_html(content_type, body):
        title = _html_title(body)
        raise ResponseParseError(
            "the endpoint answered an HTML page" + (f" titled {title!r}" if title else "")
            + " instead of SOAP: check the endpoint (a proxy, login or maintenance page may be "
            "answering)", operation=operation)
    root = _parse(body, operation)
    body_el = _body_of(root, operation)
    fault = _fault_from_body(body_el, operation, redact, status)
    if fault is not None:
        raise fault
    wrapper = next(iter(body_el), None)
    if wrapper is None:
        raise ResponseParseError("SOAP Body is empty", operation=operation)
    for child in wrapper:
        if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "result":
            return child
    # The service always sends <result>; be lenient with an answer that left it out.
    return etree.Element("result")


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!doctype\s+html|<html)", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def _looks_html(content_type: str, body: bytes) -> bool:
    return "html" in content_type.lower() or bool(_HTML_START.match(body[:512]))


def _html_title(body: bytes | str) -> str:
    raw = body.encode("utf-8", "replace") if isinstance(body, str) else body
    match = _TITLE.search(raw[:65536])
    return " ".join(match.group(1).decode("utf-8", "replace").split())[:120] if match else ""


def _plain(text: str) -> str:
    """A fault string fit for a message: an HTML page becomes its title or text."""
    if "<" in text and ">" in text and re.search(r"<(html|body|head|title|p|h\d|div)\b", text,
                                                   re.I):
        title = _html_title(text)
        text = title or _TAGS.sub(" ", re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text))
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _parse(body: bytes, operation: str) -> etree._Element:
    # A DTD is refused before parsing: the message then names the attack, not the
    # parser's limit it ran into (entity expansion, external entities).
    if _DOCTYPE.search(body[:4096]):
        raise ResponseParseError("response declares a DTD; refused (XML entity attacks need one)",
                                 operation=operation)
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ResponseParseError(f"response is not well-formed XML ({exc.msg})",
                                 operation=operation) from None
    if root.getroottree().docinfo.doctype:
        raise ResponseParseError("response declares a DTD; refused (XML entity attacks need one)",
                                 operation=operation)
    return root


def _body_of(root: etree._Element, operation: str) -> etree._Element:
    for ns in (SOAP_ENV, SOAP12_ENV):
        if root.tag == f"{{{ns}}}Envelope":
            body = root.find(f"{{{ns}}}Body")
            if body is not None:
                return body
    raise ResponseParseError("response is XML but not a SOAP envelope", operation=operation)


def _fault_in(body: bytes, operation: str, redact: Redactor, status: int) -> APIError | None:
    try:
        root = _parse(body, operation)
        return _fault_from_body(_body_of(root, operation), operation, redact, status)
    except ResponseParseError:
        return None


def _fault_from_body(body: etree._Element, operation: str, redact: Redactor,
                     status: int) -> APIError | None:
    fault = next((c for c in body if isinstance(c.tag, str)
                  and c.tag.rpartition("}")[2] == "Fault"), None)
    if fault is None:
        return None
    code = (_child_text(fault, "faultcode") or _child_text(fault, "Value") or "").strip()
    text = _plain(redact(_child_text(fault, "faultstring") or _child_text(fault, "Text") or ""))
    local_code = code.rpartition(":")[2]
    if not text:
        text = f"SOAP fault without a message (fault code {code or 'none'})"
    elif local_code not in ("Client", "Sender", "Server", "Receiver", ""):
        text = f"{text} (fault code {code})"
    cls: type[APIError] | None = next((c for p, c in FAULT_RULES if p.search(text)), None)
    if cls is None and status in (401, 403):
        cls = AuthenticationError
    if cls is None:
        cls = ValidationError if local_code in ("Client", "Sender") else APIError
    retryable = cls is APIError and local_code in ("Server", "Receiver", "")
    return cls(text, operation=operation, fault_code=code or None, status_code=status,
               retryable=retryable)


def _child_text(el: etree._Element, local: str) -> str | None:
    for node in el.iter():
        if isinstance(node.tag, str) and etree.QName(node).localname == local:
            return "".join(node.itertext())
    return None


def _status_error(status: int, body: bytes, retry_after: str | None, operation: str,
                  redact: Redactor) -> CopernicaError:
    excerpt = redact(body[:200].decode("utf-8", "replace").strip())
    if status == 429:
        seconds = parse_retry_after(retry_after)
        hint = f"; the service asks to wait {seconds:g} s" if seconds is not None else ""
        return RateLimitError(f"rate limited (HTTP 429){hint}", operation=operation,
                              body_excerpt=excerpt, retry_after=seconds)
    if status in (401, 403):
        return AuthenticationError(f"HTTP {status}: credentials refused", operation=operation,
                                   status_code=status)
    return HTTPStatusError(f"HTTP {status} from the service" + (f": {excerpt!r}" if excerpt else ""),
                           status_code=status, operation=operation, body_excerpt=excerpt)
