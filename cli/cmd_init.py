"""``copernica-sync init``."""

from __future__ import annotations

from pathlib import Path

import click

from .main import exits_cleanly

_HEAD = """\
# copernica-sync configuration; every setting is described in docs/cli.md of copernica-sdk.
# ${{VAR}} is replaced by an environment variable: keep secrets out of this file.

[copernica]
access_token = "${{COPERNICA_ACCESS_TOKEN}}"   # Copernica → Admin → Access tokens
# auth = "token"                             # token | bearer | login
# endpoint = "https://soap.copernica.com"

[source]
connector = "{connector}"
{source}
[target]
# Mapping overrides on top of the connector's defaults, e.g.:
# database = "Customers"
# [target.streams.customers.profile.fields]
# phone = false                              # do not sync this field

[sync]
# concurrency = 8                            # Copernica calls in flight
# lookback_minutes = 5                       # re-read this much before the bookmark
# state_path = "/var/lib/copernica-sync/{connector}.sqlite3"
"""


@click.command()
@click.option("--connector", "connector_name", default="woocommerce", show_default=True,
              help="Which connector the [source] table is for.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
@exits_cleanly
def init(ctx: click.Context, connector_name: str, force: bool) -> None:
    """Write a commented copernica-sync.toml for a connector.

    \b
    Example:
      copernica-sync init --connector woocommerce
      copernica-sync --config shop.toml init
    """
    from copernica_sdk.sync.config import resolve_config_path
    from copernica_sdk.sync.errors import ConfigError
    from copernica_sdk.sync.registry import load_connector

    connector = load_connector(connector_name)
    lines = []
    for field in connector.config_spec:
        env = f"{connector_name.upper()}_{field.name.upper()}"
        value = f'"${{{env}}}"' if field.secret else (
            repr(field.default).lower() if isinstance(field.default, bool)
            else f'"{field.default}"' if isinstance(field.default, str)
            else str(field.default) if field.default is not None else '""')
        comment = f"   # {field.description}" if field.description else ""
        prefix = "" if field.required and field.default is None else "# "
        lines.append(f"{prefix}{field.name} = {value}{comment}")
    path = Path(resolve_config_path(ctx.obj.get("config_path")))
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    path.write_text(_HEAD.format(connector=connector_name, source="\n".join(lines) + "\n"),
                    encoding="utf-8")
    click.echo(f"wrote {path}; fill in the settings, then run `copernica-sync check`")
