"""The ``partner`` extra: which modules it brings, and a clear error when one is missing."""

from __future__ import annotations

import importlib

__all__ = ["EXTRA_MODULES", "INSTALL_HINT", "PartnerExtraMissing", "require_extra"]

#: Distribution → module the partner tools import from it (the collector's WSGI layer,
#: the SVG charts of the HTML reports).
#: Kept equal to ``[project.optional-dependencies] partner`` (a test checks it).
EXTRA_MODULES: dict[str, str] = {"werkzeug": "werkzeug", "pygal": "pygal"}

INSTALL_HINT = "pip install 'copernica-sdk[partner]'"


class PartnerExtraMissing(ImportError):
    """A dependency of the partner tools is not installed."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"the partner tools need {', '.join(missing)}, which is not installed: "
            f"{INSTALL_HINT}")


def require_extra() -> None:
    """Raise :class:`PartnerExtraMissing` naming every missing dependency of the extra."""
    missing = []
    for distribution, module in EXTRA_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    if missing:
        raise PartnerExtraMissing(missing)
