"""HTTP streams built from configuration, on the framework's
:class:`~copernica_sdk.sync.rest.RestStream` (requests, retries, paging, listing
checks: the framework's; this module maps the config onto them).

Every record gets ``_cursor``: its cursor field normalised to
``YYYY-MM-DDTHH:MM:SS`` UTC, because the framework reads the replication value
from a top-level key and cursors often sit deeper (``attributes.changed``) or
come as epoch seconds.  A nested primary key is copied to ``_id`` likewise.
The source's own fields are left as they are, so mappings use the API's paths.

Incremental reads: with ``incremental.filter_params`` the start (bookmark minus
the lookbacks) is sent to the API; records before the start are dropped
client-side in every case, which also covers APIs that silently ignore the filter.
Streams that are not declared ``sorted`` get their bookmark promoted by the
framework once the stream completes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from copernica_sdk.sync import timestamps
from copernica_sdk.sync.connector import PageItem, Record, Rejected, Skipped, Stream
from copernica_sdk.sync.deep_json import UNREADABLE
from copernica_sdk.sync.rest import (
    HeaderLinkPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    RestClient,
    RestStream,
    SinglePagePaginator,
)

from .config import (
    CsvStreamConfig,
    HttpStreamConfig,
    IncrementalConfig,
    PaginateConfig,
    StreamConfig,
)

if TYPE_CHECKING:
    from .connector import GenericCmsConnector

__all__ = ["CURSOR_KEY", "ID_KEY", "ConfiguredStream", "HttpStream", "paginator"]

log = logging.getLogger("copernica_sync.connectors.cms_generic")

#: Top-level key holding the normalised cursor value of every record.
CURSOR_KEY = "_cursor"
#: Top-level key holding a nested primary key's value.
ID_KEY = "_id"


class ConfiguredStream(Stream):
    """A stream whose name, keys and sortedness come from its config (instance
    attributes: one class serves every configured stream)."""

    connector: GenericCmsConnector
    config: StreamConfig

    def __init__(self, connector: GenericCmsConnector, config: StreamConfig) -> None:
        # A nested primary key is copied to ID_KEY and a cursor to CURSOR_KEY (see
        # the module docstring): the framework reads top-level fields.
        nested = config.primary_key_path.top_key != config.primary_key
        cursor = isinstance(config, CsvStreamConfig) or config.incremental is not None
        super().__init__(
            connector, name=config.name,
            primary_key=ID_KEY if nested else config.primary_key,
            replication_key=CURSOR_KEY if cursor else None,
            is_sorted=bool(cursor and config.incremental is not None
                           and config.incremental.sorted))
        self.config = config

    def _start(self, start: str | None, inc: IncrementalConfig | None) -> str | None:
        """The framework's start moved back by the stream's own lookback."""
        if start is None or inc is None:
            return start
        begin = timestamps.to_utc(start)
        return timestamps.shift(begin, -inc.lookback_seconds) if inc.lookback_seconds else begin

    def _item(self, record: Record, where: str) -> PageItem:
        """One record as the page carries it: decorated (see :meth:`_decorate`),
        :class:`Skipped` when it lacks a ``skip_if_missing`` field, or
        :class:`Rejected` when its cursor value cannot be read."""
        if UNREADABLE in record:  # a stand-in for a record nested too deep to decode
            return Rejected(record, str(record[UNREADABLE]))
        problem = self._decorate(record, where)
        item = self._skip_missing(record)
        if problem is not None and item is record:
            return Rejected(record, problem)
        return item

    def _skip_missing(self, record: Record) -> PageItem:
        """``record``, or :class:`Skipped` when a ``skip_if_missing`` field is absent,
        null or blank (the reason names the field, so the counts say why)."""
        for name, path in self.config.skip_if_missing:
            value = path.get(record)
            if value is None or (isinstance(value, str) and not value.strip()):
                return Skipped(record, f"no {name} (skip_if_missing)")
        return record

    def _decorate(self, record: Record, where: str) -> str | None:
        """Add ``_cursor`` (and ``_id`` for nested keys) to one record; returns why its
        cursor value is unusable, if it is (a record without one is synced every run)."""
        cfg = self.config
        if cfg.primary_key_path.top_key != cfg.primary_key:
            record[ID_KEY] = cfg.primary_key_path.get(record)
        inc = cfg.incremental
        if inc is not None:
            raw = inc.cursor_path.get(record)
            if raw is None or raw == "":
                log.debug("%s: a record of %s has no %s; it is synced every run",
                          self.name, where, inc.cursor_field)
                return None
            try:
                record[CURSOR_KEY] = timestamps.to_utc(raw)
            except (ValueError, TypeError):
                shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."
                return (f"{self.name} record from {where}: {inc.cursor_field} = {shown} is not "
                        "a date/time, so the record cannot be placed in the incremental sync; "
                        "fix the value in the source")
        return None


class HttpStream(ConfiguredStream, RestStream):
    """Records of one REST/JSON listing: a :class:`RestStream` set up from its config."""

    config: HttpStreamConfig

    def __init__(self, connector: GenericCmsConnector, config: HttpStreamConfig,
                 client: RestClient) -> None:
        super().__init__(connector, config)
        self._client = client
        self.path = config.url
        self.method = config.method
        self.params = dict(config.params)
        self.headers = dict(config.headers)
        self.body = config.body
        self.records_path = config.records_path
        self.paginator = paginator(config.paginate)
        inc = config.incremental
        self.lookback_seconds = inc.lookback_seconds if inc is not None else 0

    @property
    def client(self) -> RestClient:
        """This stream's client (one per stream: each stream's address is checked)."""
        return self._client

    def request_params(self, start: str | None, until: str) -> dict[str, Any]:
        """The stream's params, and ``incremental.filter_params`` with ``{start}`` /
        ``{start_epoch}`` filled in (``start`` already moved back by the lookback)."""
        params = dict(self.params)
        inc = self.config.incremental
        if inc is not None and start is not None:
            for key, template in inc.filter_params.items():
                params[key] = (template.replace("{start}", start)
                               .replace("{start_epoch}", str(timestamps.epoch(start))))
        return params

    def parse_record(self, record: Record, where: str = "") -> PageItem:
        return self._item(record, where)

    def identity(self, record: Record) -> Any:
        """The record's primary key; None when it has none (it is dead-lettered
        later; the paginator tells such records apart by content)."""
        return self.config.primary_key_path.get(record)

    def order_key(self, record: Record) -> str | None:
        """The record's place in a sorted listing: its normalised cursor value."""
        inc = self.config.incremental
        if inc is None:
            return None
        try:
            return timestamps.to_utc(inc.cursor_path.get(record))
        except (ValueError, TypeError):
            return None


