"""Who a profile belongs to, and whose data its fields hold.

One profile per person, keyed by the normalised e-mail address: several source
records can therefore write one profile — a registered customer and guest orders
placed with the same address, two accounts whose e-mails differ only in case, a
customer's many orders.  Left alone, the last record written wins, which depends
on the order streams and pages arrive in, and two writers with different values
rewrite the profile on every run.  This module makes the outcome one rule.

**Claims.**  Every record claims the profile of its key.  Its *claimant* is
``stream:record key``; its *rank* is :data:`ACCOUNT` for a record of a stream that
owns identities (its profile ``source_id`` is its own primary key: customers,
users) with an id, :data:`ACTIVITY` for anything else (orders, guest orders);
its *recency* is the profile mapping's ``recency`` value, else the record's
replication key, normalised to UTC.

**Field precedence**, per profile key:

1. A key that an account claims (an identity in state, or an account record of
   the page) takes its own fields from accounts only.  Activity records — a
   registered customer's orders, a guest order placed with the customer's
   address — only *attach*: they write the key and their stream's aggregates
   (orders count, total spent…), never the account's name or address.
2. Among the records that may write a key's fields, the one with the newest
   recency wins; ties go to the higher record key.  The stored owner
   (state table ``profile_owners``) takes part, so the winner does not depend on
   which page or run a record arrives in.  A losing record attaches.
3. A claimant that now claims another key (its e-mail changed) gives up the
   ownership of its old key; the next record that claims it takes it over.

**Nothing changed, nothing written.**  Every record of one stream that writes a
key gets the same write (the winner's fields, or key and aggregates), and the
digest the engine compares is the same whoever wins in a page: when a key is
*contested* (several claimants of one stream), the digest stands for "the
winner's fields hash H" rather than for the fields sent, so a page holding only
losers compares equal to the page holding the winner, and a new winner with the
same fields (a guest's next order) writes nothing.  Aggregates are compared
on their own (:mod:`copernica_sdk.sync._aggregates`).

**Identities.**  An account whose key changes is re-keyed in Copernica (its
profile follows the new address) only when no other identity still claims the old
key; otherwise it gets a profile of its own and the shared one stays with the
others.  Keys several identities claim are warned about once and listed by
``copernica-sync state show``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .mapping import ProfileWrite
from .state import ProfileOwner
from .timestamps import to_utc

__all__ = [
    "ACCOUNT",
    "ACTIVITY",
    "Candidate",
    "Claim",
    "Resolution",
    "normalise_recency",
    "resolve_precedence",
    "staying_claimants",
]

#: Rank of a record of a stream that owns identities (a customer account).
ACCOUNT = 2
#: Rank of any other record (orders, guest orders).
ACTIVITY = 1


def normalise_recency(value: object) -> str:
    """A recency value that sorts in time order: ISO-8601 (``T`` or space, with
    or without offset; naive values are UTC) becomes ``YYYY-MM-DDTHH:MM:SS``,
    anything else is kept as text, and nothing is ``""`` (the oldest)."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    try:
        return to_utc(text, epoch_numbers=False)
    except ValueError:
        return text


def _tiebreak(claimant: str) -> tuple[int, int, str]:
    key = claimant.partition(":")[2]
    return (0, int(key), claimant) if key.isdigit() else (1, 0, claimant)


@dataclass(frozen=True)
class Claim:
    """One record's claim on its profile key."""

    rank: int
    recency: str
    claimant: str

    def order(self) -> tuple[int, str, tuple[int, int, str]]:
        return (self.rank, self.recency, _tiebreak(self.claimant))


@dataclass(frozen=True)
class Candidate:
    """A record's profile write (aggregates already filled in) and its claim."""

    profile: ProfileWrite
    claim: Claim


@dataclass(frozen=True)
class Resolution:
    """What a record writes, and the owner row its key has after the page
    (``None``: the key's fields belong to another stream or to an account)."""

    profile: ProfileWrite
    owner: ProfileOwner | None


def fields_hash(profile: ProfileWrite, aggregates: frozenset[str]) -> str:
    """Digest of a write's own fields: everything but the key and the aggregates."""
    own = sorted((k, v) for k, v in profile.fields.items()
                 if k != profile.key_field and k not in aggregates)
    return hashlib.sha256(json.dumps(own, ensure_ascii=True).encode("ascii")).hexdigest()


def resolve_precedence(candidates: Sequence[Candidate], *, stream: str,
                       aggregates: frozenset[str], owners: Mapping[str, ProfileOwner],
                       account_keys: Iterable[str]) -> list[Resolution]:
    """Apply field precedence to one page of one stream (see the module doc).

    ``owners`` are the stored owners of the page's keys, ``account_keys`` the
    keys an identity claims.  Returns one resolution per candidate, in order.
    """
    accounts = set(account_keys)
    by_key: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_key.setdefault(candidate.profile.key, []).append(candidate)
    decided: dict[str, tuple[ProfileWrite, ProfileOwner | None]] = {}
    prefix = f"{stream}:"
    for key, group in by_key.items():
        best = max(group, key=lambda c: c.claim.order())
        claimants = {c.claim.claimant for c in group}
        stored = owners.get(key)
        account_owned = key in accounts or any(c.claim.rank >= ACCOUNT for c in group)
        if stored is not None and account_owned and stored.rank < ACCOUNT:
            stored = None  # an order's data never outranks an account's
        rival = stored if stored is not None and stored.claimant not in claimants else None
        contested = (len(claimants) > 1 or (stored is not None and stored.contested)
                     or (rival is not None and rival.claimant.startswith(prefix)))
        wins = not (account_owned and best.claim.rank < ACCOUNT) and (
            rival is None
            or best.claim.order() > Claim(rival.rank, rival.recency, rival.claimant).order())
        agg = sorted((k, v) for k, v in best.profile.fields.items() if k in aggregates)
        basis: tuple[object, ...] | None
        owner: ProfileOwner | None
        if wins:
            digest = fields_hash(best.profile, aggregates)
            owner = ProfileOwner(best.claim.rank, best.claim.recency, best.claim.claimant,
                                 digest, contested)
            basis = ("fields", digest) if contested else None
            decided[key] = (replace(best.profile, basis=basis), owner)
            continue
        attach = {best.profile.key_field: key, **dict(agg)}
        if rival is not None and rival.claimant.startswith(prefix):
            # The key's fields come from a record of this stream not in the page:
            # compare as that record would, so neither page looks changed.
            owner = replace(rival, contested=True)
            basis = ("fields", rival.fields_hash)
            decided[key] = (replace(best.profile, fields=attach, basis=basis), owner)
        else:
            decided[key] = (replace(best.profile, fields=attach, basis=None), None)
    out = []
    for candidate in candidates:
        profile, owner = decided[candidate.profile.key]
        # Each record keeps its own source id: identities are recorded per record.
        if profile.source_id != candidate.profile.source_id:
            profile = replace(profile, source_id=candidate.profile.source_id)
        out.append(Resolution(profile, owner))
    return out


def staying_claimants(old_key: str, leaver: str, stored: Iterable[str],
                      page_moves: Mapping[str, tuple[str | None, str]]) -> set[str]:
    """The identities that still claim ``old_key`` once ``leaver`` has left it.

    ``stored``: ids the state says claim ``old_key``; ``page_moves``: for each id
    of the page, ``(key in state or None, key now)``.
    """
    staying = {sid for sid in stored if sid != leaver}
    for sid, (before, now) in page_moves.items():
        if sid == leaver:
            continue
        if before == old_key and now != old_key:
            staying.discard(sid)
        elif now == old_key:
            staying.add(sid)
    return staying
