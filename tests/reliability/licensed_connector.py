"""The WooCommerce connector as a licensed plugin, so runs are usage-metered.

The built-in connector declares no ``license_plugin_id`` and is therefore never
metered; a partner's subclass is.  The crash tests register this class under the
``copernica_sdk.connectors`` entry-point group through a throw-away ``.dist-info``
on the subprocess's ``PYTHONPATH`` (see :func:`install_plugin`), exactly as a
partner's installed package would.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from copernica_sync.connectors.woocommerce import WooCommerceConnector

NAME = "reliability_licensed_woo"


class LicensedWooCommerce(WooCommerceConnector):
    name = NAME
    license_plugin_id: ClassVar[str | None] = "reliability-woo"


def install_plugin(directory: Path) -> Path:
    """Write a ``.dist-info`` registering :class:`LicensedWooCommerce`; put ``directory``
    on ``PYTHONPATH`` to make it visible."""
    info = directory / "reliability_licensed_woo-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: reliability-licensed-woo\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[copernica_sdk.connectors]\n"
        f"{NAME} = tests.reliability.licensed_connector:LicensedWooCommerce\n", encoding="utf-8")
    return directory
