"""JSON answers that nest deeper than Python's parser allows, decoded around the damage.

``json.loads`` recurses once per level and raises ``RecursionError`` somewhere near
1,000 levels.  One record of a source with a runaway structure (5,000 levels in a
WooCommerce ``meta_data`` value) would make the whole page — and so every run —
fail.  :func:`loads` decodes a top-level list element by element instead: each
element too deep to decode becomes a *stand-in*, a dict of its top-level scalar
members (``id``, dates, e-mail…) plus :data:`UNREADABLE` with the reason, which a
connector yields as :class:`~copernica_sdk.sync.connector.Rejected`: that record
is dead-lettered under its own key and the rest of the page syncs.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["UNREADABLE", "TooDeepError", "loads"]

#: Key of a stand-in record; its value says why the record could not be decoded.
UNREADABLE = "_copernica_unreadable"

# Strings (skipped whole, so brackets inside them do not count) and structure.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_COLON = re.compile(r"\s*:\s*")
_DECODER = json.JSONDecoder()


class TooDeepError(ValueError):
    """The document nests too deep and is not a list that could be decoded around it."""


def loads(text: str, *, where: str) -> Any:
    """``json.loads(text)``, except that elements of a top-level list nested too deep
    come back as stand-ins (see the module docstring); ``where`` (a URL) goes into
    their reason.  Raises :class:`TooDeepError` when the depth is anywhere else and
    ``ValueError`` for malformed JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    body = text.strip()
    if not body.startswith("["):
        raise TooDeepError(f"the JSON answered for {where} nests deeper than can be decoded")
    out: list[Any] = []
    depth, begin = 0, 1
    for token in _TOKENS.finditer(body):
        kind = token.group()
        if kind in "[{":
            depth += 1
        elif kind in "]}":
            depth -= 1
            if depth == 0:
                out.extend(_element(body[begin:token.start()], where))
                return out
        elif kind == "," and depth == 1:
            out.extend(_element(body[begin:token.start()], where))
            begin = token.end()
    raise ValueError(f"the JSON answered for {where} ends before its list does")


def _element(text: str, where: str) -> list[Any]:
    if not text.strip():
        return []
    try:
        return [json.loads(text)]
    except RecursionError:
        return [{**_scalars(text), UNREADABLE: (
            f"the record answered for {where} nests deeper than the JSON parser allows, so "
            "it cannot be read; flatten the value in the source")}]


def _scalars(text: str) -> dict[str, Any]:
    """The top-level members of a JSON object (as text) whose values are not containers."""
    out: dict[str, Any] = {}
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()
        if kind in "[{":
            depth += 1
        elif kind in "]}":
            depth -= 1
        elif depth == 1 and kind.startswith('"'):
            colon = _COLON.match(text, token.end())
            if colon is None or text[colon.end():colon.end() + 1] in ("{", "["):
                continue
            try:
                value, _ = _DECODER.raw_decode(text, colon.end())
                out[json.loads(kind)] = value
            except ValueError:
                continue
    return out
