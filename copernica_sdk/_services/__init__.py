"""Service namespaces of :class:`~copernica_sdk.CopernicaClient` (``client.profiles`` …)."""

from .collections import CollectionsService
from .databases import DatabasesService
from .fields import FieldsService
from .profiles import ProfilesService
from .subprofiles import SubprofilesService

__all__ = [
    "CollectionsService",
    "DatabasesService",
    "FieldsService",
    "ProfilesService",
    "SubprofilesService",
]
