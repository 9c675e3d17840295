"""HTTP streams built from configuration.

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
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from copernica_sdk.sync.connector import PageItem, Record, Rejected, Skipped, Stream
from copernica_sdk.sync.deep_json import UNREADABLE
from copernica_sdk.sync.errors import SourceAuthError, SourceError

from . import _time
from .config import CsvStreamConfig, HttpStreamConfig, IncrementalConfig, StreamConfig
from .paginators import Page, paginate

if TYPE_CHECKING:
    from .connector import GenericCmsConnector

__all__ = ["CURSOR_KEY", "ID_KEY", "ConfiguredStream", "HttpStream"]

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
        begin = _time.normalize(start)
        return _time.shift(begin, -inc.lookback_seconds) if inc.lookback_seconds else begin

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
                record[CURSOR_KEY] = _time.normalize(raw)
            except (ValueError, OverflowError, OSError):
                shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."
                return (f"{self.name} record from {where}: {inc.cursor_field} = {shown} is not "
                        "a date/time, so the record cannot be placed in the incremental sync; "
                        "fix the value in the source")
        return None


class HttpStream(ConfiguredStream):
    """Records of one REST/JSON listing."""

    config: HttpStreamConfig

    def read(self, start: str | None, until: str) -> Iterator[list[PageItem]]:
        cfg = self.config
        inc = cfg.incremental
        begin = self._start(start, inc)
        params = dict(cfg.params)
        if inc is not None and begin is not None:
            for key, template in inc.filter_params.items():
                params[key] = (template.replace("{start}", begin)
                               .replace("{start_epoch}", str(_time.epoch(begin))))
        client = self.connector.client
        for page in paginate(self._fetch, cfg.url, params, cfg.paginate, client.show,
                             key=self._identity, order=self._order if self.is_sorted else None,
                             listing=self.name):
            kept: list[PageItem] = []
            for record in page.records:
                item = self._item(record, page.response.shown)
                cursor = record.get(CURSOR_KEY)
                if begin is not None and isinstance(cursor, str) and cursor < begin:
                    continue
                kept.append(item)
            if kept:
                yield kept

    def _identity(self, record: Record) -> Any:
        """The record's primary key; None when it has none (it is dead-lettered
        later; the paginator tells such records apart by content)."""
        return self.config.primary_key_path.get(record)

    def _order(self, record: Record) -> str | None:
        """The record's place in a sorted listing: its normalised cursor value."""
        inc = self.config.incremental
        if inc is None:
            return None
        try:
            return _time.normalize(inc.cursor_path.get(record))
        except (ValueError, OverflowError, OSError, TypeError):
            return None

    def _fetch(self, url: str, params: Mapping[str, str]) -> Page:
        cfg = self.config
        try:
            response = self.connector.client.request_json(
                cfg.method, url, params, body=cfg.body, headers=cfg.headers)
        except SourceAuthError as exc:
            if self.connector.auth.type == "basic" and urlsplit(url).scheme == "http":
                # WordPress ignores application passwords unless the site is on HTTPS
                # (or WP_ENVIRONMENT_TYPE is local): the refusal is about the scheme.
                raise SourceAuthError(
                    f"{exc}. The address is plain http: WordPress accepts application "
                    "passwords only over HTTPS — use https:// in source.base_url (for a "
                    "development site: define WP_ENVIRONMENT_TYPE as 'local' in "
                    "wp-config.php)") from None
            raise
        found = cfg.records_path.get(response.body)
        if found is None:
            if response.body in (None, [], {}):
                return Page([], response)
            raise SourceError(f"{response.shown}: no records at "
                              f"{cfg.records_path} in the answer (check records)")
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise SourceError(f"{response.shown}: {cfg.records_path} is not a list "
                              "of objects (check records)")
        return Page(found, response)

