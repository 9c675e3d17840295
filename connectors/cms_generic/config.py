"""Validation of the connector's nested settings: ``auth`` and ``streams``.

The framework's :class:`~copernica_sdk.sync.connector.ConfigField` types are
flat, so ``[source.auth]`` and ``[source.streams.NAME]`` arrive as plain dicts.
This module checks their inner shape and builds frozen dataclasses, collecting
*every* problem with its full key (``source.streams.users.paginate.style:
expected one of …``) so :class:`ConfigError` can report them all at once.
Secret values never appear in messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from copernica_sdk.sync.paths import DOCUMENT, Path, PathError, parse_path

from ._formats import COLUMN_TYPES, DEFAULT_FALSE_WORDS, DEFAULT_TRUE_WORDS, ValueFormats

__all__ = [
    "AUTH_SECRET_KEYS",
    "AUTH_TYPES",
    "CREDENTIAL_NAMES",
    "PAGINATION_STYLES",
    "STREAM_SECRET_KEYS",
    "AuthConfig",
    "CsvStreamConfig",
    "HttpStreamConfig",
    "IncrementalConfig",
    "PaginateConfig",
    "StreamConfig",
    "parse_auth",
    "parse_streams",
]

AUTH_TYPES = ("none", "basic", "bearer", "api_key")
#: The secret keys of ``[source.auth]``: masked and redacted everywhere.
AUTH_SECRET_KEYS = ("password", "token", "key")
#: Header and query-parameter names whose values are credentials (shell-style,
#: any case): ``headers``/``params`` are free-form, so an ``Authorization``,
#: ``X-API-Key`` or ``Cookie`` put there is masked and redacted like ``auth``.
CREDENTIAL_NAMES = ("*auth*", "*cookie*", "*token*", "*secret*", "*passw*", "*api?key*",
                    "*apikey*", "x-*key", "key", "*access?key*", "*session*", "*signature*",
                    "*credential*", "*nonce*")
#: The same inside each stream's own ``headers``, ``params`` and ``body``.
STREAM_SECRET_KEYS = tuple(f"*.{table}.{name}" for table in ("headers", "params", "body")
                           for name in CREDENTIAL_NAMES)
PAGINATION_STYLES = ("page_number", "offset", "cursor", "next_url", "link_header", "single")
METHODS = ("GET", "POST")
#: Placeholders allowed in ``incremental.filter_params`` values.
PLACEHOLDERS = ("{start}", "{start_epoch}")

@dataclass(frozen=True)
class AuthConfig:
    """How requests authenticate.  ``location`` is ``header`` or ``query`` (api_key)."""

    type: str = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    name: str = ""
    key: str = ""
    location: str = "header"

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.token, self.key) if s]


@dataclass(frozen=True)
class PaginateConfig:
    """One pagination style and its knobs (see :mod:`.paginators`)."""

    style: str = "single"
    page_param: str = "page"
    first_page: int = 1
    size_param: str | None = None
    page_size: int | None = None
    total_pages_header: str | None = None
    total_pages_path: Path | None = None
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_path: Path | None = None
    cursor_path: Path = DOCUMENT
    cursor_param: str = "cursor"
    next_url_path: Path = DOCUMENT
    max_pages: int = 1000


@dataclass(frozen=True)
class IncrementalConfig:
    """The cursor of a stream: where it sits in a record and how the API filters on it.

    Without ``filter_params`` the stream reads everything and filters client-side.
    """

    cursor_field: str
    cursor_path: Path
    lookback_seconds: int = 0
    filter_params: Mapping[str, str] = field(default_factory=dict)
    sorted: bool = False


@dataclass(frozen=True)
class HttpStreamConfig:
    """A REST/JSON stream."""

    name: str
    url: str
    primary_key: str
    primary_key_path: Path
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    records_path: Path = DOCUMENT
    paginate: PaginateConfig = field(default_factory=PaginateConfig)
    incremental: IncrementalConfig | None = None
    #: Records without a value at one of these (name, path) are skipped, counted.
    skip_if_missing: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class CsvStreamConfig:
    """A stream over CSV files (paths or globs)."""

    name: str
    paths: tuple[str, ...]
    primary_key: str
    primary_key_path: Path
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    incremental: IncrementalConfig | None = None
    # Locale (see ._formats): typed columns and how their values are written.
    types: Mapping[str, str] = field(default_factory=dict)
    formats: ValueFormats = field(default_factory=ValueFormats)
    null_values: tuple[str, ...] = ()
    #: Each run's files are a full export: rows gone since the last run are marked deleted.
    mark_missing_as_deleted: bool = False
    skip_if_missing: tuple[tuple[str, Path], ...] = ()


StreamConfig = HttpStreamConfig | CsvStreamConfig


class _Table:
    """Typed reads from one config table, recording problems under ``prefix``."""

    def __init__(self, raw: Mapping[str, Any], prefix: str, problems: list[str],
                 known: tuple[str, ...], *, secret: tuple[str, ...] = ()) -> None:
        self.raw, self.prefix, self.problems, self.secret = raw, prefix, problems, secret
        for key in raw:
            if key not in known:
                problems.append(f"{prefix}.{key}: unknown setting (known: {', '.join(known)})")

    def _bad(self, key: str, expected: str, value: Any) -> None:
        shown = "(hidden)" if key in self.secret else repr(value)
        self.problems.append(f"{self.prefix}.{key}: expected {expected}, got "
                             f"{type(value).__name__} {shown}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def text(self, key: str, default: str | None = None, *, required: bool = False,
            expected: str = "a string") -> str | None:
        value = self.raw.get(key)
        if value in (None, ""):
            if required:
                self.problems.append(f"{self.prefix}.{key}: required — {expected}")
            return default
        if not isinstance(value, str):
            self._bad(key, expected, value)
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw.get(key, default)
        if value not in choices:
            shown = "(hidden)" if key in self.secret else repr(value)
            self.problems.append(f"{self.prefix}.{key}: expected one of "
                                 f"{', '.join(choices)}; got {shown}")
            return default
        return str(value)

    def number(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self._bad(key, f"a whole number ≥ {minimum}", value)
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, "true or false", value)
            return default
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self._bad(key, "a table", value)
            return {}
        return value

    def str_table(self, key: str) -> dict[str, str]:
        """A table of scalars, sent as text (HTTP params/headers)."""
        out: dict[str, str] = {}
        for k, v in self.table(key).items():
            if isinstance(v, bool):
                out[str(k)] = "true" if v else "false"
            elif isinstance(v, str | int | float):
                out[str(k)] = str(v)
            else:
                self.problems.append(f"{self.prefix}.{key}.{k}: expected a string or number, "
                                     f"got {type(v).__name__}")
        return out

    def path(self, key: str, default: Path | None = None, *, required: bool = False) -> Path | None:
        text = self.text(key, required=required,
                        expected="a dotted path such as data or links.next.href")
        if text is None:
            return default
        try:
            return parse_path(text)
        except PathError as exc:
            self.problems.append(f"{self.prefix}.{key}: {exc}")
            return default


def parse_auth(raw: Any, problems: list[str], prefix: str = "source.auth") -> AuthConfig:
    """``[source.auth]`` → :class:`AuthConfig` (``None`` → no auth)."""
    if raw is None:
        return AuthConfig()
    if not isinstance(raw, Mapping):
        problems.append(f"{prefix}: expected a table such as {{ type = \"bearer\", token = \"…\" }}")
        return AuthConfig()
    t = _Table(raw, prefix, problems, ("type", "username", "password", "token", "name", "key", "in"),
               secret=AUTH_SECRET_KEYS)
    kind = t.choice("type", AUTH_TYPES, "none")
    if kind == "basic":
        return AuthConfig(kind, username=t.text("username", "", required=True,
                                               expected="the user name") or "",
                          password=t.text("password", "", required=True,
                                         expected="the password (e.g. a WordPress application "
                                                  "password)") or "")
    if kind == "bearer":
        return AuthConfig(kind, token=t.text("token", "", required=True,
                                            expected="the bearer token") or "")
    if kind == "api_key":
        return AuthConfig(kind,
                          name=t.text("name", "", required=True,
                                     expected="the header or query parameter name, e.g. X-API-Key")
                          or "",
                          key=t.text("key", "", required=True, expected="the API key") or "",
                          location=t.choice("in", ("header", "query"), "header"))
    return AuthConfig()


_HTTP_KEYS = ("type", "path", "url", "method", "params", "headers", "body", "records",
              "primary_key", "paginate", "incremental", "skip_if_missing")
_CSV_KEYS = ("type", "path", "paths", "delimiter", "quotechar", "encoding", "columns",
             "primary_key", "incremental",
             # locale settings (issue 18), parsed by _csv_formats
             "types", "date_format", "decimal_comma", "true_words", "false_words", "null_values",
             "mark_missing_as_deleted", "skip_if_missing")
_PAGINATE_KEYS = ("style", "page_param", "first_page", "size_param", "page_size",
                  "total_pages_header", "total_pages_path", "offset_param", "limit_param",
                  "total_path", "cursor_path", "cursor_param", "next_url_path", "max_pages")
_INCREMENTAL_KEYS = ("cursor_field", "lookback_seconds", "filter_params", "sorted")


def parse_streams(raw: Any, *, base_url: str | None, max_pages: int,
                  problems: list[str]) -> list[StreamConfig]:
    """``[source.streams]`` (stream name → table) → stream configs, in file order."""
    prefix = "source.streams"
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"{prefix}: expected a table of streams, e.g. [source.streams.users] "
                        "with path and primary_key")
        return []
    out: list[StreamConfig] = []
    for name, table in raw.items():
        key = f"{prefix}.{name}"
        if not isinstance(name, str) or not name.replace("_", "a").isalnum():
            problems.append(f"{key}: stream names are letters, digits and underscores")
            continue
        if not isinstance(table, Mapping):
            problems.append(f"{key}: expected a table")
            continue
        kind = table.get("type", "http")
        if kind == "csv":
            out.append(_csv_stream(name, table, key, problems))
        elif kind == "http":
            stream = _http_stream(name, table, key, base_url, max_pages, problems)
            if stream is not None:
                out.append(stream)
        else:
            problems.append(f"{key}.type: expected one of http, csv; got {kind!r}")
    return out


def _skip_if_missing(t: _Table) -> tuple[tuple[str, Path], ...]:
    """``skip_if_missing = ["email"]``: fields (dotted paths) a record must have."""
    raw = t.raw.get("skip_if_missing")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        t.problems.append(f"{t.prefix}.skip_if_missing: expected a list of field paths, "
                          "e.g. [\"email\"]")
        return ()
    out = []
    for text in raw:
        try:
            out.append((text.strip(), parse_path(text, one=True)))
        except PathError as exc:
            t.problems.append(f"{t.prefix}.skip_if_missing: {exc}")
    return tuple(out)


def _primary_key(t: _Table) -> tuple[str, Path]:
    text = t.text("primary_key", required=True,
                 expected="the record field that identifies a record, e.g. id") or "id"
    try:
        return text, parse_path(text, one=True)
    except PathError as exc:
        t.problems.append(f"{t.prefix}.primary_key: {exc}")
        return text, parse_path("id")


def _http_stream(name: str, raw: Mapping[str, Any], prefix: str, base_url: str | None,
                 max_pages: int, problems: list[str]) -> HttpStreamConfig | None:
    t = _Table(raw, prefix, problems, _HTTP_KEYS)
    path = t.text("path")
    url = t.text("url")
    if url is None and path is None:
        problems.append(f"{prefix}.path: required — the endpoint, e.g. /wp-json/wp/v2/users "
                        "(or url = the full address)")
    elif url is None:
        if not base_url:
            problems.append(f"{prefix}.path: needs source.base_url (or give the stream a full url)")
        else:
            url = f"{base_url.rstrip('/')}/{(path or '').lstrip('/')}"
    if url is not None and not url.startswith(("http://", "https://")):
        problems.append(f"{prefix}.url: must start with http:// or https://")
    method = (t.text("method", "GET") or "GET").upper()
    if method not in METHODS:
        problems.append(f"{prefix}.method: expected one of {', '.join(METHODS)}; got {method!r}")
    body = t.table("body") if t.has("body") else None
    primary_key, pk_path = _primary_key(t)
    stream = HttpStreamConfig(
        name=name,
        url=url or "",
        primary_key=primary_key,
        primary_key_path=pk_path,
        method=method,
        params=t.str_table("params"),
        headers=t.str_table("headers"),
        body=dict(body) if body is not None else None,
        records_path=t.path("records", DOCUMENT) or DOCUMENT,
        paginate=_paginate(t.table("paginate"), f"{prefix}.paginate", max_pages, problems),
        incremental=_incremental(t, problems),
        skip_if_missing=_skip_if_missing(t),
    )
    if body is not None and method == "GET":
        problems.append(f"{prefix}.body: only for method = \"POST\"")
    return stream


def _paginate(raw: Mapping[str, Any], prefix: str, max_pages: int,
              problems: list[str]) -> PaginateConfig:
    t = _Table(raw, prefix, problems, _PAGINATE_KEYS)
    style = t.choice("style", PAGINATION_STYLES, "single")
    cfg = PaginateConfig(
        style=style,
        page_param=t.text("page_param", "page") or "page",
        first_page=t.number("first_page", 1) or 0,
        size_param=t.text("size_param"),
        page_size=t.number("page_size", None, minimum=1),
        total_pages_header=t.text("total_pages_header"),
        total_pages_path=t.path("total_pages_path"),
        offset_param=t.text("offset_param", "offset") or "offset",
        limit_param=t.text("limit_param", "limit") or "limit",
        total_path=t.path("total_path"),
        cursor_path=t.path("cursor_path", DOCUMENT, required=style == "cursor") or DOCUMENT,
        cursor_param=t.text("cursor_param", "cursor") or "cursor",
        next_url_path=t.path("next_url_path", DOCUMENT,
                             required=style == "next_url") or DOCUMENT,
        max_pages=t.number("max_pages", max_pages, minimum=1) or max_pages,
    )
    if style == "offset" and cfg.page_size is None:
        problems.append(f"{prefix}.page_size: required for style = \"offset\" — records per "
                        "request, sent as limit_param")
    if cfg.page_size is not None and style != "offset" and cfg.size_param is None:
        problems.append(f"{prefix}.size_param: required with page_size — the query parameter "
                        "that carries it, e.g. per_page")
    return cfg


def _incremental(t: _Table, problems: list[str]) -> IncrementalConfig | None:
    if not t.has("incremental"):
        return None
    prefix = f"{t.prefix}.incremental"
    inc = _Table(t.table("incremental"), prefix, problems, _INCREMENTAL_KEYS)
    if not inc.raw:
        return None
    cursor = inc.text("cursor_field", required=True,
                     expected="the record field holding the last-modified time, "
                              "e.g. attributes.changed") or ""
    try:
        steps = parse_path(cursor, one=True) if cursor else DOCUMENT
    except PathError as exc:
        problems.append(f"{prefix}.cursor_field: {exc}")
        steps = DOCUMENT
    filters = inc.str_table("filter_params")
    for k, v in filters.items():
        stripped = v
        for placeholder in PLACEHOLDERS:
            stripped = stripped.replace(placeholder, "")
        if "{" in stripped or "}" in stripped:
            problems.append(f"{prefix}.filter_params.{k}: unknown placeholder in {v!r} "
                            f"(known: {', '.join(PLACEHOLDERS)})")
    return IncrementalConfig(cursor, steps, inc.number("lookback_seconds", 0) or 0, filters,
                             inc.flag("sorted", False))


def _csv_stream(name: str, raw: Mapping[str, Any], prefix: str,
                problems: list[str]) -> CsvStreamConfig:
    t = _Table(raw, prefix, problems, _CSV_KEYS)
    paths: list[str] = []
    for key in ("path", "paths"):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value:
            paths.append(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            paths.extend(value)
        else:
            problems.append(f"{prefix}.{key}: expected a file path or glob (or a list of them), "
                            "e.g. \"/exports/contacts-*.csv\"")
    if not paths and "path" not in raw and "paths" not in raw:
        problems.append(f"{prefix}.path: required — a file path or glob, e.g. "
                        "\"/exports/contacts-*.csv\"")
    delimiter = t.text("delimiter", ",") or ","
    if len(delimiter) != 1:
        problems.append(f"{prefix}.delimiter: expected one character, e.g. \",\" or \";\"")
    quotechar = t.text("quotechar", '"') or '"'
    if len(quotechar) != 1:
        problems.append(f"{prefix}.quotechar: expected one character")
    encoding = t.text("encoding", "auto") or "auto"
    if encoding != "auto":
        try:
            "".encode(encoding)
        except LookupError:
            problems.append(f"{prefix}.encoding: unknown encoding {encoding!r} (auto, utf-8, "
                            "cp1252, latin-1, …)")
            encoding = "auto"
    primary_key, pk_path = _primary_key(t)
    inc = _incremental(t, problems)
    if inc is not None and inc.filter_params:
        problems.append(f"{prefix}.incremental.filter_params: CSV streams filter client-side only")
    types, formats, nulls = _csv_formats(t)
    return CsvStreamConfig(name, tuple(paths), primary_key, pk_path, delimiter[:1], quotechar[:1],
                           encoding, t.str_table("columns"), inc, types, formats, nulls,
                           t.flag("mark_missing_as_deleted", False), _skip_if_missing(t))


def _csv_formats(t: _Table) -> tuple[dict[str, str], ValueFormats, tuple[str, ...]]:
    """``types``, ``date_format``, ``decimal_comma``, ``true_words``/``false_words``,
    ``null_values``."""
    types: dict[str, str] = {}
    for column, kind in t.table("types").items():
        if kind not in COLUMN_TYPES:
            t.problems.append(f"{t.prefix}.types.{column}: expected one of "
                              f"{', '.join(COLUMN_TYPES)}; got {kind!r}")
        else:
            types[str(column)] = str(kind)

    def words(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = t.raw.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value \
                or not all(isinstance(v, str) and v.strip() for v in value):
            t.problems.append(f"{t.prefix}.{key}: expected a list of words, e.g. "
                              "[\"WAAR\", \"ja\"]")
            return default
        return tuple(v.strip() for v in value)

    date_formats = words("date_format", ())
    for fmt in date_formats:
        if "%" not in fmt:
            t.problems.append(f"{t.prefix}.date_format: {fmt!r} has no %-codes; write it like "
                              "\"%d-%m-%Y %H:%M\" (day-month-year hours:minutes)")
    true_words = words("true_words", DEFAULT_TRUE_WORDS)
    false_words = words("false_words", DEFAULT_FALSE_WORDS)
    both = {w.casefold() for w in true_words} & {w.casefold() for w in false_words}
    if both:
        t.problems.append(f"{t.prefix}.true_words: {', '.join(sorted(both))} also in false_words")
    return types, ValueFormats(date_formats, t.flag("decimal_comma", False), true_words,
                               false_words), words("null_values", ())
