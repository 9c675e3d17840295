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
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from .errors import ConfigError
from .mapping import TargetMapping

if TYPE_CHECKING:
    from ..client import CopernicaClient
    from ..models import Collection, Database

__all__ = ["check_target_fields"]


def check_target_fields(client: CopernicaClient, target: TargetMapping, database: Database,
                        collections: Mapping[str, Collection], *,
                        pool: Executor | None = None) -> None:
    """Revalidate the field lists of ``database`` and ``collections`` (at the same
    time, through ``pool`` when given); raise :class:`ConfigError` listing every
    mapped field that is missing."""
    wanted = sorted(name for name in target.collections() if name in collections)

    def read(name: str | None) -> set[str]:
        found = client.fields.revalidate(database=database) if name is None else \
            client.fields.revalidate(collection=collections[name])
        return {n.casefold() for n in found}

    lists = list((pool.map if pool is not None else map)(read, [None, *wanted]))
    problems: list[str] = []
    have = lists[0]
    for spec in target.database_fields():
        if spec.name.casefold() not in have:
            problems.append(f"target: database {database.name!r} has no field {spec.name!r}; "
                            "run `copernica-sync schema apply`")
    specs_of = target.collections()
    for name, have in zip(wanted, lists[1:], strict=True):
        for spec in specs_of[name]:
            if spec.name.casefold() not in have:
                problems.append(f"target: collection {name!r} has no field {spec.name!r}; "
                                "run `copernica-sync schema apply`")
    if problems:
        raise ConfigError(problems)
