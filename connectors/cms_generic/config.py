"""The connector's nested settings — ``auth``, ``headers`` and ``streams`` — as
pydantic models of the one configuration model (:mod:`copernica_sdk.configuration`).

The framework's :class:`~copernica_sdk.sync.connector.ConfigField` types are
flat, so ``[source.auth]`` and ``[source.streams.NAME]`` arrive as plain dicts.
The :class:`Table` models below check their inner shape; :func:`parse_auth` and
:func:`parse_streams` collect *every* problem with its full key
(``source.streams.users.paginate.style: must be one of …``) and build the
frozen dataclasses the streams read.  Secret values never appear in messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from copernica_sdk.configuration import Table, problem, validate
from copernica_sdk.errors import ConfigError
from copernica_sdk.license_config import HTTP_URL
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
    "parse_source",
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


# ---------------------------------------------------------------------------
# The models of the TOML tables


def _path(text: str, *, one: bool = False) -> str:
    try:
        parse_path(text, one=one)
    except PathError as exc:
        raise problem(str(exc)) from None
    return text


def _one_path(text: str) -> str:
    """A path that names one value (a record's key or cursor): no ``[*]``."""
    return _path(text, one=True)


#: Text with a space and none of the path grammar's punctuation: a CSV header's own
#: spelling of a column ("Customer ID"), which the path grammar would refuse.
_SPACED_COLUMN = re.compile(r"[^.\[\]'\"$|{}]*\s[^.\[\]'\"$|{}]*")


def column_path(text: str) -> Path:
    """A CSV stream's key or cursor column: a column named as the header spells it
    (``Customer ID``), or a path (``['Customer ID']``, ``id``)."""
    text = text.strip()
    if _SPACED_COLUMN.fullmatch(text):
        return parse_path(f"['{text}']", one=True)
    return parse_path(text, one=True)


def _column(text: str) -> str:
    try:
        column_path(text)
    except PathError as exc:
        raise problem(str(exc)) from None
    return text


def _text_of(value: Any) -> str:
    """A scalar sent as text (HTTP params, headers, column names)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise problem("must be text or a number, got a " + ("list" if isinstance(value, list)
                                                        else "table"))


def _placeholders(value: str) -> str:
    stripped = value
    for placeholder in PLACEHOLDERS:
        stripped = stripped.replace(placeholder, "")
    if "{" in stripped or "}" in stripped:
        raise problem(f"unknown placeholder in {value!r} (known: {', '.join(PLACEHOLDERS)})")
    return value


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value \
            or not all(isinstance(v, str) and v.strip() for v in value):
        raise problem('must be a list of words, e.g. ["WAAR", "ja"]')
    return tuple(v.strip() for v in value)


def _file_paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise problem('must be a file path or glob (or a list of them), e.g. '
                  '"/exports/contacts-*.csv"')


def _field_paths(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise problem('must be a list of field paths, e.g. ["email"]')
    return tuple(_one_path(v.strip()) for v in value)


def _encoding(value: str) -> str:
    if value != "auto":
        try:
            "".encode(value)
        except LookupError:
            raise problem(f"unknown encoding {value!r} (auto, utf-8, cp1252, latin-1, …)"
                          ) from None
    return value


_PATH_TEXT = "a dotted path such as data or links.next.href"
PathText = Annotated[str, AfterValidator(_path)]
OnePathText = Annotated[str, AfterValidator(_one_path)]
Text = Annotated[Any, AfterValidator(_text_of)]
Words = Annotated[Any, AfterValidator(_words)]
OneChar = Annotated[str, Field(min_length=1, max_length=1)]


def _hint(text: str) -> Any:
    return {"hint": text}


class AuthTable(Table):
    """``[source.auth]``."""

    type: Literal["none", "basic", "bearer", "api_key"] = Field(
        "none", description=f"one of {', '.join(AUTH_TYPES)}")
    username: str | None = Field(None, validate_default=True, description="the user name as text")
    password: str | None = Field(None, validate_default=True, description="text",
                                 json_schema_extra={"secret": True}, repr=False)
    token: str | None = Field(None, validate_default=True, description="text",
                              json_schema_extra={"secret": True}, repr=False)
    name: str | None = Field(None, validate_default=True, description="text")
    key: str | None = Field(None, validate_default=True, description="text",
                            json_schema_extra={"secret": True}, repr=False)
    location: Literal["header", "query"] = Field("header", alias="in",
                                                 description="header or query")

    @field_validator("username", "password", "token", "name", "key")
    @classmethod
    def _required_for_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        needed = {"basic": {"username": "the user name",
                            "password": "the password (e.g. a WordPress application password)"},
                  "bearer": {"token": "the bearer token"},
                  "api_key": {"name": "the header or query parameter name, e.g. X-API-Key",
                              "key": "the API key"}}.get(info.data.get("type", "none"), {})
        if info.field_name in needed and not value:
            raise problem(f"required — {needed[info.field_name]}")
        return value


class PaginateTable(Table):
    """``[source.streams.NAME.paginate]`` (see :mod:`.paginators`)."""

    style: Literal["page_number", "offset", "cursor", "next_url", "link_header", "single"] = \
        Field("single", description=f"one of {', '.join(PAGINATION_STYLES)}")
    page_param: str = Field("page", description="a query parameter name as text")
    first_page: Annotated[int, Field(ge=0)] = Field(1, description="a whole number ≥ 0")
    page_size: Annotated[int, Field(ge=1)] | None = Field(
        None, validate_default=True, description="a whole number ≥ 1")
    size_param: str | None = Field(None, validate_default=True,
                                   description="a query parameter name as text")
    total_pages_header: str | None = Field(None, description="a header name as text")
    total_pages_path: PathText | None = Field(None, description=_PATH_TEXT)
    offset_param: str = Field("offset", description="a query parameter name as text")
    limit_param: str = Field("limit", description="a query parameter name as text")
    total_path: PathText | None = Field(None, description=_PATH_TEXT)
    cursor_path: PathText | None = Field(None, validate_default=True, description=_PATH_TEXT)
    cursor_param: str = Field("cursor", description="a query parameter name as text")
    next_url_path: PathText | None = Field(None, validate_default=True, description=_PATH_TEXT)
    max_pages: Annotated[int, Field(ge=1)] | None = Field(None, description="a whole number ≥ 1")

    @field_validator("page_size")
    @classmethod
    def _size_for_offset(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("style") == "offset":
            raise problem('required for style = "offset" — records per request, sent as '
                          "limit_param")
        return value

    @field_validator("size_param")
    @classmethod
    def _param_for_size(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("page_size") is not None \
                and info.data.get("style") != "offset":
            raise problem("required with page_size — the query parameter that carries it, "
                          "e.g. per_page")
        return value

    @field_validator("cursor_path", "next_url_path")
    @classmethod
    def _path_for_style(cls, value: str | None, info: ValidationInfo) -> str | None:
        style = {"cursor_path": "cursor", "next_url_path": "next_url"}[str(info.field_name)]
        if not value and info.data.get("style") == style:
            raise problem(f"required for style = \"{style}\" — {_PATH_TEXT}")
        return value

    def build(self, max_pages: int) -> PaginateConfig:
        return PaginateConfig(
            self.style, self.page_param, self.first_page, self.size_param, self.page_size,
            self.total_pages_header, _compiled(self.total_pages_path), self.offset_param,
            self.limit_param, _compiled(self.total_path), _compiled(self.cursor_path) or DOCUMENT,
            self.cursor_param, _compiled(self.next_url_path) or DOCUMENT, self.max_pages or max_pages)


class IncrementalTable(Table):
    """``incremental``: the stream's cursor and how the API filters on it."""

    cursor_field: OnePathText = Field(
        description=_PATH_TEXT, json_schema_extra=_hint(
            "the record field holding the last-modified time, e.g. attributes.changed"))
    lookback_seconds: Annotated[int, Field(ge=0)] = Field(0, description="a whole number ≥ 0")
    filter_params: dict[str, Annotated[Text, AfterValidator(_placeholders)]] = Field(
        default_factory=dict, description="a table of query parameters")
    sorted: bool = Field(False, description="true or false")

    def build(self) -> IncrementalConfig:
        return IncrementalConfig(self.cursor_field, parse_path(self.cursor_field, one=True),
                                 self.lookback_seconds, dict(self.filter_params), self.sorted)


class _StreamTable(Table):
    primary_key: OnePathText = Field(description=_PATH_TEXT, json_schema_extra=_hint(
        "the record field that identifies a record, e.g. id"))
    incremental: IncrementalTable | None = Field(None, description="a table")
    skip_if_missing: Annotated[Any, AfterValidator(_field_paths)] | None = Field(
        None, description='a list of field paths, e.g. ["email"]')

    @field_validator("incremental", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == {} else value

    def _skips(self) -> tuple[tuple[str, Path], ...]:
        return tuple((text, parse_path(text, one=True)) for text in self.skip_if_missing or ())


class HttpStreamTable(_StreamTable):
    """``[source.streams.NAME]`` of a REST/JSON API."""

    type: Literal["http"] = "http"
    path: str | None = Field(None, description="the endpoint as text, e.g. /wp-json/wp/v2/users")
    url: str | None = Field(None, validate_default=True, description="an http(s) URL")
    method: Annotated[str, AfterValidator(str.upper)] = Field("GET", description="GET or POST")
    # Free-form tables whose values may be credentials (STREAM_SECRET_KEYS): never shown.
    params: dict[str, Text] = Field(default_factory=dict, description="a table of parameters",
                                    json_schema_extra={"secret": True})
    headers: dict[str, Text] = Field(default_factory=dict, description="a table of headers",
                                     json_schema_extra={"secret": True})
    body: dict[str, Any] | None = Field(None, validate_default=True, description="a table",
                                        json_schema_extra={"secret": True})
    records: PathText | None = Field(None, description=_PATH_TEXT)
    paginate: PaginateTable = Field(default_factory=PaginateTable, description="a table")

    @field_validator("url")
    @classmethod
    def _an_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            if not value.startswith(("http://", "https://")):
                raise problem("must start with http:// or https://")
            return value
        if "path" in info.data and info.data["path"] is None:
            raise problem("required — the endpoint, e.g. /wp-json/wp/v2/users (or url = the "
                          "full address)", at="^path")
        if "path" in info.data and not (info.context or {}).get("base_url"):
            raise problem("needs source.base_url (or give the stream a full url)", at="^path")
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in METHODS:
            raise problem(f"must be one of {', '.join(METHODS)}, got {value!r}")
        return value

    @field_validator("body")
    @classmethod
    def _post_only(cls, value: dict[str, Any] | None, info: ValidationInfo
                   ) -> dict[str, Any] | None:
        if value and info.data.get("method", "GET") == "GET":
            raise problem('only for method = "POST"')
        return value

    def build(self, name: str, base_url: str | None, max_pages: int) -> HttpStreamConfig:
        url = self.url or f"{(base_url or '').rstrip('/')}/{(self.path or '').lstrip('/')}"
        return HttpStreamConfig(
            name=name, url=url, primary_key=self.primary_key,
            primary_key_path=parse_path(self.primary_key, one=True), method=self.method,
            params=dict(self.params), headers=dict(self.headers),
            body=dict(self.body) if self.body else None,
            records_path=_compiled(self.records) or DOCUMENT, paginate=self.paginate.build(max_pages),
            incremental=self.incremental.build() if self.incremental else None,
            skip_if_missing=self._skips())


class CsvStreamTable(_StreamTable):
    """``[source.streams.NAME]`` with ``type = "csv"``."""

    type: Literal["csv"]
    primary_key: Annotated[str, AfterValidator(_column)] = Field(
        description=_PATH_TEXT, json_schema_extra=_hint(
            "the column that identifies a row, e.g. id or Customer ID"))
    path: Annotated[Any, AfterValidator(_file_paths)] | None = Field(None, description="a path")
    paths: Annotated[Any, AfterValidator(_file_paths)] | None = Field(
        None, validate_default=True, description="a path")
    delimiter: OneChar = Field(",", description='one character, e.g. "," or ";"')
    quotechar: OneChar = Field('"', description="one character")
    encoding: Annotated[str, AfterValidator(_encoding)] = Field(
        "auto", description="an encoding name as text (auto, utf-8, cp1252, latin-1, …)")
    columns: dict[str, Text] = Field(default_factory=dict, description="a table of columns")
    # Locale (see ._formats): typed columns and how their values are written.
    types: dict[str, Literal["datetime", "date", "number", "bool"]] = Field(
        default_factory=dict, description=f"one of {', '.join(COLUMN_TYPES)}")
    date_format: Words | None = Field(None, description="a list of formats")
    decimal_comma: bool = Field(False, description="true or false")
    true_words: Words | None = Field(None, description="a list of words")
    false_words: Words | None = Field(None, validate_default=True, description="a list of words")
    null_values: Words | None = Field(None, description="a list of words")
    mark_missing_as_deleted: bool = Field(False, description="true or false")

    @field_validator("paths")
    @classmethod
    def _some_file(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("path") is None and "path" in info.data:
            raise problem('required — a file path or glob, e.g. "/exports/contacts-*.csv"',
                          at="^path")
        return value

    @field_validator("date_format")
    @classmethod
    def _percent_codes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for fmt in value or ():
            if "%" not in fmt:
                raise problem(f"{fmt!r} has no %-codes; write it like \"%d-%m-%Y %H:%M\" "
                              "(day-month-year hours:minutes)")
        return value

    @field_validator("false_words")
    @classmethod
    def _not_both(cls, value: tuple[str, ...] | None, info: ValidationInfo
                  ) -> tuple[str, ...] | None:
        true_words = info.data.get("true_words") or DEFAULT_TRUE_WORDS
        both = {w.casefold() for w in true_words} & \
            {w.casefold() for w in value or DEFAULT_FALSE_WORDS}
        if both:
            raise problem(f"{', '.join(sorted(both))} also in false_words", at="^true_words")
        return value

    @field_validator("incremental")
    @classmethod
    def _client_side(cls, value: IncrementalTable | None) -> IncrementalTable | None:
        if value is not None and value.filter_params:
            raise problem("CSV streams filter client-side only", at="filter_params")
        return value

    def build(self, name: str) -> CsvStreamConfig:
        return CsvStreamConfig(
            name, (*(self.path or ()), *(self.paths or ())), self.primary_key,
            column_path(self.primary_key), self.delimiter, self.quotechar, self.encoding,
            dict(self.columns), self.incremental.build() if self.incremental else None,
            dict(self.types),
            ValueFormats(self.date_format or (), self.decimal_comma,
                         self.true_words or DEFAULT_TRUE_WORDS,
                         self.false_words or DEFAULT_FALSE_WORDS),
            self.null_values or (), self.mark_missing_as_deleted, self._skips())


class SourceTables(Table):
    """The parts of ``[source]`` the flat :class:`ConfigField` spec cannot check."""

    model_config = ConfigDict(**{**Table.model_config, "extra": "ignore"})
    base_url: Annotated[str, Field(pattern=HTTP_URL)] | None = Field(
        None, description="an http(s) URL, e.g. https://cms.example.com")
    auth: AuthTable | None = Field(None, description='a table such as { type = "bearer", '
                                                     'token = "…" }')
    # Free-form: a value may be a credential (CREDENTIAL_NAMES), so none is ever shown.
    headers: dict[str, str] | None = Field(None, description="text",
                                           json_schema_extra={"secret": True})


def _compiled(text: str | None) -> Path | None:
    return parse_path(text) if text else None


# ---------------------------------------------------------------------------
# From the tables to the configs the streams read


def parse_source(cfg: Mapping[str, Any], problems: list[str]
                 ) -> tuple[AuthConfig, list[StreamConfig]]:
    """``base_url``, ``auth``, ``headers`` and ``streams`` of a (type-checked)
    ``[source]``; every problem is added to ``problems``."""
    given = {k: cfg.get(k) for k in ("base_url", "auth", "headers") if cfg.get(k) is not None}
    base_url = None
    auth = AuthConfig()
    try:
        tables = validate(SourceTables, given, "source")
        base_url = tables.base_url
        auth = _auth_config(tables.auth)
    except ConfigError as exc:
        problems += exc.problems
        base_url = given.get("base_url") if isinstance(given.get("base_url"), str) else None
    max_pages = cfg.get("max_pages")
    max_pages = max_pages if isinstance(max_pages, int) and max_pages >= 1 else 1000
    streams: list[StreamConfig] = []
    if isinstance(cfg.get("streams"), Mapping):
        streams = parse_streams(cfg["streams"], base_url=base_url, max_pages=max_pages,
                                problems=problems)
    return auth, streams


def _auth_config(table: AuthTable | None) -> AuthConfig:
    if table is None or table.type == "none":
        return AuthConfig()
    if table.type == "api_key":
        return AuthConfig(table.type, name=table.name or "", key=table.key or "",
                          location=table.location)
    return AuthConfig(table.type, username=table.username or "", password=table.password or "",
                      token=table.token or "")


def parse_auth(raw: Any, problems: list[str], prefix: str = "source.auth") -> AuthConfig:
    """``[source.auth]`` → :class:`AuthConfig` (``None`` → no auth)."""
    if raw is None:
        return AuthConfig()
    try:
        return _auth_config(validate(AuthTable, raw, prefix))
    except ConfigError as exc:
        problems += exc.problems
        return AuthConfig()


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
            problems.append(f"{key}: must be a table, got {type(table).__name__}")
            continue
        kind = table.get("type", "http")
        model: type[HttpStreamTable | CsvStreamTable]
        model = {"http": HttpStreamTable, "csv": CsvStreamTable}.get(kind)  # type: ignore[assignment]
        if model is None:
            problems.append(f"{key}.type: must be one of http, csv, got {kind!r}")
            continue
        try:
            stream = validate(model, table, key, context={"base_url": base_url})
        except ConfigError as exc:
            problems += exc.problems
            continue
        out.append(stream.build(name, base_url, max_pages) if isinstance(stream, HttpStreamTable)
                   else stream.build(name))
    return out
