"""Benchmark: parse a 1,000-profile ``allproperties`` page, ours vs plain zeep.

Both sides get the same response bytes.  "zeep" is what a plain zeep client does
with an answer (``process_reply``: schema-driven deserialisation into zeep
objects); "ours" is the SDK's lxml parser straight into frozen dataclasses.
Run it: ``python bench/soap_parse.py [--profiles 1000] [--fields 10] [--repeat 15]``.
It prints a table and the ratio; it asserts both sides read the same values.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable

import requests
import zeep
from lxml import etree

from copernica_sdk._soap.document import BUNDLED_WSDL
from copernica_sdk._soap.envelope import parse_response
from copernica_sdk._soap.parse import SoapResult
from copernica_sdk.models import Profile

TNS = "http://soap.copernica.com/pom"


def page_bytes(profiles: int, fields: int) -> bytes:
    items = []
    for pid in range(1, profiles + 1):
        pairs = "".join(f"<pair><key>field{f}</key><value>value {pid}-{f} &amp; more</value></pair>"
                        for f in range(fields))
        items.append(f"<profile><id>{pid}</id><code>{pid:032x}</code><database>1</database>"
                     f"<created>2024-01-02 03:04:05</created><modified>2024-05-06 07:08:09"
                     f"</modified><fields>{pairs}</fields></profile>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
        'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns1="{TNS}"><SOAP-ENV:Body><ns1:Database_searchProfilesResponse><result>'
        f"<start>0</start><length>{profiles}</length><total>{profiles}</total>"
        f"<allproperties>1</allproperties><items>{''.join(items)}</items>"
        "</result></ns1:Database_searchProfilesResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def ours(body: bytes) -> list[Profile]:
    element = parse_response(200, "text/xml", None, body, "Database_searchProfiles", str)
    return list(SoapResult(element, "Database_searchProfiles").page(Profile).items)


def make_zeep() -> Callable[[bytes], list[dict[str, str]]]:
    client = zeep.Client(str(BUNDLED_WSDL))
    service = client.create_service(f"{{{TNS}}}POMBinding", "http://127.0.0.1:1/")
    operation = service._binding._operations["Database_searchProfiles"]

    def parse(body: bytes) -> list[dict[str, str]]:
        response = requests.models.Response()
        response._content, response.status_code = body, 200
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        result = service._binding.process_reply(client, operation, response)
        return [{p.key: p.value for p in item.fields.pair} for item in result.items.profile]

    return parse


def timed(func: Callable[[bytes], object], body: bytes, repeat: int) -> float:
    func(body)  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(body)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--fields", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    body = page_bytes(args.profiles, args.fields)
    zeep_parse = make_zeep()
    mine, theirs = ours(body), zeep_parse(body)
    assert [dict(p.fields) for p in mine] == theirs, "both parsers must read the same values"
    t_ours = timed(ours, body, args.repeat)
    t_zeep = timed(zeep_parse, body, args.repeat)
    print(f"bench/soap_parse.py: {args.profiles} profiles x {args.fields} fields "
          f"({len(body) / 1024:.0f} KiB), median of {args.repeat}")
    print(f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}, "
          f"lxml {etree.__version__}, zeep {zeep.__version__}")
    print(f"{'parser':<8} {'ms/page':>10} {'us/profile':>12}")
    for name, t in (("zeep", t_zeep), ("ours", t_ours)):
        print(f"{name:<8} {t * 1000:>10.1f} {t * 1e6 / args.profiles:>12.1f}")
    print(f"ratio zeep/ours: {t_zeep / t_ours:.1f}x faster (target >= 3x)")
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")


if __name__ == "__main__":
    main()
