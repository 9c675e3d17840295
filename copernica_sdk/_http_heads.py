"""HTTP header blocks read without the ``email`` package, for ``http.client`` and ``http.server``.

``http.client.parse_headers`` hands every header block to the ``email`` package's
``FeedParser``, which is built for MIME messages: for a small SOAP call that was
about a tenth of the client's CPU and a sixth of the fake Copernica's
(``py-spy``, docs/performance.md).  :func:`parse_headers` here returns the same
``HTTPMessage`` — the same headers, defects and payload — for the blocks servers
and clients send: one ``Name: value`` per line, each ending in CRLF.  Any other
block (a folded line, a line without a colon, a bare LF, a multipart or message
content type) goes to the ``email`` package exactly as ``http.client`` sends it.
``tests/test_http_heads.py`` compares the two on both kinds of block.

:class:`HTTPResponse` and :func:`parse_request` are the standard library's own
``HTTPResponse.begin`` and ``BaseHTTPRequestHandler.parse_request`` — the same
code objects, so the same status-line, limit and keep-alive rules of the running
Python — with only their ``parse_headers`` bound to this one.
"""

from __future__ import annotations

import email.parser
import http.client
import http.server
import re
import types
from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = ["HTTPResponse", "parse_headers", "parse_request"]

# Header lines as the email package reads them without a defect — a field name of
# printable ASCII other than ":" (its ``headerRE``), a value without CR or LF, CRLF —
# then the empty line.
_PLAIN_BLOCK = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:[^\r\n]*\r\n)*\r\n")
# Content types the email package parses a (here empty) body for: its defects and
# payload then depend on the type, so such blocks go to it.
_NESTED_TYPE = re.compile(rb"^content-type:[^\r\n]*(?:multipart|message)",
                          re.IGNORECASE | re.MULTILINE)

_read_headers = getattr(http.client, "_read_headers", None)
# The fast path reads the block with http.client's own reader (its line and count
# limits); a Python whose reader wants more than the file pointer gets the stdlib's.
_USABLE = _read_headers is not None and _read_headers.__code__.co_argcount == 1


def parse_headers(fp: BinaryIO, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage,
                  **options: Any) -> http.client.HTTPMessage:
    """What ``http.client.parse_headers(fp, _class)`` returns, faster for plain blocks."""
    if options or not _USABLE:
        return http.client.parse_headers(fp, _class, **options)
    assert _read_headers is not None
    block = b"".join(_read_headers(fp))
    if not _PLAIN_BLOCK.fullmatch(block) or _NESTED_TYPE.search(block):
        return email.parser.Parser(_class=_class).parsestr(block.decode("iso-8859-1"))
    message = _class()
    for line in block.decode("iso-8859-1").split("\r\n")[:-2]:
        name, value = line.split(":", 1)
        message.set_raw(name, value.lstrip(" \t"))  # compat32's header_source_parse
    message.set_payload("")
    return message


def _rebound(function: Callable[..., Any], **names: Any) -> Any:
    """``function``'s code with some of the global names it reads bound to ``names``."""
    rebound = types.FunctionType(function.__code__, {**function.__globals__, **names},
                                 function.__name__, function.__defaults__, function.__closure__)
    rebound.__kwdefaults__ = function.__kwdefaults__
    rebound.__qualname__ = function.__qualname__
    rebound.__doc__ = function.__doc__
    return rebound


class HTTPResponse(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` whose ``begin`` reads the headers with
    :func:`parse_headers`."""

    begin = _rebound(http.client.HTTPResponse.begin, parse_headers=parse_headers)


class _Client(types.SimpleNamespace):
    """``http.client`` as ``parse_request`` sees it: the module, but :func:`parse_headers`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(http.client, name)


#: ``BaseHTTPRequestHandler.parse_request`` reading the headers with :func:`parse_headers`;
#: assign it to a handler class's ``parse_request``.
parse_request = _rebound(http.server.BaseHTTPRequestHandler.parse_request,
                         http=types.SimpleNamespace(client=_Client(parse_headers=parse_headers)))