def paginator(cfg: PaginateConfig) -> Paginator:
    """``[source.streams.NAME.paginate]`` as the framework's paginator."""
    size, size_param = cfg.page_size, cfg.size_param
    if cfg.style == "page_number":
        return PageNumberPaginator(cfg.max_pages, base_page=cfg.first_page,
                                   page_param=cfg.page_param, page_size=size,
                                   size_param=size_param, total_path=cfg.total_pages_path,
                                   total_pages_header=cfg.total_pages_header)
    if cfg.style == "offset":
        return OffsetPaginator(cfg.max_pages, limit=size or 100, offset_param=cfg.offset_param,
                               limit_param=cfg.limit_param, total_path=cfg.total_path)
    if cfg.style == "cursor":
        return JSONResponseCursorPaginator(cfg.max_pages, cursor_path=cfg.cursor_path,
                                           cursor_param=cfg.cursor_param, page_size=size,
                                           size_param=size_param)
    if cfg.style == "next_url":
        return JSONLinkPaginator(cfg.max_pages, page_size=size, size_param=size_param,
                                 next_url_path=cfg.next_url_path)
    if cfg.style == "link_header":
        return HeaderLinkPaginator(cfg.max_pages, page_size=size, size_param=size_param)
    return SinglePagePaginator(cfg.max_pages)
