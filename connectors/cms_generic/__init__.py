"""Generic CMS connector: any REST/JSON API or CSV export, by configuration.

See ``docs/connectors/cms_generic.md``; ready configs in ``presets/``.
"""

from .connector import GenericCmsConnector

__all__ = ["GenericCmsConnector"]
