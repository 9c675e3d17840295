"""copernica_sdk._http_heads: the same HTTPMessage as http.client, without the email package."""

from __future__ import annotations

import email.parser
import http.client
import io
import random
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from copernica_sdk import _http_heads

PLAIN = [
    b"Content-Type: text/xml; charset=utf-8\r\nContent-Length: 12\r\n\r\n",
    b"\r\n",
    b"Set-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
    b"X:\r\nY:   \t  \r\nZ:\tv  \r\n\r\n",
    b"X: caf\xe9\r\n\r\n",
    b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
]
# Blocks the email package reads with defects, folding or a nested body: they take
# the email package's path, and must come out the same too.
ODD = [
    b"",
    b"\n",
    b"X: a\r\n folded\r\n\r\n",
    b"no colon here\r\nX: 1\r\n\r\n",
    b"From x\r\n\r\n",
    b": v\r\n\r\n",
    b"X Y: 1\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"X: 1\nY: 2\n\n",
    b"X: 1\r\n\n",
    b"X: a\rb\r\n\r\n",
    b"X: 1\r\n",
]


def _state(value: Any) -> Any:
    """A message as comparable data: its class and attributes, nested messages too."""
    if isinstance(value, http.client.HTTPMessage):
        attrs = {k: _state(v) for k, v in vars(value).items() if k != "defects"}
        return type(value), attrs, [type(d) for d in value.defects]
    if isinstance(value, list):
        return [_state(v) for v in value]
    return value


def _both(block: bytes) -> tuple[Any, Any]:
    data = block + b"BODY"
    theirs, ours = io.BytesIO(data), io.BytesIO(data)
    return ((_state(http.client.parse_headers(theirs)), theirs.tell()),
            (_state(_http_heads.parse_headers(ours)), ours.tell()))


def _random_blocks(n: int) -> Iterator[bytes]:
    rng = random.Random(12)
    alphabet = [b"a", b"B", b":", b" ", b"\t", b"\r", b"\xe9", b"-", b"\x00", b"/"]
    for _ in range(n):
        lines = [b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
                 + (b"\r\n" if rng.random() < 0.9 else b"\n") for _ in range(rng.randint(0, 4))]
        yield b"".join(lines) + b"\r\n"


@pytest.mark.parametrize("block", PLAIN + ODD)
def test_a_header_block_parses_as_http_client_parses_it(block: bytes) -> None:
    theirs, ours = _both(block)
    assert ours == theirs


def test_random_header_blocks_parse_as_http_client_parses_them() -> None:
    differ = []
    for block in _random_blocks(3000):
        theirs, ours = _both(block)
        if ours != theirs:
            differ.append(block)
    assert differ == []


def test_plain_blocks_do_not_use_the_email_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the email package parsed a plain block")

    monkeypatch.setattr(email.parser.Parser, "parsestr", refuse)
    for block in PLAIN:
        _http_heads.parse_headers(io.BytesIO(block))


def test_too_many_header_lines_raise_as_in_http_client() -> None:
    block = b"X: 1\r\n" * 101 + b"\r\n"
    with pytest.raises(http.client.HTTPException, match="got more than 100 headers"):
        _http_heads.parse_headers(io.BytesIO(block))
    with pytest.raises(http.client.LineTooLong):
        _http_heads.parse_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))


def test_the_response_reads_status_and_headers_as_http_client_does() -> None:
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 4\r\n"
              b"Connection: close\r\n\r\nbody")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(answer)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(server.getsockname()) as sock:
            response = _http_heads.HTTPResponse(sock, method="POST")
            response.begin()
            assert (response.status, response.reason, response.length) == (200, "OK", 4)
            assert response.will_close and not response.chunked
            assert response.msg.get_all("content-type") == ["text/xml"]
            assert response.read() == b"body"
    finally:
        thread.join()
        server.close()
