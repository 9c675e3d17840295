"""Record/replay kit for SOAP fixtures (copernica_sdk.testing.fixtures).

Recording runs plain zeep against a loopback HTTP server started here, with credentials
sent the three ways Copernica accepts them (access_token parameter, Bearer JWT header,
legacy login + session cookie). Replay then runs zeep against ``responses`` only.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree

from copernica_sdk.testing._background import serve_in_background
from copernica_sdk.testing.fixtures import (
    REDACTED,
    WSDL_URL_PATTERN,
    FixtureNotFound,
    SoapFixtures,
    SoapRecorder,
    UnexpectedSoapCall,
    find_param,
    find_secrets,
    redact,
    redact_header,
    replay,
    soap_matcher,
)

NS = "http://soap.copernica.com/pom"
BINDING = f"{{{NS}}}POMBinding"
REPLAY_URL = "https://soap.copernica.example/"  # never reached: responses answers

TOKEN = "tok-3f9a1c-SECRET-access"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJhY21lIiwiZXhwIjo0MTAyNDQ0ODAwfQ"
    ".c2lnbmF0dXJlLXNlY3JldA"
)
COOKIE_SENT = "sess-in-7d2b-SECRET"
COOKIE_SET = "sess-out-91e4-SECRET"
USERNAME = "api-user@acme.example"
PASSWORD = "hunter2-SECRET-pw"
ALL_SECRETS = (TOKEN, JWT, COOKIE_SENT, COOKIE_SET, USERNAME, PASSWORD)


def _wsdl_path() -> Path:
    # copernica_sdk/__init__.py may be mid-edit (or absent); fall back to the source tree.
    try:
        import copernica_sdk._soap as soap_package

        return Path(next(iter(soap_package.__path__))) / "wsdl" / "copernica.wsdl"
    except Exception:
        return Path(__file__).resolve().parents[2] / "copernica_sdk/_soap/wsdl/copernica.wsdl"


WSDL = _wsdl_path()


# --- a tiny loopback SOAP server -------------------------------------------------------


def _envelope(operation: str, result: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<SOAP-ENV:Body><ns1:{operation}Response xmlns:ns1="{NS}">'
        f"<result>{result}</result></ns1:{operation}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


@dataclass
class _Seen:
    operation: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackServer:
    url: str
    seen: list[_Seen] = field(default_factory=list)
    wsdl_gets: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str, **extra: Any) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, values in extra.items():
            for value in values if isinstance(values, list) else [values]:
                self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if "SOAPAPI=WSDL" in self.path:
            self.server.info.wsdl_gets += 1
            self._send(200, WSDL.read_bytes(), "text/xml")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        root = etree.fromstring(body)
        call = root.find("{*}Body")[0]  # type: ignore[index]
        operation = etree.QName(call).localname
        params = call.find("parameters")
        self.server.info.seen.append(_Seen(operation, dict(self.headers.items()), body))

        def echo(path: str) -> str:
            return find_param(params, path) or ""

        if operation == "login":
            self._send(
                200,
                _envelope(operation, "<value>1</value>"),
                "text/xml; charset=utf-8",
                Set_Cookie=[f"soap_session={COOKIE_SET}; Path=/; HttpOnly", "soap_lang=nl; Path=/"],
            )
        elif operation == "Profile_retrieve":
            # A careless server that echoes the caller's credentials back in the body.
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            result = (
                f"<profile><id>{echo('id')}</id><code>{echo('access_token')}</code>"
                f"<extra>{bearer}</extra><database>1</database></profile>"
            )
            self._send(200, _envelope(operation, result), "text/xml; charset=utf-8")
        elif operation == "Database_searchProfiles":
            result = (
                "<start>0</start><length>1</length><total>1</total><items><profile>"
                "<id>42</id><fields><pair><key>Email</key>"
                f"<value>{echo('requirements/requirement/value')}</value></pair></fields>"
                "</profile></items>"
            )
            self._send(200, _envelope(operation, result), "text/xml; charset=utf-8")
        elif operation == "Database_retrieve":
            self._send(503, b"Service busy, retry later\n", "text/plain", Retry_After="7")
        elif operation == "Database_fields":
            time.sleep(2.0)  # longer than the recording transport's timeout
        else:
            self._send(500, b"unknown operation", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # don't wait for the deliberately slow handler
    info: LoopbackServer


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.info = LoopbackServer(url=f"http://127.0.0.1:{httpd.server_port}/")
    serve_in_background(httpd, "loopback-soap")
    try:
        yield httpd.info
    finally:
        httpd.shutdown()
        httpd.server_close()


def _service(session: requests.Session, url: str, timeout: float | None = None) -> Any:
    transport = zeep.Transport(session=session, operation_timeout=timeout)  # type: ignore[no-untyped-call]
    client = zeep.Client(str(WSDL), transport=transport)  # type: ignore[no-untyped-call]
    return client.create_service(BINDING, url)  # type: ignore[no-untyped-call]


def _search(service: Any, email: str) -> Any:
    requirement = {"fieldname": "Email", "value": email, "operator": "="}
    return service.Database_searchProfiles(
        {
            "id": 1,
            "requirements": {"requirement": [requirement]},
            "start": 0,
            "length": 1,
            "access_token": TOKEN,
        }
    )


@pytest.fixture(scope="module")
def recorded(server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Record one session of calls; tests must treat the directory as read-only."""
    directory = tmp_path_factory.mktemp("soap_fixtures")
    recorder = SoapRecorder(directory, secrets=[TOKEN], source="loopback test server")
    session = recorder.attach(requests.Session())
    session.headers["Authorization"] = f"Bearer {JWT}"
    session.cookies.set("soap_session", COOKIE_SENT)
    service = _service(session, server.url, timeout=0.5)

    with recorder.case("legacy"):
        service.login({"username": USERNAME, "account": "acme", "password": PASSWORD})
    service.Profile_retrieve({"id": 7, "access_token": TOKEN})
    with recorder.case("one_item_page"):
        _search(service, "ed@emmer.nl")
    service.Profile_retrieve({"id": 8, "access_token": TOKEN})
    with recorder.case("busy"), pytest.raises(zeep.exceptions.TransportError):
        service.Database_retrieve({"id": 1, "access_token": TOKEN})
    with recorder.case("slow"), pytest.raises(requests.exceptions.ReadTimeout):
        service.Database_fields({"id": 1, "access_token": TOKEN})
    assert session.get(server.url + "?SOAPAPI=WSDL", timeout=5).status_code == 200
    return directory


