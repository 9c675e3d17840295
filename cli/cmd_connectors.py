"""``copernica-sync connectors list`` (and ``connectors new``, in cmd_connectors_new)."""

from __future__ import annotations

import click

from .main import exits_cleanly


@click.group()
def connectors() -> None:
    """Connectors installed as plugins (entry-point group copernica_sdk.connectors),
    and a new one to start from.

    \b
    Example:
      copernica-sync connectors list
      copernica-sync connectors new acme_shop
    """


@connectors.command(name="list")
@exits_cleanly
def list_() -> None:
    """List installed connectors, their package and version; broken ones say why.

    \b
    Example:
      copernica-sync connectors list
    """
    from copernica_sdk.sync.registry import discover

    found = discover()
    if not found:
        click.echo("no connectors installed")
    for name, info in found.items():
        click.echo(f"{name:<16} {info.distribution} {info.version:<10} {info.description}")


# `connectors new`: its own module (the templates and the generator).
from .cmd_connectors_new import new  # noqa: E402

connectors.add_command(new)
