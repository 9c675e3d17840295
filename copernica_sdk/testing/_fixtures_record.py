"""Recording SOAP interactions into reviewable per-operation fixture files.

The recorder is a transport adapter mounted on the ``requests.Session`` the SDK (or
zeep's ``Transport``) uses, so it sees the real request *and* response — unlike
``responses._recorder``, which drops the request body and the SOAPAction that replay
needs to match on (docs/copernica-api-notes.md §8).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ._fixtures_redact import redact, redact_header
from ._fixtures_soap import body_bytes, flatten_params, parse_soap_call, pretty_xml

__all__ = ["FORMAT_VERSION", "RAISABLE", "SoapRecorder", "check_name"]

FORMAT_VERSION = 1

# Response headers that change client behaviour and so belong in a fixture. Framing
# headers (Content-Length, Transfer-Encoding, Content-Encoding) are left out because the
# body is stored decoded; Date/Server are noise that would churn on every re-record.
_KEPT_RESPONSE_HEADERS = ("Retry-After", "Set-Cookie", "WWW-Authenticate", "Location")
# Request headers worth knowing when reading a fixture (which auth scheme was used).
_KEPT_REQUEST_HEADERS = ("SOAPAction", "Content-Type", "Authorization", "Cookie")

# Exceptions that a fixture can stand for instead of a response (``{"raise": name}``).
RAISABLE: dict[str, type[requests.exceptions.RequestException]] = {
    "ReadTimeout": requests.exceptions.ReadTimeout,
    "ConnectTimeout": requests.exceptions.ConnectTimeout,
    "ConnectionError": requests.exceptions.ConnectionError,
    "ChunkedEncodingError": requests.exceptions.ChunkedEncodingError,
    "SSLError": requests.exceptions.SSLError,
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(kind: str, name: str) -> str:
    """Reject names that are not safe as one path component (no ``/``, no ``..``)."""
    if not _NAME_RE.match(name) or ".." in name:
        raise ValueError(f"invalid fixture {kind} name {name!r}: use letters, digits, _ . -")
    return name


def _raisable_name(exc: requests.exceptions.RequestException) -> str:
    """The most specific RAISABLE name for ``exc`` (an SSLError is also a ConnectionError)."""
    for name, cls in RAISABLE.items():
        if type(exc) is cls:
            return name
    # Subclasses (ProxyError, ...) replay as their nearest listed base; specific ones first.
    for name in ("ConnectTimeout", "ReadTimeout", "SSLError", "ChunkedEncodingError"):
        if isinstance(exc, RAISABLE[name]):
            return name
    return "ConnectionError"


class _RecordingAdapter(HTTPAdapter):
    """Sends for real, then hands request and response to its recorder."""

    def __init__(self, recorder: SoapRecorder) -> None:
        super().__init__()
        self._recorder = recorder

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        try:
            response = super().send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
            # Reading the body can fail too (a truncated answer): record that as a raise.
            self._recorder._record_response(request, response)
        except tuple(RAISABLE.values()) as exc:
            self._recorder._record_exception(request, exc)
            raise
        return response


class SoapRecorder:
    """Record SOAP calls made through a ``requests.Session`` as fixture files.

    Mount :attr:`adapter` on the session (or call :meth:`attach`) and make calls; each
    SOAP interaction is written to ``<directory>/<Operation>/<case>.xml`` (response
    body) and ``<case>.json`` (metadata). Name cases with :meth:`case`; a repeat of the
    same operation and case within this recorder gets ``_2``, ``_3``, …. Non-SOAP
    requests (WSDL GETs, the JWT exchange) are passed through unrecorded. Everything is
    redacted (see :func:`redact`, plus the literal ``secrets``) before it is written.
    """

    def __init__(
        self, directory: str | Path, *, secrets: Iterable[str] = (), source: str = "fake"
    ) -> None:
        self.directory = Path(directory)
        self.source = source
        self.secrets: tuple[str, ...] = tuple(s for s in secrets if s)
        self.adapter: HTTPAdapter = _RecordingAdapter(self)
        #: Metadata paths written so far, in call order.
        self.written: list[Path] = []
        self._case = "default"
        self._counts: dict[tuple[str, str], int] = {}
        # zeep may be driven from several threads; numbering and writes must not race.
        self._lock = threading.Lock()

    def attach(self, session: requests.Session) -> requests.Session:
        """Mount the recording adapter on ``session`` for http and https; returns it."""
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        return session

    @contextmanager
    def case(self, name: str) -> Iterator[None]:
        """Name the case of the interactions recorded inside the block.

        The name is recorder-wide, not per thread: record one case at a time.
        """
        previous, self._case = self._case, check_name("case", name)
        try:
            yield
        finally:
            self._case = previous

    def _next_stem(self, operation: str) -> str:
        key = (operation, self._case)
        self._counts[key] = self._counts.get(key, 0) + 1
        count = self._counts[key]
        return self._case if count == 1 else f"{self._case}_{count}"

    def _base_metadata(self, request: requests.PreparedRequest) -> dict[str, Any] | None:
        if "SOAPAPI=WSDL" in (request.url or "").upper().replace("%3D", "="):
            return None
        try:
            call = parse_soap_call(request)
        except (ValueError, TypeError):
            return None  # not a SOAP call: nothing to key a fixture on
        check_name("operation", call.operation)
        params = {
            path: value
            for path, value in flatten_params(call.parameters).items()
            # A value that redaction would change can never match on replay.
            if redact(value, self.secrets) == value
        }
        headers = {
            name: redact_header(name, request.headers[name])
            for name in _KEPT_REQUEST_HEADERS
            if name in request.headers
        }
        raw_body = body_bytes(request)
        body = redact(
            (pretty_xml(raw_body) or raw_body).decode("utf-8", errors="replace"), self.secrets
        )
        return {
            "format": FORMAT_VERSION,
            "operation": call.operation,
            "case": None,  # filled in under the lock
            "source": self.source,
            "recorded_at": datetime.now(UTC).date().isoformat(),
            "soap_action": call.soap_action,
            "params": params,
            "request": {
                "method": request.method,
                "url": redact(request.url or "", self.secrets),
                "headers": headers,
                # A list of lines so that a re-record shows up as a readable diff.
                "body": body.splitlines(),
            },
        }

    def _record_response(
        self, request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        metadata = self._base_metadata(request)
        if metadata is None:
            return
        content = response.content
        pretty = pretty_xml(content) if content.strip() else None
        headers: dict[str, str | list[str]] = {}
        # urllib3 keeps repeated headers apart; requests joins them with ", ", which
        # would make two Set-Cookie headers unparseable on replay.
        raw_headers = getattr(response.raw, "headers", None)
        getlist = getattr(raw_headers, "getlist", None)
        for name in _KEPT_RESPONSE_HEADERS:
            values: list[str] = [str(v) for v in getlist(name)] if callable(getlist) else []
            if not values and name in response.headers:
                values = [response.headers[name]]
            values = [redact_header(name, v) for v in values]
            if values:
                headers[name] = values[0] if len(values) == 1 else values
        metadata.update(
            status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            headers=headers,
        )
        # surrogateescape round-trips bytes that are not UTF-8, so "verbatim" stays verbatim.
        body_text = (pretty if pretty is not None else content).decode(
            "utf-8", errors="surrogateescape"
        )
        self._write(metadata, body_text)

    def _record_exception(
        self, request: requests.PreparedRequest, exc: requests.exceptions.RequestException
    ) -> None:
        metadata = self._base_metadata(request)
        if metadata is None:
            return
        metadata["raise"] = _raisable_name(exc)
        metadata["comment"] = f"recorded: the request raised {type(exc).__name__}: {exc}"
        self._write(metadata, None)

    def _write(self, metadata: dict[str, Any], body_text: str | None) -> None:
        with self._lock:
            operation = metadata["operation"]
            stem = self._next_stem(operation)
            metadata["case"] = stem
            folder = self.directory / operation
            folder.mkdir(parents=True, exist_ok=True)
            if body_text is not None:
                body_path = folder / f"{stem}.xml"
                body_path.write_bytes(
                    redact(body_text, self.secrets).encode("utf-8", errors="surrogateescape")
                )
            # Redact the serialized JSON as a whole too: it is the last line of defence
            # for a secret that hid in a field no specific rule knows about.
            text = redact(json.dumps(metadata, indent=2, ensure_ascii=False), self.secrets)
            meta_path = folder / f"{stem}.json"
            meta_path.write_text(text + "\n", encoding="utf-8")
            self.written.append(meta_path)
