"""Concurrent upserts: no duplicates, no lost writes."""

from __future__ import annotations

import http.client
import threading

from copernica_sdk.testing.fake_copernica import FakeCopernica

THREADS = 16
PER_THREAD = 150  # 2,400 concurrent upserts: enough interleaving to find a race
ACTION = '"http://soap.copernica.com/pom#Database_updateProfiles"'


def _upsert_body(fake: FakeCopernica, db: int, key: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns1="http://soap.copernica.com/pom"><SOAP-ENV:Body><ns1:Database_updateProfiles>'
        f"<parameters><id>{db}</id><requirements><requirement><fieldname>customer_id</fieldname>"
        f"<value>{key}</value><operator>=</operator><casesensitive>true</casesensitive></requirement>"
        f"</requirements><fields><pair><key>name</key><value>name-{key}</value></pair></fields>"
        f"<create>true</create><access_token>{fake.token}</access_token></parameters>"
        "</ns1:Database_updateProfiles></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def test_concurrent_upserts_with_distinct_keys_create_each_profile_exactly_once(
    fake: FakeCopernica,
) -> None:
    db = fake.create_database(
        "Customers", {"customer_id": {"type": "text", "index": True}, "name": "text"}
    )
    failures: list[str] = []

    def worker(thread: int) -> None:
        # One keep-alive connection per thread: raw SOAP keeps the client side cheap,
        # so the test measures the fake, not zeep.
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)
        try:
            for i in range(PER_THREAD):
                conn.request(
                    "POST",
                    "/",
                    body=_upsert_body(fake, db, f"t{thread}-{i}"),
                    headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ACTION},
                )
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    failures.append(payload.decode("utf-8", "replace"))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    profiles = fake.profiles("Customers")
    assert len(profiles) == THREADS * PER_THREAD
    assert fake.duplicates("Customers", "customer_id") == {}
    keys = {p["fields"]["customer_id"] for p in profiles}
    assert keys == {f"t{t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)}
    assert all(p["fields"]["name"] == f"name-{p['fields']['customer_id']}" for p in profiles)
    assert fake.calls["Database_updateProfiles"] == THREADS * PER_THREAD
