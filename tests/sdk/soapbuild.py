"""Hand-built SOAP answers for unit tests of the SOAP layer's error paths.

Contract tests replay answers recorded from the fake service (tests/fixtures/);
these builders cover what a recording cannot produce: proxies' HTML pages,
hostile XML, truncated bodies.
"""

from __future__ import annotations

TNS = "http://soap.copernica.com/pom"
ENDPOINT = "http://127.0.0.1:9/"


def envelope(operation: str, result_xml: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns1="{TNS}"><SOAP-ENV:Body><ns1:{operation}Response>'
        f"<result>{result_xml}</result>"
        f"</ns1:{operation}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def fault(faultstring: str, code: str = "SOAP-ENV:Client") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{faultstring}</faultstring></SOAP-ENV:Fault>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def profile_xml(pid: int, fields: dict[str, str] | None = None) -> str:
    pairs = "".join(f"<pair><key>{k}</key><value>{v}</value></pair>"
                    for k, v in (fields or {}).items())
    return (f"<profile><id>{pid}</id><code>c{pid}</code><database>1</database>"
            f"<created>2024-01-02 03:04:05</created><modified>2024-01-02 03:04:05</modified>"
            f"<fields>{pairs}</fields></profile>")


def page_xml(items: list[str], start: int = 0, total: int | None = None) -> str:
    total = len(items) + start if total is None else total
    return (f"<start>{start}</start><length>{len(items)}</length><total>{total}</total>"
            f"<allproperties>1</allproperties><items>{''.join(items)}</items>")


def fields_page(names: list[str]) -> str:
    return page_xml([f"<field><id>{i + 1}</id><name>{n}</name><type>text</type></field>"
                     for i, n in enumerate(names)])
