"""Load and cache parsed WSDL documents, once per process.

Parsing the bundled WSDL costs tens of milliseconds; building a zeep client
from an already parsed ``Document`` costs microseconds.  So every client in a
process (a partner may hold one per Copernica account) shares one parsed
document per WSDL location.  The bundled WSDL has no remote imports, so loading
it never touches the network.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import requests
import zeep
from zeep.wsdl import Document

__all__ = ["BUNDLED_WSDL", "binding_of", "load_document"]

BUNDLED_WSDL = Path(__file__).resolve().parent / "wsdl" / "copernica.wsdl"

# Responses are parsed by our own hardened lxml code, not by zeep; these settings
# only govern how zeep reads the WSDL itself.
_SETTINGS = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)

_lock = threading.Lock()
_documents: dict[str, Document] = {}


def load_document(location: str | None, *, session: requests.Session | None = None,
                  timeout: float = 30.0) -> Document:
    """Return the parsed WSDL at ``location`` (default: the bundled one), parsing it once."""
    key = str(BUNDLED_WSDL) if location is None else location
    with _lock:
        document = _documents.get(key)
        if document is None:
            transport = zeep.Transport(session=session or requests.Session(), timeout=timeout)
            document = Document(key, transport, settings=_SETTINGS)  # type: ignore[arg-type]
            _documents[key] = document
        return document


def binding_of(document: Document) -> Any:
    """The document's SOAP binding (Copernica's WSDL has exactly one)."""
    bindings = list(document.bindings.values())
    if not bindings:
        raise ValueError("the WSDL declares no SOAP binding")
    return bindings[0]