@pytest.fixture
def fixture_dir(recorded: Path, tmp_path: Path) -> Path:
    """A private copy of the recording, for tests that add hand-written fixtures."""
    return Path(shutil.copytree(recorded, tmp_path / "fixtures"))


def _meta(directory: Path, name: str) -> dict[str, Any]:
    data = json.loads((directory / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def _replay_service() -> Any:
    return _service(requests.Session(), REPLAY_URL)


# --- recording -------------------------------------------------------------------------


def test_each_interaction_is_written_as_body_and_metadata_grouped_by_operation(
    recorded: Path,
) -> None:
    files = sorted(p.relative_to(recorded).as_posix() for p in recorded.rglob("*.*"))
    assert files == [
        "Database_fields/slow.json",  # a timeout has no body
        "Database_retrieve/busy.json",
        "Database_retrieve/busy.xml",
        "Database_searchProfiles/one_item_page.json",
        "Database_searchProfiles/one_item_page.xml",
        "Profile_retrieve/default.json",
        "Profile_retrieve/default.xml",
        "Profile_retrieve/default_2.json",
        "Profile_retrieve/default_2.xml",
        "login/legacy.json",
        "login/legacy.xml",
    ]


def test_wsdl_get_passes_through_the_recorder_unrecorded(
    recorded: Path, server: LoopbackServer
) -> None:
    assert server.wsdl_gets >= 1  # the GET happened during recording ...
    assert sorted(p.name for p in recorded.iterdir()) == [  # ... and left no trace
        "Database_fields",
        "Database_retrieve",
        "Database_searchProfiles",
        "Profile_retrieve",
        "login",
    ]


def test_second_call_of_same_operation_and_case_gets_numbered_suffix(recorded: Path) -> None:
    assert _meta(recorded, "Profile_retrieve/default")["params"] == {"id": "7"}
    second = _meta(recorded, "Profile_retrieve/default_2")
    assert second["case"] == "default_2"
    assert second["params"] == {"id": "8"}


def test_case_numbering_counts_per_operation_and_case(
    server: LoopbackServer, tmp_path: Path
) -> None:
    recorder = SoapRecorder(tmp_path)
    service = _service(recorder.attach(requests.Session()), server.url)
    service.Profile_retrieve({"id": 1})
    _search(service, "a@b.nl")
    with recorder.case("x"):
        for profile_id in (2, 3, 4):
            service.Profile_retrieve({"id": profile_id})
    service.Profile_retrieve({"id": 5})
    assert [p.relative_to(tmp_path).as_posix() for p in recorder.written] == [
        "Profile_retrieve/default.json",
        "Database_searchProfiles/default.json",
        "Profile_retrieve/x.json",
        "Profile_retrieve/x_2.json",
        "Profile_retrieve/x_3.json",
        "Profile_retrieve/default_2.json",
    ]
    assert _meta(tmp_path, "Profile_retrieve/x_3")["params"] == {"id": "4"}


def test_case_names_cannot_escape_the_fixture_directory(tmp_path: Path) -> None:
    recorder = SoapRecorder(tmp_path)
    with pytest.raises(ValueError, match="invalid fixture case"), recorder.case("../evil"):
        pass


def test_metadata_records_status_soap_action_params_request_and_provenance(
    recorded: Path,
) -> None:
    meta = _meta(recorded, "Database_searchProfiles/one_item_page")
    assert meta["format"] == 1
    assert meta["operation"] == "Database_searchProfiles"
    assert meta["case"] == "one_item_page"
    assert meta["status"] == 200
    assert meta["content_type"] == "text/xml; charset=utf-8"
    assert meta["soap_action"] == f'"{NS}#Database_searchProfiles"'
    assert meta["source"] == "loopback test server"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["recorded_at"])
    assert meta["params"] == {
        "id": "1",
        "requirements/requirement/fieldname": "Email",
        "requirements/requirement/value": "ed@emmer.nl",
        "requirements/requirement/operator": "=",
        "start": "0",
        "length": "1",
    }
    request = meta["request"]
    assert request["method"] == "POST"
    assert request["headers"]["Authorization"] == f"Bearer {REDACTED}"
    # Names stay readable (the login added a second soap_session and soap_lang); values don't.
    assert re.fullmatch(r"soap_session=REDACTED(; \w+=REDACTED)*", request["headers"]["Cookie"])
    assert f"        <access_token>{REDACTED}</access_token>" in request["body"]


def test_xml_body_is_pretty_printed_and_other_bodies_are_kept_verbatim(recorded: Path) -> None:
    xml = (recorded / "Database_searchProfiles/one_item_page.xml").read_text()
    assert xml.startswith("<?xml version='1.0' encoding='utf-8'?>\n<SOAP-ENV:Envelope")
    assert "\n                <value>ed@emmer.nl</value>\n" in xml
    assert (recorded / "Database_retrieve/busy.xml").read_bytes() == b"Service busy, retry later\n"
    busy = _meta(recorded, "Database_retrieve/busy")
    assert (busy["status"], busy["content_type"]) == (503, "text/plain")
    assert busy["headers"] == {"Retry-After": "7"}


def test_each_set_cookie_header_is_kept_with_its_value_redacted(recorded: Path) -> None:
    meta = _meta(recorded, "login/legacy")
    assert meta["headers"]["Set-Cookie"] == [
        f"soap_session={REDACTED}; Path=/; HttpOnly",
        f"soap_lang={REDACTED}; Path=/",
    ]
    # Secret parameters are never matched on: they are redacted on disk.
    assert meta["params"] == {"account": "acme"}


def test_timeout_while_recording_becomes_a_raise_fixture(recorded: Path) -> None:
    meta = _meta(recorded, "Database_fields/slow")
    assert meta["raise"] == "ReadTimeout"
    assert meta["comment"].startswith("recorded: the request raised ReadTimeout")
    assert "status" not in meta


def test_recorded_files_hold_no_token_password_jwt_or_cookie(
    recorded: Path, server: LoopbackServer
) -> None:
    # The secrets really went over the wire, each in its own way ...
    # (the module's server is shared: other tests also call Profile_retrieve, so pick
    # the recorded session's own call by its id.)
    profile_call = next(s for s in server.seen
                        if s.operation == "Profile_retrieve" and b"<id>7</id>" in s.body)
    assert TOKEN.encode() in profile_call.body
    assert profile_call.headers["Authorization"] == f"Bearer {JWT}"
    assert COOKIE_SENT in profile_call.headers["Cookie"]
    login_call = next(s for s in server.seen if s.operation == "login")
    assert PASSWORD.encode() in login_call.body and USERNAME.encode() in login_call.body
    # ... and came back in the responses (Set-Cookie, echoed token and JWT) ...
    assert any(COOKIE_SET in s.headers.get("Cookie", "") for s in server.seen[1:])
    # ... yet no recorded file holds any of them.
    assert find_secrets(recorded, ALL_SECRETS) == []
    for path in recorded.rglob("*.*"):
        data = path.read_bytes()
        assert not [s for s in ALL_SECRETS if s.encode() in data], path
    profile = (recorded / "Profile_retrieve/default.xml").read_text()
    assert f"<code>{REDACTED}</code>" in profile and f"<extra>{REDACTED}</extra>" in profile


# --- replay ----------------------------------------------------------------------------


def test_replay_gives_each_call_its_own_operations_response_in_any_order(
    recorded: Path,
) -> None:
    service = _replay_service()
    with replay(recorded) as (rsps, fixtures):
        fixtures.use(
            rsps,
            "Profile_retrieve/default",
            "Database_searchProfiles/one_item_page",
            "Profile_retrieve/default_2",
        )
        second = service.Profile_retrieve({"id": 8, "access_token": "another-token"})
        page = _search(service, "ed@emmer.nl")
        first = service.Profile_retrieve({"id": 7})
    assert (first.profile.id, second.profile.id) == (7, 8)
    assert first.profile.code == REDACTED
    assert page.total == 1
    assert page.items.profile[0].fields.pair[0].value == "ed@emmer.nl"
    assert [c.request.headers["SOAPAction"] for c in rsps.calls] == [
        f'"{NS}#Profile_retrieve"',
        f'"{NS}#Database_searchProfiles"',
        f'"{NS}#Profile_retrieve"',
    ]


def test_param_mismatch_fails_with_a_reason_naming_the_parameter(recorded: Path) -> None:
    service = _replay_service()
    with pytest.raises(UnexpectedSoapCall) as failure, replay(recorded) as (rsps, fixtures):
        fixtures.register(rsps, "Database_searchProfiles", "one_item_page")
        _search(service, "someone@else.nl")
    message = str(failure.value)
    assert "Unexpected SOAP call Database_searchProfiles" in message
    assert (
        "Database_searchProfiles/one_item_page: Database_searchProfiles parameter "
        "'requirements/requirement/value' is 'someone@else.nl', fixture expects 'ed@emmer.nl'"
    ) in message


def test_unexpected_operation_fails_naming_operation_and_soap_action(recorded: Path) -> None:
    service = _replay_service()
    with pytest.raises(UnexpectedSoapCall) as failure, replay(recorded) as (rsps, fixtures):
        fixtures.use(rsps, "Profile_retrieve")
        service.Database_retrieve({"id": 3, "access_token": TOKEN})
    message = str(failure.value)
    assert message.startswith(
        f"Unexpected SOAP call Database_retrieve (SOAPAction '\"{NS}#Database_retrieve\"')"
    )
    assert "Parameters sent: {'id': '3'}" in message
    assert "- Profile_retrieve/default: operation differs: request calls Database_retrieve" in (
        message
    )
    assert TOKEN not in message


def test_unused_fixture_fails_the_test(recorded: Path) -> None:
    service = _replay_service()
    with (
        pytest.raises(AssertionError, match="never called: Database_searchProfiles/one_item_page"),
        replay(recorded) as (rsps, fixtures),
    ):
        fixtures.use(rsps, "Profile_retrieve", "Database_searchProfiles/one_item_page")
        service.Profile_retrieve({"id": 7})


def test_explicit_params_override_the_recorded_ones(recorded: Path) -> None:
    service = _replay_service()
    with replay(recorded) as (rsps, fixtures):
        fixtures.register(rsps, "Profile_retrieve", params={})  # operation only
        assert service.Profile_retrieve({"id": 12345}).profile.id == 7


@pytest.mark.parametrize(
    "name, exception",
    [
        ("ReadTimeout", requests.exceptions.ReadTimeout),
        ("ConnectTimeout", requests.exceptions.ConnectTimeout),
        ("ConnectionError", requests.exceptions.ConnectionError),
    ],
)
def test_hand_written_raise_fixture_raises_that_requests_exception(
    fixture_dir: Path, name: str, exception: type[Exception]
) -> None:
    (fixture_dir / "Profile_retrieve" / "drops.json").write_text(
        json.dumps(
            {
                "operation": "Profile_retrieve",
                "raise": name,
                "comment": "a dropped connection cannot be recorded as a response",
                "params": {"id": "7"},
            }
        )
    )
    service = _replay_service()
    with replay(fixture_dir) as (rsps, fixtures):
        fixtures.use(rsps, "Profile_retrieve/drops")
        with pytest.raises(exception, match="replayed from fixture Profile_retrieve/drops"):
            service.Profile_retrieve({"id": 7})


def test_recorded_timeout_fixture_raises_read_timeout_on_replay(recorded: Path) -> None:
    service = _replay_service()
    with replay(recorded) as (rsps, fixtures):
        fixtures.use(rsps, "Database_fields/slow")
        with pytest.raises(requests.exceptions.ReadTimeout):
            service.Database_fields({"id": 1})


def test_fixtures_registered_in_sequence_answer_in_registration_order(
    fixture_dir: Path,
) -> None:
    # The retry shape: 503 twice, then success. The success case is hand-written here.
    (fixture_dir / "Database_retrieve/ok.xml").write_bytes(
        _envelope("Database_retrieve", "<database><id>1</id><name>shop</name></database>")
    )
    (fixture_dir / "Database_retrieve/ok.json").write_text(
        json.dumps({"operation": "Database_retrieve", "status": 200, "params": {"id": "1"}})
    )
    session = requests.Session()
    body = _soap_body("Database_retrieve", "<id>1</id>")
    with replay(fixture_dir) as (rsps, fixtures):
        fixtures.use(rsps, "Database_retrieve/busy", "Database_retrieve/busy")
        fixtures.use(rsps, "Database_retrieve/ok")
        answers = [session.post(REPLAY_URL, data=body, timeout=1) for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].text == "Service busy, retry later\n"
    assert b"<name>shop</name>" in answers[2].content


def test_replayed_login_sets_the_redacted_session_cookie(recorded: Path) -> None:
    session = requests.Session()
    service = _service(session, REPLAY_URL)
    with replay(recorded) as (rsps, fixtures):
        fixtures.use(rsps, "login/legacy")
        assert service.login({"username": "u", "account": "acme", "password": "p"}).value == "1"
    assert session.cookies.get("soap_session") == REDACTED


def test_missing_fixture_error_lists_the_recorded_cases(recorded: Path) -> None:
    with pytest.raises(FixtureNotFound, match="recorded cases: default, default_2"):
        SoapFixtures(recorded).load("Profile_retrieve", "nope")
    assert "Database_searchProfiles/one_item_page" in SoapFixtures(recorded).names()


def test_wsdl_get_passes_through_only_when_allowed(recorded: Path, server: LoopbackServer) -> None:
    wsdl_url = server.url + "?SOAPAPI=WSDL"
    with replay(recorded, passthru=[WSDL_URL_PATTERN]):
        assert requests.get(wsdl_url, timeout=5).status_code == 200
    # Without passthru responses refuses it (a plain GET is not a SOAP call).
    with replay(recorded), pytest.raises(requests.exceptions.ConnectionError):
        requests.get(wsdl_url, timeout=5)


# --- soap_matcher ----------------------------------------------------------------------


def _soap_body(operation: str, params: str, *, prefix: str = "") -> bytes:
    return (
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap-env:Body><ns0:{operation} xmlns:ns0="{NS}">'
        f"<{prefix}parameters>{params}</{prefix}parameters>"
        f"</ns0:{operation}></soap-env:Body></soap-env:Envelope>"
    ).encode()


def _request(body: bytes | str, soap_action: str | None = None) -> requests.PreparedRequest:
    headers = {"Content-Type": "text/xml"}
    if soap_action is not None:
        headers["SOAPAction"] = soap_action
    return requests.Request("POST", REPLAY_URL, data=body, headers=headers).prepare()


SEARCH = _soap_body(
    "Database_searchProfiles",
    "<id>1</id><requirements>"
    "<requirement><fieldname>Email</fieldname><value>a@b.nl</value></requirement>"
    "<requirement><fieldname>City</fieldname><value>Delft</value></requirement>"
    "</requirements>",
)


@pytest.mark.parametrize(
    "soap_action",
    [None, f'"{NS}#Database_searchProfiles"', f"{NS}#Database_searchProfiles"],
)
def test_matcher_accepts_soap_action_quoted_unquoted_or_absent(soap_action: str | None) -> None:
    assert soap_matcher("Database_searchProfiles")(_request(SEARCH, soap_action)) == (True, "")


def test_matcher_rejects_soap_action_naming_another_operation() -> None:
    ok, reason = soap_matcher("Database_searchProfiles")(
        _request(SEARCH, f'"{NS}#Profile_retrieve"')
    )
    assert not ok
    assert "SOAPAction" in reason and "names Profile_retrieve" in reason


def test_matcher_compares_first_match_and_indexed_parameter_paths() -> None:
    request = _request(SEARCH)
    match = soap_matcher(
        "Database_searchProfiles",
        {
            "id": "1",
            "requirements/requirement/value": "a@b.nl",
            "requirements/requirement[2]/fieldname": "City",
        },
    )
    assert match(request) == (True, "")
    ok, reason = soap_matcher("Database_searchProfiles", {"collection/id": "5"})(request)
    assert not ok and reason == (
        "Database_searchProfiles parameter 'collection/id' is missing (fixture expects '5')"
    )


def test_matcher_reads_prefixed_php_style_parameters_by_local_name() -> None:
    body = _soap_body(
        "Profile_createSubProfile",
        f'<ns0:id xmlns:ns0="{NS}">7</ns0:id><ns0:collection xmlns:ns0="{NS}">'
        "<ns0:id>5</ns0:id></ns0:collection>",
        prefix="ns0:",
    )
    match = soap_matcher("Profile_createSubProfile", {"id": "7", "collection/id": "5"})
    assert match(_request(body)) == (True, "")


def test_matcher_explains_a_body_that_is_not_soap() -> None:
    ok, reason = soap_matcher("Profile_retrieve")(_request("access_token=x"))
    assert not ok and reason.startswith(
        "not a SOAP call for Profile_retrieve: request body is not XML"
    )


def test_matcher_does_not_expand_external_entities() -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        + SEARCH.decode().replace("<id>1</id>", "<id>&e;</id>")
    )
    ok, reason = soap_matcher("Database_searchProfiles", {"id": "1"})(_request(body))
    assert not ok and reason.endswith("parameter 'id' is '', fixture expects '1'")


