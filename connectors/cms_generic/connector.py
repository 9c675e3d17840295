"""``GenericCmsConnector``: any REST/JSON API or CSV export, by configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import platformdirs

from copernica_sdk import deadline as _deadline
from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync.connector import ConfigField, Connector, Stream
from copernica_sdk.sync.errors import ConfigError, SourceError
from copernica_sdk.sync.rest import DEFAULT_SOURCE_RETRY

from .client import USER_AGENT, CmsClient, authenticator
from .config import (
    AUTH_SECRET_KEYS,
    CREDENTIAL_NAMES,
    STREAM_SECRET_KEYS,
    AuthConfig,
    CsvStreamConfig,
    HttpStreamConfig,
    parse_source,
)
from .csv_source import CsvStream, Ledger
from .streams import HttpStream

__all__ = ["GenericCmsConnector"]


class GenericCmsConnector(Connector):
    """Users/contacts (and orders) of any CMS with a REST/JSON API or CSV exports.

    Streams are declared under ``[source.streams.NAME]``; see
    ``docs/connectors/cms_generic.md`` and the presets in
    ``connectors/cms_generic/presets/``.  ``default_mapping()`` is empty: each
    stream's Copernica mapping goes in ``[target.streams.NAME]``.
    """

    name = "cms_generic"
    description = "Any CMS by configuration: REST/JSON APIs (6 pagination styles) and CSV exports"
    config_spec: ClassVar[tuple[ConfigField, ...]] = (
        ConfigField("streams", "dict",
                    description="the streams: [source.streams.NAME] tables with path, "
                                "primary_key, paginate, incremental (or type = \"csv\")",
                    secret_keys=STREAM_SECRET_KEYS),
        ConfigField("base_url", required=False,
                    description="the site's address, e.g. https://cms.example.com"),
        ConfigField("auth", "dict", required=False,
                    description="{ type = none|basic|bearer|api_key, … }",
                    secret_keys=AUTH_SECRET_KEYS),
        ConfigField("headers", "dict", required=False, default=None,
                    description="headers sent with every request",
                    secret_keys=CREDENTIAL_NAMES),
        ConfigField("timeout", "int", default=60, minimum=1, description="read timeout per request, seconds"),
        ConfigField("deadline", "int", default=120, minimum=1,
                    description="most seconds one whole request may take (a site that trickles "
                                "its answer is cut off; the retries then decide)"),
        ConfigField("max_pages", "int", default=1000, minimum=1,
                    description="most pages per listing (a stream may override it)"),
        ConfigField("retry_attempts", "int", default=5, minimum=1,
                    description="attempts per request on 429/5xx/timeouts"),
        ConfigField("verify_tls", "bool", default=True,
                    description="verify the site's TLS certificate"),
        ConfigField("ledger_path", required=False,
                    description="JSON file of older releases remembering processed CSV "
                                "files, taken over once into the stream state; the "
                                "mark_missing_as_deleted snapshot is kept beside it (default: "
                                "in the user state directory, one per set of CSV streams)"),
    )

    @classmethod
    def validate_config(cls, config: Mapping[str, Any], *, prefix: str = "source") -> dict[str, Any]:
        """The flat settings (framework) plus the inner shape of ``auth``,
        ``headers`` and ``streams``, every problem in one :class:`ConfigError`."""
        problems: list[str] = []
        try:
            out = super().validate_config(config, prefix=prefix)
        except ConfigError as exc:
            problems.extend(exc.problems)
            out = {f.name: config.get(f.name, f.default) for f in cls.config_spec}
        cls._nested(out, problems)
        if problems:
            raise ConfigError(problems)
        return out

    @staticmethod
    def _nested(cfg: Mapping[str, Any], problems: list[str]
                ) -> tuple[AuthConfig, list[HttpStreamConfig | CsvStreamConfig]]:
        return parse_source(cfg, problems)

    def __init__(self, config: Mapping[str, Any], *, policy: RetryPolicy | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.auth, self.stream_configs = self._nested(cfg, [])
        self.ledger = Ledger(Path(cfg["ledger_path"]).expanduser() if cfg.get("ledger_path")
                             else _default_ledger(self.stream_configs))
        # One session (pooled connections) and one client per stream: each client
        # checks its own address (https unless loopback, when credentials are sent).
        self._session = _deadline.new_session()
        retry = (policy or DEFAULT_SOURCE_RETRY).with_(max_attempts=cfg["retry_attempts"])
        self._streams: list[Stream] = []
        for sc in self.stream_configs:
            if isinstance(sc, HttpStreamConfig):
                client = CmsClient(
                    sc.url, auth=authenticator(self.auth), name="the site",
                    headers=cfg.get("headers") or {}, timeout=cfg["timeout"],
                    deadline=cfg["deadline"], retry=retry, https_only=False,
                    verify=cfg["verify_tls"], user_agent=USER_AGENT,
                    setting=f"source.streams.{sc.name}.url (or source.base_url)",
                    session=self._session)
                self._streams.append(HttpStream(self, sc, client))
            else:
                self._streams.append(CsvStream(self, sc))

    def check(self) -> None:
        """Fetch the first page of every HTTP stream and list every CSV stream's files."""
        for stream in self._streams:
            if isinstance(stream, HttpStream):
                cfg = stream.config
                # First page only: proves reachability, auth and the record path.
                stream._fetch(cfg.url, {**cfg.params})
            elif isinstance(stream, CsvStream) and not stream.files():
                raise SourceError(f"{stream.name}: no file matches "
                                  f"{', '.join(stream.config.paths)}")

    @classmethod
    def presets(cls) -> Mapping[str, str]:
        """``wordpress``, ``drupal`` and ``csv``: the files in ``presets/``."""
        folder = resources.files(__package__ or "copernica_sync.connectors.cms_generic") / "presets"
        return {entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
                for entry in sorted(folder.iterdir(), key=lambda e: e.name)
                if entry.name.endswith(".toml")}

    def stale_payload(self, stream: str, payload: Mapping[str, Any]) -> str | None:
        """A CSV row's dead letter is stale when its file changed (or it could not be
        read at all): a run reads the file again."""
        found = next((s for s in self._streams if s.name == stream), None)
        return found.stale_payload(payload) if isinstance(found, CsvStream) else None

    def streams(self) -> Sequence[Stream]:
        """The streams in the order of the config file."""
        return list(self._streams)

    def default_mapping(self) -> Mapping[str, Any]:
        """Empty: a generic source has no known fields, so the job's ``[target]``
        maps every stream (the presets ship one)."""
        return {}

    def close(self) -> None:
        self._session.close()


def _default_ledger(streams: Sequence[object]) -> Path:
    """One ledger per set of CSV sources, in the user's state directory."""
    paths = sorted(p for s in streams if isinstance(s, CsvStreamConfig) for p in s.paths)
    digest = hashlib.sha256(json.dumps(paths).encode()).hexdigest()[:16]
    return platformdirs.user_state_path("copernica-sync") / "cms_generic" / f"ledger-{digest}.json"
