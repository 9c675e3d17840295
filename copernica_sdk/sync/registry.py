"""Find connectors through the entry-point group ``copernica_sdk.connectors``.

A partner's package registers its connector in its own ``pyproject.toml``::

    [project.entry-points."copernica_sdk.connectors"]
    my_cms = "my_cms_connector:MyCmsConnector"

The built-in connectors register the same way.  A plugin that fails to import
is reported (a warning naming it and the error) and listed as unavailable; it
never stops the others from working.  ``COPERNICA_SYNC_DISABLE_PLUGINS`` takes
a comma-separated list of names to skip.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from .connector import Connector
from .errors import ConfigError

__all__ = ["ENTRY_POINT_GROUP", "ConnectorInfo", "discover", "load_connector"]

ENTRY_POINT_GROUP = "copernica_sdk.connectors"
ENV_DISABLE = "COPERNICA_SYNC_DISABLE_PLUGINS"

log = logging.getLogger("copernica_sdk.sync")


@dataclass(frozen=True)
class ConnectorInfo:
    """One registered connector; ``error`` is set when it could not be loaded."""

    name: str
    target: str
    distribution: str
    version: str
    connector: type[Connector] | None = None
    error: str | None = None

    @property
    def description(self) -> str:
        if self.connector is None:
            return f"unavailable: {self.error}"
        return self.connector.description


def _load(ep: EntryPoint) -> ConnectorInfo:
    dist = ep.dist
    name, version = (dist.name, dist.version) if dist is not None else ("?", "?")
    try:
        obj = ep.load()
        if not (isinstance(obj, type) and issubclass(obj, Connector)):
            raise TypeError(f"{ep.value} is not a Connector subclass")
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        log.warning("connector plugin %r (%s %s) could not be loaded: %s",
                    ep.name, name, version, message)
        return ConnectorInfo(ep.name, ep.value, name, version, error=message)
    return ConnectorInfo(ep.name, ep.value, name, version, connector=obj)


def discover(env: Mapping[str, str] = os.environ) -> dict[str, ConnectorInfo]:
    """Every registered connector by name, loaded; broken ones carry their error."""
    disabled = {n.strip() for n in env.get(ENV_DISABLE, "").split(",") if n.strip()}
    found: dict[str, ConnectorInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in disabled or ep.name in found:
            continue
        found[ep.name] = _load(ep)
    return dict(sorted(found.items()))


def load_connector(name: str, env: Mapping[str, str] = os.environ) -> type[Connector]:
    """The connector class registered as ``name``; :class:`ConfigError` if none works.

    Only that connector's entry point is loaded (a run of one connector does not
    import every installed plugin); the others are loaded only to name them in
    the error when ``name`` is not installed.
    """
    disabled = {n.strip() for n in env.get(ENV_DISABLE, "").split(",") if n.strip()}
    ep = next((e for e in entry_points(group=ENTRY_POINT_GROUP)
               if e.name == name and name not in disabled), None)
    info = _load(ep) if ep is not None else None
    if info is None:
        known = ", ".join(discover(env)) or "none installed"
        raise ConfigError(f"source.connector: no connector named {name!r} (installed: {known}); "
                          "install its package or fix the name")
    if info.connector is None:
        raise ConfigError(f"source.connector: connector {name!r} from {info.distribution} "
                          f"{info.version} is broken: {info.error}")
    return info.connector