# --- redaction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<access_token>abc</access_token>", f"<access_token>{REDACTED}</access_token>"),
        ("<ns1:password>p&amp;w</ns1:password>", f"<ns1:password>{REDACTED}</ns1:password>"),
        ('<username xsi:type="x">u</username>', f'<username xsi:type="x">{REDACTED}</username>'),
        ("<password/><password></password>", "<password/><password></password>"),
        ("<usernames>kept</usernames>", "<usernames>kept</usernames>"),
        (f"token {JWT} end", f"token {REDACTED} end"),
        (
            "https://x/?SOAPAPI=WSDL&access_token=t0k#f",
            f"https://x/?SOAPAPI=WSDL&access_token={REDACTED}#f",
        ),
        ("access_token=t0k&x=1", f"access_token={REDACTED}&x=1"),
        ("Authorization: Basic dXNlcjpwdw==", f"Authorization: Basic {REDACTED}"),
        ("Cookie: a=1; soap_session=2", f"Cookie: a={REDACTED}; soap_session={REDACTED}"),
        ('"Set-Cookie": "s=1; Path=/"', f'"Set-Cookie": "s={REDACTED}; Path=/"'),
        ('"password": "pw"', f'"password": "{REDACTED}"'),
        ("<id>7</id>", "<id>7</id>"),
    ],
)
def test_redact_replaces_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_replaces_given_secrets_in_every_spelling() -> None:
    secret = 'p@ss&"word'
    text = f'raw {secret} xml p@ss&amp;&quot;word url p%40ss%26%22word json p@ss&\\"word'
    assert (
        redact(text, [secret, ""])
        == f"raw {REDACTED} xml {REDACTED} url {REDACTED} json {REDACTED}"
    )


