"""Record SOAP interactions once, replay them offline with ``responses``.

Recording mounts an adapter on the ``requests.Session`` the SDK uses::

    recorder = SoapRecorder("tests/fixtures/soap", secrets=[token], source="sandbox")
    recorder.attach(session)
    with recorder.case("one_item_page"):
        client.profiles.search(db)

Each SOAP interaction becomes two reviewable files, grouped per operation::

    tests/fixtures/soap/Database_searchProfiles/one_item_page.xml   # response body
    tests/fixtures/soap/Database_searchProfiles/one_item_page.json  # metadata

Credentials are redacted before anything is written (:func:`redact`). Replay matches on
the SOAP operation and recorded parameters, never on raw bytes or URL::

    with replay("tests/fixtures/soap") as (rsps, fixtures):
        fixtures.use(rsps, "Database_searchProfiles/one_item_page")
        ...  # SDK calls; unexpected calls and unused fixtures fail the test

Metadata keys: ``format``, ``operation``, ``case``, ``source``, ``recorded_at``,
``soap_action``, ``params`` (``path -> text`` to match on; editable), ``request``
(method, url, redacted headers and body lines), ``status``, ``content_type``,
``headers`` (Retry-After, Set-Cookie …). A hand-written error fixture has
``"raise": "ReadTimeout" | "ConnectTimeout" | "ConnectionError" | …`` and a ``comment``
saying why it exists, and no ``.xml`` file.

This module must not import zeep: the test kit works with any SOAP client on requests.
"""

from __future__ import annotations

from ._fixtures_record import RAISABLE, SoapRecorder
from ._fixtures_redact import REDACTED, find_secrets, redact, redact_header
from ._fixtures_replay import (
    ANY_URL,
    WSDL_URL_PATTERN,
    FixtureNotFound,
    SoapFixture,
    SoapFixtures,
    SoapRegistry,
    SoapResponse,
    UnexpectedSoapCall,
    replay,
)
from ._fixtures_soap import find_param, soap_matcher

__all__ = [
    "ANY_URL",
    "RAISABLE",
    "REDACTED",
    "WSDL_URL_PATTERN",
    "FixtureNotFound",
    "SoapFixture",
    "SoapFixtures",
    "SoapRecorder",
    "SoapRegistry",
    "SoapResponse",
    "UnexpectedSoapCall",
    "find_param",
    "find_secrets",
    "redact",
    "redact_header",
    "replay",
    "soap_matcher",
]
