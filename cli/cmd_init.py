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
@click.option("--connector", "connector_name", default=None,
              help="Which connector the [source] table is for (default: woocommerce, or "
                   "cms_generic with --preset).")
@click.option("--preset", "preset", metavar="NAME", default=None,
              help="Start from a ready config of the connector: for cms_generic wordpress, "
                   "drupal or csv (streams and mapping included).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
@exits_cleanly
def init(ctx: click.Context, connector_name: str | None, preset: str | None,
         force: bool) -> None:
    """Write a commented copernica-sync.toml for a connector.

    \b
    Example:
      copernica-sync init --connector woocommerce
      copernica-sync init --connector cms_generic --preset wordpress
      copernica-sync --config shop.toml init
    """
    from copernica_sdk.sync.config import resolve_config_path
    from copernica_sdk.sync.errors import ConfigError
    from copernica_sdk.sync.registry import load_connector

    connector_name = connector_name or ("cms_generic" if preset else "woocommerce")
    connector = load_connector(connector_name)
    presets = connector.presets()
    path = Path(resolve_config_path(ctx.obj.get("config_path")))
    if preset is not None:
        if preset not in presets:
            offered = f"one of {', '.join(presets)}" if presets else "none"
            raise ConfigError(f"--preset: connector {connector_name!r} has no preset "
                              f"{preset!r} (offered: {offered})")
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; use --force to overwrite it")
        head, _, _ = _HEAD.partition("[source]\n")
        sync = "[sync]" + _HEAD.partition("[sync]")[2]
        path.write_text(head.format() + f"# Preset {preset!r} of {connector_name}: fill in the "
                        "site's address and the credentials' variables.\n"
                        + presets[preset].rstrip("\n") + "\n\n"
                        + sync.format(connector=connector_name), encoding="utf-8")
        click.echo(f"wrote {path} from the {preset} preset; fill in the address and the "
                   "credentials, then run `copernica-sync check`")
        return
    lines = []
    if presets:
        lines.append(f"# Ready configs: copernica-sync init --connector {connector_name} "
                     f"--preset {'|'.join(presets)}")
    for field in connector.config_spec:
        env = f"{connector_name.upper()}_{field.name.upper()}"
        value = f'"${{{env}}}"' if field.secret else (
            repr(field.default).lower() if isinstance(field.default, bool)
            else f'"{field.default}"' if isinstance(field.default, str)
            else str(field.default) if field.default is not None else '""')
        comment = f"   # {field.description}" if field.description else ""
        prefix = "" if field.required and field.default is None else "# "
        if field.type == "dict" and field.default is None:
            # A table is not a string: leave it out (commented) rather than write "".
            value, prefix = "{ }", "# "
        lines.append(f"{prefix}{field.name} = {value}{comment}")
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    path.write_text(_HEAD.format(connector=connector_name, source="\n".join(lines) + "\n"),
                    encoding="utf-8")
    click.echo(f"wrote {path}; fill in the settings, then run `copernica-sync check`")
