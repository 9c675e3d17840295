"""Partner side of licensing: what a plugin's vendor runs, never a shop owner.

The partner ledger (usage from many installs) and its collector, price plans,
statement previews and the margin report of pooled reselling.  The shop side
(:mod:`copernica_sdk.licensing`: verify, meter, export, flush) never imports this
package, so ``copernica-sync run`` carries none of it.

Install with the extra, which declares what the partner tools need on top of the
SDK::

    pip install 'copernica-sdk[partner]'

:func:`require_extra` checks that it is there (the ``copernica-sync partner``
commands call it first and print the install line when it is not).
"""

from __future__ import annotations

from ._extra import EXTRA_MODULES, INSTALL_HINT, PartnerExtraMissing, require_extra
from .collector import collector_app
from .ledger import IngestReport, PartnerLedger
from .margin import ClientUsage, MarginReport, load_client_csv, margin_report, usage_by_client
from .pricing import PricePlan
from .statement import build_statement, render_statement

__all__ = [
    "EXTRA_MODULES",
    "INSTALL_HINT",
    "ClientUsage",
    "IngestReport",
    "MarginReport",
    "PartnerExtraMissing",
    "PartnerLedger",
    "PricePlan",
    "build_statement",
    "collector_app",
    "load_client_csv",
    "margin_report",
    "render_statement",
    "require_extra",
    "usage_by_client",
]
