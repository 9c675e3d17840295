"""The fake Copernica counts the TCP connections it accepts (keep-alive shows as few)."""

from __future__ import annotations

import http.client

from copernica_sdk.testing.fake_copernica import FakeCopernica


def _get_wsdl(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path)
    conn.getresponse().read()


def test_the_fake_counts_accepted_connections_not_requests() -> None:
    with FakeCopernica() as fake:
        path = fake.wsdl_url.split(f":{fake.port}", 1)[1]
        kept = http.client.HTTPConnection("127.0.0.1", fake.port)
        for _ in range(3):  # one connection, three requests
            _get_wsdl(kept, path)
        assert fake.connections_opened == 1
        other = http.client.HTTPConnection("127.0.0.1", fake.port)
        _get_wsdl(other, path)
        assert fake.connections_opened == 2
        fake.reset_connections()
        assert fake.connections_opened == 0
        _get_wsdl(kept, path)  # an open connection is not counted again
        assert fake.connections_opened == 0
        kept.close()
        other.close()


def test_the_count_survives_a_restart() -> None:
    fake = FakeCopernica().start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", fake.port)
        _get_wsdl(conn, fake.wsdl_url.split(f":{fake.port}", 1)[1])
        conn.close()
        fake.stop()
        fake.port = 0
        fake.start()
        assert fake.connections_opened == 1
    finally:
        fake.stop()
