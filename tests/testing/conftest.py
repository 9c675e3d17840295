"""Shared helpers for the fake Copernica tests: plain zeep and raw requests, no SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
from lxml import etree

from copernica_sdk.testing.fake_copernica import FakeCopernica

TNS = "http://soap.copernica.com/pom"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def fake(copernica_fake: FakeCopernica) -> FakeCopernica:
    """Short alias for the plugin's fixture."""
    return copernica_fake


@pytest.fixture
def kit(fake: FakeCopernica) -> Iterator[Kit]:
    """Helpers bound to the test's fake (tests import nothing from conftest)."""
    with requests.Session() as session:
        yield Kit(fake, session)


def pairs(**values: str) -> dict[str, Any]:
    """A Map parameter for zeep."""
    return {"pair": [{"key": k, "value": v} for k, v in values.items()]}


def reqs(*conditions: tuple[Any, ...]) -> dict[str, Any]:
    """Requirements for zeep: (fieldname, value[, operator[, casesensitive]])."""
    out = []
    for cond in conditions:
        item: dict[str, Any] = {"fieldname": cond[0], "value": cond[1]}
        if len(cond) > 2:
            item["operator"] = cond[2]
        if len(cond) > 3:
            item["casesensitive"] = cond[3]
        out.append(item)
    return {"requirement": out}


def as_map(zeep_map: Any) -> dict[str, str]:
    """A zeep Map result as a dict (None for an empty map)."""
    if zeep_map is None:
        return {}
    return {pair.key: pair.value or "" for pair in zeep_map.pair}


def envelope(operation: str, params_xml: str, *, qualified: bool = False) -> bytes:
    """A SOAP 1.1 rpc/literal request, as zeep or PHP would send it."""
    inner = params_xml
    if qualified:
        inner = inner.replace("<", "<ns1:").replace("<ns1:/", "</ns1:")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{TNS}"><SOAP-ENV:Body>'
        f"<ns1:{operation}><parameters>{inner}</parameters></ns1:{operation}>"
        f"</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def post(
    session: requests.Session,
    fake: FakeCopernica,
    body: bytes,
    *,
    action: str | None = None,
    content_type: str = "text/xml; charset=utf-8",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """POST a raw body to the SOAP endpoint."""
    all_headers = {"Content-Type": content_type}
    if action is not None:
        all_headers["SOAPAction"] = action
    all_headers.update(headers or {})
    kwargs.setdefault("timeout", 10)
    return session.post(fake.url, data=body, headers=all_headers, **kwargs)


def fault_of(response: requests.Response) -> tuple[str, str]:
    """(faultcode, faultstring) of a SOAP fault response."""
    root = etree.fromstring(response.content)
    return (
        root.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode") or "",
        root.findtext(f".//{{{SOAP_ENV}}}Fault/faultstring") or "",
    )


def result_of(response: requests.Response) -> etree._Element:
    """The ``<result>`` element of a successful response."""
    root = etree.fromstring(response.content)
    found = root.find(f".//{{{SOAP_ENV}}}Body/*/result")
    assert found is not None, response.text
    return found


def seed_shop(fake: FakeCopernica) -> int:
    """A database 'Shop' (customer_id indexed, email, age) with collection 'Orders'."""
    return fake.create_database(
        "Shop",
        {"customer_id": {"type": "text", "index": True}, "email": "email", "age": "integer"},
        {"Orders": {"order_id": "text", "status": "text"}},
    )


class Kit:
    """What most tests need: a lazy zeep client, raw POSTs and XML helpers."""

    pairs = staticmethod(pairs)
    reqs = staticmethod(reqs)
    as_map = staticmethod(as_map)
    envelope = staticmethod(envelope)
    fault_of = staticmethod(fault_of)
    result_of = staticmethod(result_of)

    def __init__(self, fake: FakeCopernica, session: requests.Session) -> None:
        self.fake = fake
        self.session = session
        self._client: zeep.Client | None = None

    @property
    def client(self) -> zeep.Client:
        """A plain zeep client built from the fake's served WSDL."""
        if self._client is None:
            self._client = zeep.Client(self.fake.wsdl_url)
        return self._client

    def call(self, operation: str, **params: Any) -> Any:
        """A zeep call with the fake's access token added."""
        params.setdefault("access_token", self.fake.token)
        return getattr(self.client.service, operation)(parameters=params)

    def post(self, body: bytes, **kwargs: Any) -> requests.Response:
        """POST a raw body to the SOAP endpoint (see ``post``)."""
        return post(self.session, self.fake, body, **kwargs)

    def raw(
        self, operation: str, params_xml: str, *, token: bool = True, **kwargs: Any
    ) -> requests.Response:
        """POST ``operation`` with hand-written parameter XML (token appended)."""
        if token:
            params_xml += f"<access_token>{self.fake.token}</access_token>"
        return self.post(envelope(operation, params_xml), **kwargs)

    def seed_shop(self) -> int:
        return seed_shop(self.fake)
