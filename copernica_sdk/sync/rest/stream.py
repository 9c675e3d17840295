"""``RestStream``: a stream over one REST listing, described instead of programmed.

A subclass says *what* to read; the framework does the requests, retries,
paging, listing checks and time zones::

    class Members(RestStream):
        name = "members"
        primary_key = "id"
        replication_key = "updated_at"
        is_sorted = True                     # the API returns members by updated_at
        path = "v1/members"
        records_path = "members"             # where the records sit in the answer
        paginator = JSONResponseCursorPaginator(cursor_path="next_cursor")
        incremental_param = "updated_since"  # the bookmark is sent as this parameter
        until_param = "updated_before"
        incremental_format = "iso_z"         # …as 2024-05-01T10:00:00Z

The connector gives the stream its :class:`~copernica_sdk.sync.rest.client.RestClient`
as ``connector.client`` (or the stream overrides :attr:`RestStream.client`).

What the framework does with each record: the replication value
(``replication_key``) is normalised to UTC ``YYYY-MM-DDTHH:MM:SS`` whatever
offset the source wrote (:func:`copernica_sdk.sync.timestamps.to_utc`; a value
that is not a time is left for the engine, which dead-letters the record naming
it); a record before ``start`` is dropped (an API that ignores its filter
parameter costs requests, not correctness); a record too deeply nested to
decode is yielded as ``Rejected``.  Hooks: :meth:`RestStream.request_params`,
:meth:`RestStream.parse_record`, :meth:`RestStream.records`,
:meth:`RestStream.identity`, :meth:`RestStream.order_key`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from ..connector import PageItem, Record, Rejected, Stream
from ..deep_json import UNREADABLE
from ..errors import SourceError
from ..paths import Path, as_path
from ..timestamps import format_for, shift, to_utc
from .client import RestClient
from .paginators import Page, Paginator, SinglePagePaginator, paginate

__all__ = ["RestStream"]

log = logging.getLogger("copernica_sdk.sync.rest")


class RestStream(Stream):
    """A :class:`~copernica_sdk.sync.connector.Stream` reading one REST listing.

    Settings (class attributes, or set on the instance in ``__init__``):

    - ``path``: the listing, relative to the client's ``base_url`` (or absolute);
    - ``params``: query parameters sent with every request;
    - ``records_path``: where the list of records sits in the answer (a
      :mod:`~copernica_sdk.sync.paths` path; ``""`` — the default — when the answer *is* the list);
    - ``paginator``: how the listing pages (default: one page);
    - ``incremental_param`` / ``until_param``: the query parameters that receive
      the start (bookmark minus lookback) and the end of the window, when the
      API can filter; formatted by ``incremental_format`` (``iso``, ``iso_z``,
      ``iso_offset``, ``epoch``, ``date`` or a ``strftime`` pattern, in UTC);
    - ``lookback_seconds``: the window starts this much before the framework's
      start (an API whose timestamps have a coarse resolution, or that saves
      changes late); the parameter and the client-side filter both use it;
    - ``headers`` and ``body`` (JSON, for ``method = "POST"``): sent with every
      request of the listing;
    - ``order_key``: for a sorted stream, the record's place in the listing's
      order, checked never to go backwards (default: the replication value,
      then the primary key).
    """

    read_ahead = True  # reading is all a read does: the next page may come early
    path: str = ""
    params: Mapping[str, Any] = {}
    records_path: str | Path = ""
    paginator: Paginator = SinglePagePaginator()
    incremental_param: str | None = None
    until_param: str | None = None
    incremental_format: str = "iso"
    method: str = "GET"
    lookback_seconds: float = 0
    headers: Mapping[str, str] = {}
    body: Any = None

    @property
    def client(self) -> RestClient:
        """The client requests go through: ``connector.client`` by default."""
        client = getattr(self.connector, "client", None)
        if not isinstance(client, RestClient):
            raise TypeError(f"{type(self.connector).__name__}.client must be a RestClient "
                            f"(or override {type(self).__name__}.client)")
        return client

    # ------------------------------------------------------------------ hooks

    def request_params(self, start: str | None, until: str) -> dict[str, Any]:
        """The query parameters of the listing's first request."""
        params = dict(self.params)
        if start is not None and self.incremental_param:
            params[self.incremental_param] = format_for(start, self.incremental_format)
        if self.until_param:
            params[self.until_param] = format_for(until, self.incremental_format)
        return params

    def records(self, response: Any, shown: str) -> list[Record]:
        """The records of one answer (at ``records_path``); a ``SourceError`` naming
        the request when they are not there or not a list of objects."""
        steps = as_path(self.records_path)
        found = steps.get(response)
        if found is None:
            if response in (None, [], {}):
                return []
            raise SourceError(f"{shown}: no records at {steps} in the answer")
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise SourceError(f"{shown}: {steps} is not a list of objects")
        return found

    def parse_record(self, record: Record, where: str = "") -> PageItem:
        """One record as the stream yields it: the replication value in UTC; a stand-in
        for a record too deep to decode becomes ``Rejected``.  ``where``: the
        request that served it, as messages show it."""
        if UNREADABLE in record:
            return Rejected(record, str(record[UNREADABLE]))
        key = self.replication_key
        if key is not None:
            value = record.get(key)
            if value not in (None, ""):
                # A value that is not a time stays: the engine dead-letters the
                # record, naming the field and the value.
                with contextlib.suppress(ValueError):
                    record[key] = to_utc(value)
        return record

    def order_key(self, record: Record) -> Any:
        """A sorted listing's order of ``record`` (None: no usable value)."""
        key = self.replication_key
        if key is None:
            return None
        try:
            moment = to_utc(record.get(key))
        except (ValueError, TypeError):
            return None
        # (time, key): ids of one second in the listing's order.  Keys of mixed
        # types do not compare; the checker then skips the record's order check.
        return (moment, record.get(self.primary_key))

    # ------------------------------------------------------------------- read

    def read(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        client = self.client
        begin = self.window_start(start)
        warned = False
        for page in paginate(self.paginator, self._fetch, client.url(self.path),
                             self.request_params(begin, until), show=client.show,
                             key=self.identity,
                             order=self.order_key if self.is_sorted else None,
                             listing=self.name):
            kept: list[PageItem] = []
            for record in page.records:
                item = self.parse_record(record, page.response.shown)
                if begin is not None and isinstance(item, dict):
                    value = item.get(self.replication_key or "")
                    if isinstance(value, str) and len(value) == 19 and value < begin:
                        # Synced by an earlier run: the API ignored (or rounded) the filter.
                        if not warned and self.incremental_param:
                            warned = True
                            log.warning("%s: %s answered records changed before %s=%s; the "
                                        "API seems to ignore that filter (they are left "
                                        "out, but every run reads them)", self.name,
                                        page.response.shown, self.incremental_param, begin)
                        continue
                kept.append(item)
            if kept:
                yield kept

    def window_start(self, start: str | None) -> str | None:
        """The start of the records to read: the framework's ``start`` in UTC, moved
        back by ``lookback_seconds``."""
        if start is None:
            return None
        begin = to_utc(start)
        return shift(begin, -self.lookback_seconds) if self.lookback_seconds else begin

    def identity(self, record: Record) -> Any:
        """The raw record's primary key, which the listing checks use to tell records
        apart (``None``: the record has none; its content is used)."""
        value = record.get(self.primary_key)
        return None if value is None else value

    def _fetch(self, url: str, params: Mapping[str, str]) -> Page:
        response = self.client.request(self.method, url, params, json=self.body,
                                       headers=self.headers)
        return Page(self.records(response.body, response.shown), response)

