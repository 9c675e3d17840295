"""Every WSDL operation's handler, and which operations count as writes."""

from __future__ import annotations

import re

from . import ops_data, ops_schema
from .registry import HANDLERS, UNAUTHENTICATED, Context, Handler, Options

__all__ = [
    "HANDLERS",
    "UNAUTHENTICATED",
    "Context",
    "Handler",
    "Options",
    "is_write",
    "ops_data",
    "ops_schema",
]

# "create/update/remove/move/set/unsubscribe" by the method part of <Object>_<method>;
# Database_unsubscribeValues only reads, so "unsubscribe" must be the whole method.
_WRITE_RE = re.compile(r"_(create|update|remove|move|set)[A-Za-z]*\Z|_unsubscribe\Z")


def is_write(operation: str) -> bool:
    """Whether ``operation`` mutates state (counted by ``FakeCopernica.write_calls``)."""
    return bool(_WRITE_RE.search(operation))