def test_redact_is_idempotent() -> None:
    text = f"<password>x</password> {JWT} access_token=t Cookie: a=b\nAuthorization: Bearer z"
    once = redact(text, ["x"])
    assert redact(once, ["x"]) == once


def test_redact_header_keeps_scheme_cookie_names_and_attributes() -> None:
    assert redact_header("Authorization", f"Bearer {JWT}") == f"Bearer {REDACTED}"
    assert redact_header("Cookie", "") == ""
    assert redact_header("Set-Cookie", "soap_s=1; Path=/") == f"soap_s={REDACTED}; Path=/"
    assert redact_header("Retry-After", "7") == "7"


def test_find_secrets_reports_each_leaking_file(tmp_path: Path) -> None:
    (tmp_path / "Op").mkdir()
    (tmp_path / "Op/clean.xml").write_text(f"<password>{REDACTED}</password>")
    (tmp_path / "Op/jwt.xml").write_text(f"<extra>{JWT}</extra>")
    (tmp_path / "Op/pw.xml").write_text("<password>hunter2</password>")
    (tmp_path / "Op/meta.json").write_text(json.dumps({"note": "contains s3cret"}))
    assert find_secrets(tmp_path, ["s3cret"]) == [
        "Op/jwt.xml: JWT",
        "Op/meta.json: a given secret",
        "Op/pw.xml: credential element (access_token/password/username)",
    ]
