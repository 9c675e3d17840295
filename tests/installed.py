"""This project's own connectors, whatever else is installed in the venv.

A partner developing a plugin next to an editable SDK has more connectors
registered; tests that iterate over "every connector" iterate over ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from copernica_sdk.sync.registry import ConnectorInfo, discover

#: Distributions whose connectors these tests know: the SDK's own, and the
#: examples/hello_connector package when it is installed.
OWN_DISTRIBUTIONS = frozenset({"copernica-sdk", "copernica-sync-hello-example"})


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def own_connectors(env: Mapping[str, str] | None = None) -> dict[str, ConnectorInfo]:
    """The registered connectors of :data:`OWN_DISTRIBUTIONS`, by name."""
    found = discover() if env is None else discover(env)
    return {name: info for name, info in found.items()
            if _canonical(info.distribution) in OWN_DISTRIBUTIONS}
