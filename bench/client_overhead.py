"""Benchmark: client CPU per SOAP call, ours against a minimal client, side by side.

The fake Copernica runs in its own process (bench/_harness.py), so the CPU
measured here (``time.process_time`` of this process only) is the client's:
rendering the request, sending it, reading and parsing the answer.

- **ours**: ``CopernicaClient.profiles.upsert`` (the sync engine's hot path:
  field-name checks, the request rendered from the WSDL's schema, retry policy,
  whole-call deadline, response parsed into a ``Profile``);
- **minimal**: the same ``Database_updateProfiles`` upsert from a string
  template, sent over one ``http.client`` keep-alive connection, the profile id
  read from the answer with lxml.  No retries, deadlines, redaction or checks:
  the floor a client of this service cannot go below by much.

Both sides write the same profiles (different keys each round) into one fake,
alternating in rounds so machine noise hits both alike.  Targets (issue 12):
ours <= 0.7 ms per call and <= 2x minimal.

Run it: ``python bench/client_overhead.py [--calls 2000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import command_line, fake_copernica, machine

from copernica_sdk import CopernicaClient

FIELDS = ("customer_key", "email", "firstname", "lastname", "city", "country", "orders_count",
          "total_spent")

_TEMPLATE = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soap-env:Body><ns0:Database_updateProfiles xmlns:ns0="http://soap.copernica.com/pom">'
    "<parameters><access_token>{token}</access_token><id>{database}</id>"
    "<requirements><requirement><fieldname>customer_key</fieldname><value>{key}</value>"
    "<operator>=</operator><casesensitive>true</casesensitive></requirement></requirements>"
    "<fields>{pairs}</fields><create>true</create><allproperties>true</allproperties>"
    "</parameters></ns0:Database_updateProfiles></soap-env:Body></soap-env:Envelope>"
)


def record(n: int) -> dict[str, str]:
    return {"customer_key": f"c{n}@example.com", "email": f"c{n}@example.com",
            "firstname": f"First{n}", "lastname": f"Last{n}", "city": "Amsterdam",
            "country": "NL", "orders_count": str(n % 7), "total_spent": f"{n * 1.5:.2f}"}


class Minimal:
    """A string template, one keep-alive ``http.client`` connection, lxml for the id."""

    def __init__(self, url: str, token: str, database: int) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
        self._path = parts.path or "/"
        self._token = escape(token)
        self._database = database

    def upsert(self, fields: dict[str, str]) -> int:
        pairs = "".join(f"<pair><key>{escape(k)}</key><value>{escape(v)}</value></pair>"
                        for k, v in fields.items())
        body = _TEMPLATE.format(token=self._token, database=self._database,
                                key=escape(fields["customer_key"]), pairs=pairs).encode()
        self._conn.request("POST", self._path, body, {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"Database_updateProfiles"'})
        response = self._conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {answer[:200]!r}")
        ids = etree.fromstring(answer).xpath("//*[local-name()='items']/*/*[local-name()='id']")
        return int(ids[0].text)

    def close(self) -> None:
        self._conn.close()


def cpu_per_call(upsert: object, start: int, calls: int) -> float:
    """Client CPU (this process only) per call, in microseconds."""
    fn = upsert  # type: ignore[assignment]
    before = time.process_time()
    for n in range(start, start + calls):
        fn(record(n))  # type: ignore[operator]
    return (time.process_time() - before) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with fake_copernica(latency_ms=0) as fake:
        url, token = fake.info["url"], fake.info["token"]
        client = CopernicaClient(token, endpoint=url, max_connections=1)
        db = client.databases.create("Bench")
        for name in FIELDS:
            client.fields.create(name, database=db, index=name == "customer_key")
        minimal = Minimal(url, token, db.id)

        def ours(fields: dict[str, str]) -> int:
            key = {"customer_key": fields["customer_key"]}
            return client.profiles.upsert(db, key=key, fields=fields).id

        # Warm-up: plans, pools, field-name cache; and both sides agree on the id.
        assert ours(record(0)) == minimal.upsert(record(0))
        ours_us, minimal_us = [], []
        for r in range(args.rounds):
            base = 1 + r * args.calls
            ours_us.append(cpu_per_call(ours, base, args.calls))
            minimal_us.append(cpu_per_call(minimal.upsert, base, args.calls))
        calls = dict(fake.call("calls"))
        minimal.close()
        client.close()
    o, m = statistics.median(ours_us), statistics.median(minimal_us)
    print(f"bench/client_overhead.py: Database_updateProfiles upserts ({len(FIELDS)} fields), "
          f"{args.rounds} rounds x {args.calls} calls per side, fake Copernica in its own "
          "process, no latency")
    print(f"machine: {machine()}")
    print("side       client CPU us/call (median of rounds)   rounds")
    print(f"ours       {o:10.0f}                               "
          + " ".join(f"{x:.0f}" for x in ours_us))
    print(f"minimal    {m:10.0f}                               "
          + " ".join(f"{x:.0f}" for x in minimal_us))
    print(f"ratio ours/minimal: {o / m:.2f}x (target <= 2x); ours {o / 1000:.3f} ms per call "
          "(target <= 0.7 ms)")
    print(f"fake counted {calls.get('Database_updateProfiles', 0)} Database_updateProfiles calls")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
