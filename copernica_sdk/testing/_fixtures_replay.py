"""Replaying recorded SOAP fixtures with ``responses``, matched by operation and params."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import responses
from responses.registries import FirstMatchRegistry
from urllib3 import HTTPHeaderDict

from ._fixtures_record import RAISABLE, check_name
from ._fixtures_redact import redact
from ._fixtures_soap import flatten_params, parse_soap_call, soap_matcher

__all__ = [
    "ANY_URL",
    "WSDL_URL_PATTERN",
    "FixtureNotFound",
    "SoapFixture",
    "SoapFixtures",
    "SoapRegistry",
    "SoapResponse",
    "UnexpectedSoapCall",
    "replay",
]

#: Matches every URL: fixtures are keyed on the SOAP operation, not on the endpoint,
#: so the same fixture serves the real endpoint, a sandbox or a fake's loopback URL.
ANY_URL: re.Pattern[str] = re.compile(r".*")
#: Matches WSDL downloads (``<endpoint>?SOAPAPI=WSDL``), for ``replay(passthru=...)``.
WSDL_URL_PATTERN: re.Pattern[str] = re.compile(r".*[?&]SOAPAPI=WSDL(?:&|$)", re.IGNORECASE)


class FixtureNotFound(LookupError):
    """The requested ``<Operation>/<case>`` fixture does not exist on disk."""


class UnexpectedSoapCall(AssertionError):
    """A SOAP call that no registered fixture matches.

    An ``AssertionError`` on purpose: ``responses`` would raise a ``ConnectionError``,
    which an SDK with retries treats as transient and may retry or wrap, hiding the
    real cause (a missing or wrong fixture) behind a transport error.
    """


@dataclass(frozen=True)
class SoapFixture:
    """One recorded (or hand-written) interaction, loaded from disk."""

    operation: str
    case: str
    metadata: Mapping[str, Any] = field(repr=False)
    body: bytes = field(repr=False, default=b"")

    @property
    def name(self) -> str:
        """``"<Operation>/<case>"``, the name accepted by :meth:`SoapFixtures.use`."""
        return f"{self.operation}/{self.case}"

    @property
    def params(self) -> dict[str, str]:
        """The parameters recorded to match on (``path -> text``)."""
        return {str(k): str(v) for k, v in dict(self.metadata.get("params") or {}).items()}

    @property
    def raises(self) -> str | None:
        """The requests exception this fixture stands for, if it is an error fixture."""
        value = self.metadata.get("raise")
        return None if value is None else str(value)


class SoapResponse(responses.Response):
    """A ``responses.Response`` that knows which fixture it came from."""

    def __init__(self, fixture_name: str, **kwargs: Any) -> None:
        super().__init__(method="POST", **kwargs)
        self.fixture_name = fixture_name


def _describe(response: responses.BaseResponse) -> str:
    name = getattr(response, "fixture_name", None)
    return name if isinstance(name, str) else f"{response.method} {response.url}"


class SoapRegistry(FirstMatchRegistry):
    """``FirstMatchRegistry`` that fails an unmatched SOAP call with a useful message.

    Non-SOAP requests (a WSDL GET, say) are left to ``responses``, so its passthrough
    prefixes still apply to them.
    """

    def find(
        self, request: requests.PreparedRequest
    ) -> tuple[responses.BaseResponse | None, list[str]]:
        found, reasons = super().find(request)
        if found is not None:
            return found, reasons
        try:
            call = parse_soap_call(request)
        except (ValueError, TypeError):
            return found, reasons
        lines = [
            f"Unexpected SOAP call {call.operation} "
            f"(SOAPAction {call.soap_action!r}) to {request.method} {request.url}: "
            "no registered fixture matches it.",
        ]
        sent = {path: redact(value) for path, value in flatten_params(call.parameters).items()}
        lines.append(f"Parameters sent: {sent}")
        if self.registered:
            lines.append("Registered fixtures:")
            for response in self.registered:
                _, reason = response.matches(request)
                lines.append(f"- {_describe(response)}: {reason or 'matches'}")
        else:
            lines.append("No fixtures are registered.")
        raise UnexpectedSoapCall("\n".join(lines))


class SoapFixtures:
    """The fixtures recorded under one directory (``<Operation>/<case>.json`` + ``.xml``).

    Register them on a ``responses.RequestsMock`` with :meth:`register` or :meth:`use`;
    each one answers only calls of its operation whose parameters match.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"fixture directory {self.directory} does not exist")

    def names(self) -> list[str]:
        """Every fixture as ``"<Operation>/<case>"``, sorted."""
        return sorted(f"{path.parent.name}/{path.stem}" for path in self.directory.glob("*/*.json"))

    def load(self, operation: str, case: str = "default") -> SoapFixture:
        """Read one fixture; raises :class:`FixtureNotFound` listing the known cases."""
        folder = self.directory / check_name("operation", operation)
        meta_path = folder / f"{check_name('case', case)}.json"
        if not meta_path.is_file():
            known = sorted(p.stem for p in folder.glob("*.json"))
            hint = f"recorded cases: {', '.join(known)}" if known else "none recorded"
            raise FixtureNotFound(
                f"no fixture {operation}/{case} in {self.directory} ({operation}: {hint})"
            )
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta_path}: not valid JSON ({exc})") from exc
        if not isinstance(metadata, dict):
            raise ValueError(f"{meta_path}: metadata must be a JSON object")
        if metadata.get("operation", operation) != operation:
            raise ValueError(f"{meta_path}: says operation {metadata['operation']!r}")
        body_path = folder / f"{case}.xml"
        body = body_path.read_bytes() if body_path.is_file() else b""
        return SoapFixture(operation=operation, case=case, metadata=metadata, body=body)

    def register(
        self,
        rsps: responses.RequestsMock,
        operation: str,
        case: str = "default",
        *,
        url: str | re.Pattern[str] = ANY_URL,
        params: Mapping[str, str] | None = None,
    ) -> SoapResponse:
        """Register one fixture on ``rsps`` and return the registered response.

        It answers POSTs to ``url`` whose operation is ``operation`` and whose
        parameters match ``params`` — by default the ones recorded in the metadata;
        pass ``{}`` to match on the operation alone. An error fixture
        (``{"raise": "ReadTimeout"}``) raises that ``requests`` exception instead.
        """
        fixture = self.load(operation, case)
        matcher = soap_matcher(operation, fixture.params if params is None else params)
        if fixture.raises is not None:
            try:
                exc_type = RAISABLE[fixture.raises]
            except KeyError:
                raise ValueError(
                    f"fixture {fixture.name}: cannot raise {fixture.raises!r}; "
                    f"use one of {', '.join(RAISABLE)}"
                ) from None
            comment = fixture.metadata.get("comment", "")
            error = exc_type(f"replayed from fixture {fixture.name}: {comment}".rstrip(": "))
            response = SoapResponse(fixture.name, url=url, body=error, match=[matcher])
        else:
            headers = HTTPHeaderDict()
            for name, value in dict(fixture.metadata.get("headers") or {}).items():
                for item in value if isinstance(value, list) else [value]:
                    headers.add(str(name), str(item))
            response = SoapResponse(
                fixture.name,
                url=url,
                body=fixture.body,
                status=int(fixture.metadata.get("status", 200)),
                content_type=fixture.metadata.get("content_type"),
                headers=headers,
                match=[matcher],
            )
        rsps.add(response)
        return response

    def use(
        self,
        rsps: responses.RequestsMock,
        *names: str,
        url: str | re.Pattern[str] = ANY_URL,
        params: Mapping[str, str] | None = None,
    ) -> list[SoapResponse]:
        """Register fixtures by name, ``"<Operation>/<case>"`` or just ``"<Operation>"``.

        Registering the same name twice queues it twice (first registered answers first).
        """
        registered = []
        for name in names:
            operation, _, case = name.partition("/")
            registered.append(
                self.register(rsps, operation, case or "default", url=url, params=params)
            )
        return registered


