"""Small network facts shared by the client and the licensing sinks."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``, also in
    brackets as URLs write it): the only hosts plain http is allowed to, because the
    bundled fakes listen there.  Names that merely end in ``.localhost`` are not
    trusted: nothing guarantees a resolver sends them to loopback."""
    if not host:
        return False
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False
