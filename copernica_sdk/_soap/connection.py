"""One SOAP round trip: the schema shapes the envelope, requests sends it, lxml reads it.

zeep is used for what it is good at — reading the WSDL into a schema — and the
request is rendered from that schema (see build.py).  Sending is done here so
that every call has explicit connect and read timeouts (zeep's
``operation_timeout`` defaults to none) and a deadline for the whole call (a
server that trickles its answer cannot hold a call open), so that redirects are
never followed (the request carries the access token), and so that the HTTP
status is judged before any XML is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from .. import deadline as _deadline
from ..errors import (
    ConnectError,
    ConnectTimeout,
    DeadlineError,
    ReadError,
    ReadTimeout,
    RedirectRefusedError,
    ResponseParseError,
)
from ..retry import CallKind, kind_of
from .build import RequestBuilder
from .document import binding_of, load_document
from .envelope import parse_response
from .parse import SoapResult
from .plain import PlainCodec

__all__ = ["SoapConnection"]

log = logging.getLogger("copernica_sdk.soap")

Redactor = Callable[[str], str]


class SoapConnection:
    """Sends operations of one WSDL binding to one endpoint over one session."""

    def __init__(
        self,
        *,
        endpoint: str,
        wsdl: str | None,
        session: requests.Session,
        timeout: tuple[float, float],
        redact: Redactor,
        deadline: float = _deadline.DEFAULT_DEADLINE,
        max_response_bytes: int | None = None,
        direct: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self._session = session
        self._timeout = timeout
        self._deadline = deadline
        self._max_bytes = max_response_bytes
        self._redact = redact
        document = load_document(wsdl, session=session, timeout=timeout[0] + timeout[1])
        self._binding = binding_of(document)
        self._builder = RequestBuilder(self._binding)
        #: plain Python values in and out of any operation (``client.call``)
        self.plain = PlainCodec(self._binding)
        self._actions: dict[str, str] = {}
        # Sessions that add only headers are sent through their pool directly
        # (DirectPost); any other session (proxies, cookies, a recorder's adapter)
        # goes through requests as usual.
        self._direct = _deadline.DirectPost(endpoint) if direct else None

    @property
    def operations(self) -> list[str]:
        return sorted(self._binding._operations)

    def build(self, operation: str, params: Mapping[str, Any]) -> bytes:
        """The request envelope for ``operation``, checked against the WSDL's schema."""
        return self._builder.build(operation, params)

    def _soap_action(self, operation: str) -> str:
        action = self._actions.get(operation)
        if action is None:
            action = self._binding.get(operation).soapaction or ""
            self._actions[operation] = action
        return action

    def call(self, operation: str, params: Mapping[str, Any],
             headers: Mapping[str, str] | None = None) -> SoapResult:
        """Send one call and return its result, or raise an SDK error."""
        body = self.build(operation, params)
        request_headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{self._soap_action(operation)}"',
        }
        if kind_of(operation) is not CallKind.READ:
            # A write answers with the entity it touched: compressing a few hundred
            # bytes costs both sides more CPU than it saves on the wire.  Reads (pages
            # of up to page_size entities) are still asked for gzip.
            request_headers["Accept-Encoding"] = "identity"
        if headers:
            request_headers.update(headers)
        try:
            response = self._post(body, request_headers)
        except _deadline.DeadlineExceeded as exc:
            raise DeadlineError(f"no complete answer within the {self._deadline:g} s deadline "
                                f"({exc.received} bytes received); the call may have been "
                                "processed", operation=operation) from None
        except _deadline.BodyTooLarge as exc:
            raise ResponseParseError(f"the answer is larger than {exc.limit} bytes; refused "
                                     "(max_response_bytes)", operation=operation) from None
        except requests.exceptions.ConnectTimeout:
            raise ConnectTimeout(f"no connection to {self.endpoint} within "
                                 f"{self._timeout[0]:g} s", operation=operation) from None
        except requests.exceptions.ReadTimeout:
            raise ReadTimeout(f"no answer within {self._timeout[1]:g} s; the call may have "
                              "been processed", operation=operation) from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise ConnectError(f"cannot connect to {self.endpoint}",
                                   operation=operation) from None
            raise ReadError(self._redact(f"connection lost after the request was sent "
                                         f"({_reason(exc)})"), operation=operation) from None
        except requests.exceptions.RequestException as exc:  # chunked/decoding errors
            raise ReadError(self._redact(f"broken response ({_reason(exc)})"),
                            operation=operation) from None
        if 300 <= response.status_code < 400:
            raise refused_redirect(self.endpoint, response, operation, self._redact)
        element = parse_response(
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.headers.get("Retry-After"),
            response.content,
            operation,
            self._redact,
        )
        return SoapResult(element, operation)

    def _post(self, body: bytes, headers: dict[str, str]) -> _deadline.Answer | requests.Response:
        session = self._session
        adapter = self._direct.adapter_for(session) if self._direct is not None else None
        if adapter is None or self._direct is None:
            return _deadline.request(
                session, "POST", self.endpoint, data=body, headers=headers,
                timeout=self._timeout, deadline=self._deadline, max_bytes=self._max_bytes,
                allow_redirects=False)
        own = session.headers
        store = getattr(own, "_store", None) if type(own) is CaseInsensitiveDict else None
        # requests' CaseInsensitiveDict keeps (name, value) per lower-cased name: read
        # them in one go rather than through its Python-level iteration.
        merged: Mapping[str, str | bytes] = ({**dict(store.values()), **headers}
                                             if isinstance(store, dict) else {**own, **headers})
        if len({name.lower() for name in merged}) < len(merged):
            merged = CaseInsensitiveDict(session.headers)  # as requests merges them
            merged.update(headers)
        return self._direct.post(adapter, session.verify, body, merged, deadline=self._deadline,
                                 timeout=self._timeout, max_bytes=self._max_bytes)


def refused_redirect(url: str, response: _deadline.Answer | requests.Response, operation: str,
                     redact: Redactor) -> RedirectRefusedError:
    """The error for a 3xx answer: redirects are never followed, naming both hosts."""
    location = redact(urljoin(url, response.headers.get("Location", "")))
    here = urlsplit(url).netloc or url
    there = urlsplit(location).netloc or "(no Location header)"
    where = "another host" if there != here else "another address on the same host"
    return RedirectRefusedError(
        f"{here} answered HTTP {response.status_code}, redirecting to {there} ({location}); "
        f"refused: the SDK never follows redirects, so the access token is not sent to "
        f"{where}. Set the endpoint to the address that answers SOAP itself",
        status_code=response.status_code, location=location, operation=operation)


def _never_connected(exc: BaseException) -> bool:
    """True when the error proves the request never reached the server."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(err, urllib3.exceptions.MaxRetryError):
            todo.append(err.reason)
        if isinstance(err, BaseException):
            todo.extend([err.__cause__, err.__context__, *[a for a in err.args
                                                          if isinstance(a, BaseException)]])
    return False


def _reason(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args else exc
    return type(inner).__name__ if isinstance(inner, BaseException) else str(inner)[:120]
