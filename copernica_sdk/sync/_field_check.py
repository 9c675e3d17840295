"""At the start of a run: read the target's field lists again, and require every mapped field.

The SDK's safety checks (keys and values against the field list) use a cache
that a long-lived client may have filled in an earlier run; a key field renamed
since then would make an upsert match every profile.  So every run starts by
reading the lists again (:meth:`FieldsService.revalidate`), and refuses to start
— a configuration error naming each field — when a field the mapping keys on or
writes does not exist: the service would ignore the requirement, or drop the
value without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import ConfigError
from .mapping import TargetMapping

if TYPE_CHECKING:
    from ..client import CopernicaClient
    from ..models import Collection, Database

__all__ = ["check_target_fields"]


def check_target_fields(client: CopernicaClient, target: TargetMapping, database: Database,
                        collections: Mapping[str, Collection]) -> None:
    """Revalidate the field lists of ``database`` and ``collections``; raise
    :class:`ConfigError` listing every mapped field that is missing."""
    problems: list[str] = []
    have = {n.casefold() for n in client.fields.revalidate(database=database)}
    for spec in target.database_fields():
        if spec.name.casefold() not in have:
            problems.append(f"target: database {database.name!r} has no field {spec.name!r}; "
                            "run `copernica-sync schema apply`")
    for name, specs in sorted(target.collections().items()):
        collection = collections.get(name)
        if collection is None:
            continue  # reported by the caller
        have = {n.casefold() for n in client.fields.revalidate(collection=collection)}
        for spec in specs:
            if spec.name.casefold() not in have:
                problems.append(f"target: collection {name!r} has no field {spec.name!r}; "
                                "run `copernica-sync schema apply`")
    if problems:
        raise ConfigError(problems)
