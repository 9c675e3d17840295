"""The naive rival of the sync benchmarks: a search-then-write loop over plain zeep.

What rival plugins do: per record, ``Database_searchProfiles`` on the key then
``Database_createProfile`` or ``Profile_updateFields``; per order and order line,
``Profile_searchSubProfiles`` then ``Profile_createSubProfile`` or
``SubProfile_updateFields``; the same mapped values and the same field precedence
as our engine (docs/guarantees.md, "Identity and field precedence"), so its end
state must equal ours on every field both write.  ``bench/sync_throughput.py``
races it; ``bench/pipeline_sweep.py`` uses it as the independent reference end state.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import zeep
from _harness import (
    Engine,
    Result,
    Served,
    Snapshot,
    collection_keys,
    fake_copernica,
    target_mapping,
)

#: Ranks of a claim on a profile's fields (docs/guarantees.md): accounts win.
ACCOUNT, ACTIVITY = 2, 1


class NaiveSync:
    """A rival plugin's loop: search, then create or update, per record.

    ``concurrency`` > 1 writes each page's records grouped by profile key (so one
    person's writes stay in order) from that many threads, each with its own zeep
    client.  The field precedence is ours, decided in record order before writing:
    an account's data wins; among guests the newest order by ``date_created``
    (equal dates: the higher id); a record that loses writes only the key.
    """

    def __init__(self, copernica: Served, shop: Served, concurrency: int = 1) -> None:
        from copernica_sdk.sync.registry import load_connector

        #: customer id -> profile key, so a registered customer's orders land on the
        #: customer's profile whatever billing address they hold (as ours does; kept
        #: in memory, it costs no call).
        self.identities: dict[str, str] = {}
        #: profile key -> the claim whose fields it holds (rank, recency, record id).
        self.owners: dict[str, tuple[int, str, int]] = {}

        self.wsdl: str = copernica.info["wsdl_url"]
        self.local = threading.local()
        self.token: str = copernica.info["token"]
        self.concurrency = concurrency
        self.target = target_mapping(shop)
        source = {k: v for k, v in shop.info["source"].items() if k != "connector"}
        self.connector = load_connector("woocommerce")(source)
        self.skipped = 0

    def _call(self, operation: str, **parameters: Any) -> Any:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = zeep.Client(self.wsdl)
        return getattr(client.service, operation)(
            parameters={**parameters, "access_token": self.token})

    @staticmethod
    def _pairs(fields: Any) -> dict[str, Any]:
        return {"pair": [{"key": k, "value": v} for k, v in fields.items()]}

    @staticmethod
    def _requirement(field: str, value: str) -> dict[str, Any]:
        return {"requirement": [{"fieldname": field, "value": value, "operator": "="}]}

    def run(self) -> int:
        """Sync every record of every stream; returns the records read."""
        from copernica_sdk.sync.errors import MappingError

        database = self._call("Account_database", identifier=self.target.database).database.id
        collections = {name: self._call("Database_collection", id=database,
                                        identifier=name).collection.id
                       for name in collection_keys(self.target)}
        until = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = 0
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for stream in self.connector.streams():
                mapping = self.target.streams[stream.name]
                for page in stream.read(None, until):
                    groups: dict[str, list[Any]] = {}
                    for record in page:
                        records += 1
                        try:
                            mapped = mapping.apply(record)
                        except MappingError:
                            self.skipped += 1
                            continue
                        profile = self._precedence(stream, record,
                                                   self._identify(stream.name, mapped.profile))
                        groups.setdefault(profile.key, []).append((profile, mapped.subprofiles))
                    list(pool.map(lambda g: self._write(database, collections, g),
                                  groups.values()))
        return records

    def _write(self, database: int, collections: dict[str, int], group: list[Any]) -> None:
        for profile, subprofiles in group:
            profile_id = self._upsert_profile(database, profile)
            for sub in subprofiles:
                self._upsert_subprofile(profile_id, collections[sub.collection], sub)

    def _identify(self, stream: str, write: Any) -> Any:
        """Customers own identities; an order of a known customer goes to their profile."""
        if write.source_id is None:
            return write
        if stream == "customers":
            self.identities[write.source_id] = write.key
            return write
        key = self.identities.get(write.source_id, write.key)
        return replace(write, key=key, fields={**write.fields, write.key_field: key})

    def _precedence(self, stream: Any, record: Any, write: Any) -> Any:
        """The write itself if its record holds the key's fields, else only the key."""
        from copernica_sdk.sync.identity import normalise_recency

        account = stream.name == "customers" and write.source_id is not None
        recency = write.recency if write.recency is not None \
            else record.get(stream.replication_key)
        claim = (ACCOUNT if account else ACTIVITY, normalise_recency(recency),
                 int(record["id"]))
        if write.key not in self.owners or claim > self.owners[write.key]:
            self.owners[write.key] = claim
            return write
        return replace(write, fields={write.key_field: write.key})

    def _upsert_profile(self, database: int, write: Any) -> int:
        found = self._call("Database_searchProfiles", id=database,
                           requirements=self._requirement(write.key_field, write.key))
        hits = found.items.profile if found.items is not None else []
        if hits:
            self._call("Profile_updateFields", id=hits[0].id, fields=self._pairs(write.fields))
            return int(hits[0].id)
        created = self._call("Database_createProfile", id=database,
                             fields=self._pairs(write.fields))
        return int(created.profile.id)

    def _upsert_subprofile(self, profile: int, collection: int, write: Any) -> None:
        found = self._call("Profile_searchSubProfiles", id=profile,
                           collection={"id": collection},
                           requirements=self._requirement(write.key_field, write.key))
        hits = found.items.subprofile if found.items is not None else []
        if hits:
            self._call("SubProfile_updateFields", id=hits[0].id, fields=self._pairs(write.fields))
        else:
            self._call("Profile_createSubProfile", id=profile, collection={"id": collection},
                       fields=self._pairs(write.fields))

    def close(self) -> None:
        self.connector.close()


def run_naive(shop: Served, latency_ms: float, *, concurrency: int,
              seed: int = 1) -> tuple[Result, Snapshot, dict[str, int]]:
    """One naive sync into a fresh fake Copernica (schema created by our engine first,
    outside the counts); its result, the end-state snapshot and the calls by operation."""
    with fake_copernica(latency_ms, seed=seed) as copernica:
        engine = Engine(copernica, shop)  # only to create the same schema
        try:
            engine.create_schema()
        finally:
            engine.close()
        naive = NaiveSync(copernica, shop, concurrency)
        try:
            copernica.call("reset_calls")
            copernica.call("reset_connections")
            start = time.perf_counter()
            records = naive.run()
            seconds = time.perf_counter() - start
        finally:
            naive.close()
        calls = dict(copernica.call("calls"))
        writes: int = copernica.call("write_calls")
        connections: int = copernica.call("connections_opened")
        target = target_mapping(shop)
        snap = copernica.call("snapshot", target.database, target.profile_key,
                              collection_keys(target))
    name = "naive-seq" if concurrency == 1 else "naive-par"
    total = sum(calls.values())
    # The searches are its per-record reads, not set-up; only the database and
    # collection id lookups are (as ours' lookups are).
    setup = sum(n for op, n in calls.items() if op in ("Account_database", "Database_collection"))
    assert total - writes >= setup
    return (Result(name, records, total, seconds, concurrency, naive.skipped,
                   connections, setup), snap, calls)
