"""Aggregates written once per profile and run, after the stream's last page.

A stream with aggregates (orders: orders count, total spent…) used to write a
profile in every page holding one of its records, each time with the totals so
far: a customer with orders in five pages was written five times.  Now a page
writes a profile only when it must — its id is not known yet, or its own fields
changed — and then with the totals so far.  A profile whose totals alone
changed is marked *pending* in the page's checkpoint instead; when the stream
has read its last page, :func:`flush_aggregates` writes each pending profile's
final totals once (key and aggregates only), and clears the marks.

The marks are state, committed with the pages that set them, so a run that
stops before the flush (a failure, Ctrl-C, a crash) leaves them for the next
run's flush: a total is never lost, only late.  What a profile holds is
remembered as two digests: its own fields (``<stream>:profile``, without the
aggregates) and the totals last written (``<stream>:aggregates:written``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from ..errors import CopernicaError
from ._page_writer import RECORD_ERRORS
from ._staging import Staging
from .mapping import AggregateMapping, ProfileWrite
from .state import StateStore

__all__ = ["FlushResult", "aggregates_digest", "contributions", "flush_aggregates",
           "own_fields_digest", "pending_scope", "written_scope"]

log = logging.getLogger("copernica_sdk.sync")

#: Pending profiles handled per checkpoint of the flush.
_BATCH = 500


def pending_scope(stream: str) -> str:
    """State scope (hashes) of the profiles whose totals wait for the flush."""
    return f"{stream}:aggregates:pending"


def written_scope(stream: str) -> str:
    """State scope (hashes) of the digest of the totals each profile was last sent."""
    return f"{stream}:aggregates:written"


def own_fields_digest(profile: ProfileWrite, names: frozenset[str]) -> str:
    """The digest of what ``profile`` writes besides the aggregates ``names``."""
    if not names or profile.basis is not None:
        # A basis (field precedence) never holds the aggregates.
        return profile.digest()
    return replace(profile, fields={k: v for k, v in profile.fields.items()
                                    if k not in names}).digest()


def aggregates_digest(values: Mapping[str, str]) -> str:
    """The digest of a profile's aggregate values."""
    text = json.dumps(sorted(values.items()), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def contributions(state: StateStore, staging: Staging | None, *, stream: str, facts_scope: str,
                  source: str, keys: set[str], page_sources: Mapping[str, str] | None = None,
                  ) -> dict[str, dict[str, Mapping[str, str]]]:
    """The contributions to each profile of ``keys`` (by record key) as ``stream``
    will have them once the run has written what it staged (``staging``, or
    ``None`` when the stream is not staged; :mod:`._staging`): the committed ones,
    each staged record replacing its own.

    A staged record is counted where the engine will write it: the profile of the
    person its source id is known for (``page_sources``, the identities of the
    page being written, or the state's ``source`` identities), else the key it
    mapped to.  Keys without any contribution are left out.
    """
    per_key: dict[str, dict[str, Mapping[str, str]]] = {
        key: dict(rows) for key, rows in state.facts(facts_scope, keys).items()}
    if staging is None:
        return per_key
    page_sources = page_sources or {}
    restaged = staging.staged_among(stream, {r for rows in per_key.values() for r in rows})
    for rows in per_key.values():
        for record_key in restaged & rows.keys():
            del rows[record_key]
    claimants = {sid for ids in state.identity_claims(source, keys).values() for sid in ids}
    staged = staging.facts_for(stream, mapped_keys=keys,
                               source_ids=claimants | set(page_sources))
    known = state.identities(source, {f.source_id for f in staged if f.source_id is not None
                                      and f.source_id not in page_sources})
    for fact in staged:
        key = fact.mapped_key
        if fact.source_id is not None and fact.source_id in page_sources:
            key = page_sources[fact.source_id]
        elif fact.source_id is not None and fact.source_id in known:
            key = known[fact.source_id].profile_key
        if key in keys:
            per_key.setdefault(key, {})[fact.record_key] = fact.facts
    return {key: rows for key, rows in per_key.items() if rows}


@dataclass
class FlushResult:
    """What :func:`flush_aggregates` did."""

    written: int = 0
    warnings: int = 0
    #: The failure that stopped the flush (the rest stays pending), if any.
    failure: CopernicaError | None = None


#: Writes a profile's aggregates by its key: ``(key, values)``.
WriteAggregates = Callable[[str, Mapping[str, str]], None]


def flush_aggregates(state: StateStore, pool: Executor, *, stream: str, facts_scope: str,
                     aggregates: AggregateMapping, write: WriteAggregates) -> FlushResult:
    """Write the final totals of every profile pending for ``stream`` (see the
    module doc), ``_BATCH`` at a time through ``pool``, each batch then committed."""
    result = FlushResult()
    after: str | None = None
    while result.failure is None:
        keys = state.hash_keys(pending_scope(stream), after=after, limit=_BATCH)
        if not keys:
            break
        after = keys[-1]
        contributions = state.facts(facts_scope, keys)
        sent = state.hashes(written_scope(stream), keys)
        totals = {key: aggregates.combine(contributions.get(key, {}).values()) for key in keys}
        digests = {key: aggregates_digest(values) for key, values in totals.items()}
        todo = [key for key in keys if sent.get(key) != digests[key]]

        done: dict[str, str] = {}
        kept: set[str] = set()
        errors = pool.map(_attempt, [write] * len(todo), todo, [totals[k] for k in todo])
        for key, error in zip(todo, errors, strict=True):
            if error is None:
                done[key] = digests[key]
            elif isinstance(error, RECORD_ERRORS):
                # Copernica refuses these totals: say so and try again next run.
                kept.add(key)
                result.warnings += 1
                log.warning("%s: the aggregates of profile %r were refused (%s); they are "
                            "sent again next run", stream, key, error)
            else:
                kept.add(key)
                assert isinstance(error, CopernicaError)
                result.failure = result.failure or error
        result.written += len(done)
        with state.checkpoint() as cp:
            cp.set_hashes(written_scope(stream), done)
            cp.clear_hashes(pending_scope(stream), [k for k in keys if k not in kept])
    return result


def _attempt(write: WriteAggregates, key: str,
             values: Mapping[str, str]) -> BaseException | None:
    """One profile's write: the error it ended in, or None."""
    try:
        write(key, values)
        return None
    except (*RECORD_ERRORS, CopernicaError) as exc:
        return exc