def _check_all_used(rsps: responses.RequestsMock) -> None:
    unused = [_describe(r) for r in rsps.registered() if r.call_count == 0]
    if unused:
        raise AssertionError(
            "Recorded SOAP fixtures were registered but never called: " + ", ".join(unused)
        )


@contextmanager
def replay(
    directory: str | Path,
    *,
    passthru: Iterable[str | re.Pattern[str]] = (),
) -> Iterator[tuple[responses.RequestsMock, SoapFixtures]]:
    """Mock all HTTP with ``responses`` and yield it with the fixtures of ``directory``.

    Inside the block no request reaches the network: a SOAP call that no registered
    fixture matches raises :class:`UnexpectedSoapCall` naming the operation and
    SOAPAction, and leaving the block with a registered fixture unused fails with an
    ``AssertionError`` naming it. ``passthru`` lets matching URLs through for real —
    e.g. ``(WSDL_URL_PATTERN,)`` to let a client download its WSDL from a local fake.
    """
    rsps = responses.RequestsMock(assert_all_requests_are_fired=True, registry=SoapRegistry)
    for prefix in passthru:
        rsps.add_passthru(prefix)
    fixtures = SoapFixtures(directory)
    rsps.start()
    try:
        yield rsps, fixtures
    except BaseException:
        # RequestsMock.__exit__ would assert on unused mocks even now, replacing the
        # test's real failure (often an UnexpectedSoapCall) with a follow-on one.
        rsps.stop(allow_assert=False)
        raise
    else:
        try:
            _check_all_used(rsps)
        finally:
            rsps.stop(allow_assert=False)
    # No reset(): the test may still inspect rsps.calls after the block.
