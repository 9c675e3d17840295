"""The one exception operation handlers raise: it becomes a SOAP fault on the wire."""

from __future__ import annotations


class SoapFault(Exception):
    """A SOAP 1.1 fault to send back.

    ``code`` is ``"Client"`` (the caller's mistake) or ``"Server"``; it is sent as
    ``SOAP-ENV:<code>``.  PHP's SoapServer answers every fault with HTTP 500, so that
    is the default; auth failures on the Bearer scheme use 401 and oversized bodies 413.
    """

    def __init__(self, message: str, *, code: str = "Client", status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def client_fault(message: str, status: int = 500) -> SoapFault:
    """A ``SOAP-ENV:Client`` fault."""
    return SoapFault(message, code="Client", status=status)


def not_found(entity: str, ident: int) -> SoapFault:
    """The fault for an unknown object id, e.g. ``No profile with id 7``."""
    return client_fault(f"No {entity} with id {ident}")
