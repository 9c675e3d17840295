"""The job configuration file (``copernica-sync.toml``): load, interpolate, validate.

Shape::

    [copernica]                      # the Copernica account
    access_token = "${COPERNICA_ACCESS_TOKEN}"
    # auth = "token" | "bearer" | "login"; endpoint = "https://soap.copernica.com"

    [source]                         # where records come from
    connector = "woocommerce"
    url = "https://shop.example.com"
    consumer_key = "${WC_KEY}"
    consumer_secret = "${WC_SECRET}"

    [target]                         # mapping overrides (see copernica_sdk.sync.mapping)
    database = "Customers"

    [sync]
    concurrency = 8
    lookback_minutes = 5
    # state_path = "/var/lib/copernica-sync/shop.sqlite3"
    # state_url = "postgresql://sync:${PG_PASSWORD}@db.internal/copernica"  # shared state
    # schedule = "*/10 * * * *"      # cron syntax, for `copernica-sync scheduler`

A partner's file can hold many shops as ``[jobs.NAME]`` tables with the same
keys; top-level tables are shared defaults under every job.  ``${VAR}`` is
replaced by the environment variable; ``COPERNICA_SYNC__SECTION__KEY`` overrides
a key of every job (e.g. ``COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN``).  Every
problem is reported at once, each naming its key.

Validation is the one configuration model (:mod:`copernica_sdk.configuration`):
the file's shape, ``[copernica]``, ``[sync]`` and ``[license]`` are pydantic
models here, ``[source]`` the connector's (built from its ``ConfigField``s),
``[target]`` the mapping's.  The overrides are read by pydantic-settings'
environment source (nested delimiter ``__``) and put over *every* job's merged
tables before validation: one settings class per file cannot say this, because
job names are the file's own (``[jobs.NAME]``) and one variable applies to all.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from ..configuration import Table, kind_of, problem, problems_of, read_text_as, validate
from ..license_config import HTTP_URL, LicenseTable
from .errors import ConfigError
from .merge import merge_values

if TYPE_CHECKING:
    from .connector import Connector

#: How the loader finds a connector class by name (``registry.load_connector``).
ConnectorLoader = Callable[[str], "type[Connector]"]

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ENV_CONFIG",
    "SECTION_MODELS",
    "ConfigFile",
    "CopernicaSettings",
    "JobConfig",
    "SyncSettings",
    "load_config",
    "resolve_config_path",
]

DEFAULT_CONFIG_NAME = "copernica-sync.toml"
ENV_CONFIG = "COPERNICA_SYNC_CONFIG"
ENV_PREFIX = "COPERNICA_SYNC__"

SECTIONS = ("copernica", "source", "target", "sync", "license")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET: Any = {"secret": True}
_TOKEN_HINT = ("create an access token in Copernica (Admin → Access tokens) and set it here "
               "or in COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN")
Url = Annotated[str, Field(pattern=HTTP_URL)]


class CopernicaSettings(Table):
    """``[copernica]``: which account, and how to authenticate."""

    auth: Literal["token", "bearer", "login"] = Field(
        "token", description="token, bearer or login")
    access_token: str | None = Field(
        None, validate_default=True, json_schema_extra=_SECRET, repr=False,
        description='the access token as text, e.g. "${COPERNICA_ACCESS_TOKEN}"')
    endpoint: Url = Field("https://soap.copernica.com",
                          description="an http(s) URL such as https://soap.copernica.com")
    auth_endpoint: Url = Field(
        "https://authenticate.copernica.com",
        description="an http(s) URL such as https://authenticate.copernica.com")
    username: str | None = Field(None, description="the user name as text")
    password: str | None = Field(
        None, validate_default=True, json_schema_extra=_SECRET, repr=False,
        description='the password as text, e.g. "${COPERNICA_PASSWORD}"')
    account: str = Field("", description="the account name as text")
    timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        60.0, description="a number of seconds above 0, at most 3600")
    #: Seconds one whole SOAP call may take (connect, send, the complete answer).
    deadline: Annotated[float, Field(gt=0, le=86_400)] = Field(
        120.0, description="a number of seconds above 0, at most 86400 (a whole call's "
        "time limit)")
    wsdl: str | None = Field(None, description="a WSDL file path or URL as text")
    page_size: Annotated[int, Field(ge=1, le=10_000)] = Field(
        500, description="a whole number from 1 to 10000")

    @field_validator("access_token")
    @classmethod
    def _token_for_token_auth(cls, value: str | None, info: ValidationInfo) -> str | None:
        # validate_default: runs when the key is missing too, whatever else is wrong.
        if info.data.get("auth", "token") in ("token", "bearer") and not value:
            raise problem(f"required — {_TOKEN_HINT}")
        return value

    @field_validator("password")
    @classmethod
    def _login_needs_both(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("auth") == "login" and not (value and info.data.get("username")):
            raise problem('required when auth = "login"', at="^username/password")
        return value


class SyncSettings(Table):
    """``[sync]``: how the engine runs."""

    concurrency: Annotated[int, Field(ge=1, le=64)] = Field(
        8, description="a whole number from 1 to 64")
    lookback_minutes: Annotated[float, Field(ge=0, le=525_600)] = Field(
        5, description="a number of minutes from 0 to 525600 (a year)")
    state_path: str | None = Field(
        None, description='a file path as text, e.g. "/var/lib/copernica-sync/shop.sqlite3"')
    #: PostgreSQL for the shared state (scale-out); None: the SQLite ``state_path``.
    state_url: str | None = Field(
        None, json_schema_extra=_SECRET, repr=False,
        description='a PostgreSQL URL as text, e.g. '
                    '"postgresql://sync:${PG_PASSWORD}@db.internal/copernica"')
    #: When ``copernica-sync scheduler`` enqueues the job (cron syntax); None: never.
    schedule: str | None = Field(
        None, description='a cron expression as text (minute hour day month weekday), '
                          'e.g. "*/10 * * * *"')

    @field_validator("state_url")
    @classmethod
    def _postgres_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise problem("expected a PostgreSQL URL starting with postgresql:// (or leave it "
                          "out to keep the SQLite state_path)")
        if value is not None and info.data.get("state_path") is not None:
            raise problem("set either state_url (PostgreSQL) or state_path (SQLite), not both")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        fields = (value or "").split()
        if value is not None and (len(fields) != 5 or not all(
                re.fullmatch(r"[0-9A-Za-z*/,\-]+", f) for f in fields)):
            raise problem(f"{value!r} is not a cron expression; expected five fields (minute "
                          'hour day-of-month month day-of-week), e.g. "*/10 * * * *"')
        return value


#: The models of the job-level tables (``[source]`` is the connector's spec,
#: ``[target]`` the mapping's).
SECTION_MODELS: Mapping[str, type[Table]] = {
    "copernica": CopernicaSettings, "sync": SyncSettings, "license": LicenseTable}
#: Keys whose values are masked in ``config show`` and never logged.
SECRET_KEYS = frozenset(
    name for model in SECTION_MODELS.values() for name, info in model.model_fields.items()
    if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret"))


def _table(section: str) -> Any:
    return Field(default_factory=dict,
                 description=f"a table ([{section}] with key = value lines)")


class _Tables(Table):
    """The tables of a job, as written at the top of the file or under ``[jobs.NAME]``."""

    unknown_word = "table"
    copernica: dict[str, Any] = _table("copernica")
    source: dict[str, Any] = _table("source")
    target: dict[str, Any] = _table("target")
    sync: dict[str, Any] = _table("sync")
    license: dict[str, Any] = _table("license")


class _File(_Tables):
    """The whole file: shared tables and the ``[jobs.NAME]`` tables."""

    jobs: dict[str, _Tables] | None = Field(
        None, description="a table of [jobs.NAME] tables")


class _Job(Table):
    """One job's tables after merging, overrides and ``${VAR}`` interpolation."""

    copernica: CopernicaSettings
    source: dict[str, Any]
    target: dict[str, Any]
    sync: SyncSettings
    license: LicenseTable

    @field_validator("source")
    @classmethod
    def _names_a_connector(cls, value: dict[str, Any]) -> dict[str, Any]:
        connector = value.get("connector")
        if connector in (None, ""):
            raise problem("required (see `copernica-sync connectors list`)", at="connector")
        if not isinstance(connector, str):
            raise problem("expected a connector name as text (see `copernica-sync connectors "
                          f"list`), got {kind_of(connector)}", at="connector")
        return value


@dataclass(frozen=True)
class JobConfig:
    """One job: one source into one Copernica account."""

    name: str
    copernica: CopernicaSettings
    source: Mapping[str, Any]
    target: Mapping[str, Any]
    sync: SyncSettings
    license: Mapping[str, Any]
    #: ``"section.key"`` → where the value came from: the file, ``env:VAR`` or ``default``.
    origins: Mapping[str, str] = field(default_factory=dict)
    #: The values of the connector's declared secrets in ``source``, at any depth.
    source_secrets: tuple[str, ...] = ()
    #: Secret keys written in the file as literal values, not as ``${VAR}``.
    literal_secrets: tuple[str, ...] = ()

    @property
    def connector(self) -> str:
        return str(self.source.get("connector", ""))

    def secrets(self) -> list[str]:
        """Every secret value of the job (Copernica's and the source's), for redaction."""
        values = [self.copernica.access_token, self.copernica.password, *self.source_secrets]
        return [v for v in values if v]


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    jobs: Mapping[str, JobConfig]

    def job(self, name: str | None) -> JobConfig:
        """The named job, or the only one when ``name`` is None."""
        if name is None:
            if len(self.jobs) == 1:
                return next(iter(self.jobs.values()))
            raise ConfigError(f"{self.path} defines jobs {', '.join(self.jobs)}; "
                              "choose one with --job NAME or run them all with --all")
        if name not in self.jobs:
            raise ConfigError(f"--job: no job {name!r} in {self.path} "
                              f"(jobs: {', '.join(self.jobs)})")
        return self.jobs[name]


def resolve_config_path(path: str | os.PathLike[str] | None,
                        env: Mapping[str, str] = os.environ) -> Path:
    """``--config``, else ``$COPERNICA_SYNC_CONFIG``, else ``./copernica-sync.toml``."""
    if path is not None:
        return Path(path)
    return Path(env.get(ENV_CONFIG) or DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] = os.environ) -> ConfigFile:
    """Read and validate a config file; raise :class:`ConfigError` listing every problem."""
    file = Path(path)
    try:
        # utf-8-sig: editors on Windows (Notepad) start the file with a byte-order mark.
        raw = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file; create one with "
                          "`copernica-sync init`, or pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc}); check the path, its permissions "
                          "and that it is UTF-8 text") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        # ValueError: e.g. a whole number of more than 4,300 digits.
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{file}: not valid TOML for copernica-sync (arrays or tables "
                          "nested too deeply to read)") from None
    problems: list[str] = []
    try:
        shape = _File.model_validate(raw)
    except ValidationError as exc:
        problems += problems_of(exc, _File)
        # Go on with the tables that are tables, so every problem comes at once.
        shape = _File.model_construct(None, **{s: v for s, v in raw.items()
                                         if s in SECTIONS and isinstance(v, dict)})
    jobs_raw = raw.get("jobs")
    job_tables: dict[str, Any] = (jobs_raw if isinstance(jobs_raw, dict) else {}) \
        if "jobs" in raw else {}
    job_tables = job_tables or {"default": {}}
    shared = {s: getattr(shape, s, {}) for s in SECTIONS}
    # Only well-formed names reach pydantic-settings (it would fail on, e.g.,
    # COPERNICA_SYNC__COPERNICA=x as a whole table); the others are problems below.
    given = {var: value for var, value in env.items() if _is_override(var)}
    overrides: dict[str, Any] = {}
    if given:  # pydantic-settings is imported only when there is something to read
        from ._env_overrides import read_overrides

        overrides = read_overrides(given)
    jobs: dict[str, JobConfig] = {}
    connectors = _connector_loader()
    for name, table in job_tables.items():
        prefix = "" if "jobs" not in raw else f"jobs.{name}."
        if not isinstance(table, dict):
            continue  # reported above
        merged = {s: merge_values(shared[s], table.get(s, {})) for s in SECTIONS}
        origins: dict[str, str] = {}
        for section, values in merged.items():
            if not isinstance(values, dict):
                merged[section] = {}  # reported above
                continue
            for key in values:
                origins[f"{section}.{key}"] = str(file)
        literal = _literal_secrets(merged, prefix, connectors)
        _apply_env_overrides(merged, overrides, env, origins)
        merged = _interpolate(merged, env, prefix, problems, origins)
        job = _build_job(name, merged, prefix, problems, origins, env, connectors)
        if job is not None:
            jobs[name] = replace(job, literal_secrets=tuple(literal))
    problems += _env_problems(env) + _shared_state_paths(jobs)
    if problems:
        raise ConfigError(_one_per_key(problems))
    return ConfigFile(path=file, jobs=jobs)


def _one_per_key(problems: list[str]) -> list[str]:
    """The first problem of each key: an unset ${VAR} need not also say "required"."""
    seen: set[str] = set()
    out = []
    for line in problems:
        key = line.split(":", 1)[0]
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out


def _is_override(var: str) -> bool:
    """Whether ``var`` is named ``COPERNICA_SYNC__SECTION__KEY`` with a known SECTION."""
    if not var.startswith(ENV_PREFIX):
        return False
    parts = var[len(ENV_PREFIX):].lower().split("__")
    return len(parts) == 2 and parts[0] in SECTIONS and bool(parts[1])


def _env_problems(env: Mapping[str, str]) -> list[str]:
    """``COPERNICA_SYNC__…`` variables that name no setting (pydantic-settings ignores them)."""
    return [f"{var}: not a setting; overrides are named {ENV_PREFIX}SECTION__KEY with "
            f"SECTION one of {', '.join(s.upper() for s in SECTIONS)}"
            for var in env if var.startswith(ENV_PREFIX) and not _is_override(var)]


def _shared_state_paths(jobs: Mapping[str, JobConfig]) -> list[str]:
    """Two jobs in one state file would read each other's bookmarks and skip data.

    Paths are compared after ``~``, ``$VAR``, relative parts and symlinks are
    resolved, and a job without ``state_path`` counts with its default file.
    """
    from .state_files import resolve_state_path

    owners: dict[Path, str] = {}
    problems = []
    for name, job in jobs.items():
        if job.sync.state_url:
            continue  # a schema of its own per job name
        try:
            path = resolve_state_path(job.sync.state_path, name)
        except ConfigError:
            continue  # reported with the job's other problems
        if path in owners:
            where = "its default location" if not job.sync.state_path else str(path)
            problems.append(f"jobs.{name}.sync.state_path: the same file as job "
                            f"{owners[path]!r} ({where}); give every job its own state_path "
                            "(or leave it out: the default is per job)")
        owners.setdefault(path, name)
    return problems


def _connector_loader() -> ConnectorLoader:
    """``load_connector``, remembered for one :func:`load_config`: each job's connector
    is needed three times there, and every look-up scans the metadata of all
    installed packages (entry points).  A failed look-up is not remembered."""
    from .registry import load_connector  # the registry loads plugins: only when needed

    return functools.cache(load_connector)


def _literal_secrets(merged: Mapping[str, Any], prefix: str,
                     load_connector: ConnectorLoader) -> list[str]:
    """The secret keys the file itself holds as values (not ``${VAR}`` references)."""
    def literal(value: Any) -> bool:
        if isinstance(value, Mapping):
            return any(literal(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(literal(v) for v in value)
        return value not in (None, "") and not (isinstance(value, str) and _VAR.search(value))

    found = [f"{prefix}copernica.{key}" for key in sorted(SECRET_KEYS)
             if literal(merged["copernica"].get(key))]
    source = merged["source"]
    if isinstance(source.get("connector"), str) and source["connector"]:
        try:
            connector = load_connector(source["connector"])
        except ConfigError:
            return found  # an unknown connector is reported elsewhere
        found += [f"{prefix}source.{key}" for key, value in connector.secret_items(source)
                  if literal(value)]
    return found


def _apply_env_overrides(merged: dict[str, Any], overrides: Mapping[str, Any],
                         env: Mapping[str, str], origins: dict[str, str]) -> None:
    """Put the ``COPERNICA_SYNC__…`` values over the file's.  They are text: a key of
    ``[copernica]``, ``[sync]`` or ``[license]`` reads it as the number or boolean it
    is declared as; ``[source]`` settings are read by the connector's model, and a
    text setting keeps the text (COPERNICA_SYNC__TARGET__DATABASE=4 is "4")."""
    names = {var.upper(): var for var in env}
    for section, values in overrides.items():
        if section not in SECTIONS or not isinstance(values, dict):
            continue
        model = SECTION_MODELS.get(section)
        for key, value in values.items():
            if not isinstance(value, str):
                continue  # SECTION__KEY__MORE: reported by _env_problems
            info = model.model_fields.get(key) if model is not None else None
            merged.setdefault(section, {})[key] = (
                read_text_as(info.annotation, value) if info is not None else value)
            var = f"{ENV_PREFIX}{section}__{key}".upper()
            origins[f"{section}.{key}"] = f"env:{names.get(var, var)}"


def _interpolate(value: Any, env: Mapping[str, str], key: str, problems: list[str],
                 origins: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, f"{key}{k}." if isinstance(v, dict) else f"{key}{k}",
                                problems, origins) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, key, problems, origins) for v in value]
    if isinstance(value, str) and "${" in value:
        def replace(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in env:
                problems.append(f"{key}: environment variable {var} is not set")
                return ""
            return env[var]
        return _VAR.sub(replace, value)
    return value


def _source_problems(source: Mapping[str, Any], prefix: str,
                     load_connector: ConnectorLoader) -> list[str]:
    """The connector's own settings, checked with the rest so all problems come at once."""
    try:
        connector = load_connector(str(source["connector"]))
        connector.validate_config({k: v for k, v in source.items() if k != "connector"},
                                  prefix=f"{prefix}source")
    except ConfigError as exc:
        return [problem if problem.startswith(prefix) else f"{prefix}{problem}"
                for problem in exc.problems]
    return []


def _build_job(name: str, merged: dict[str, Any], prefix: str, problems: list[str],
               origins: dict[str, str], env: Mapping[str, str],
               load_connector: ConnectorLoader) -> JobConfig | None:
    count = len(problems)
    source = merged.get("source") or {}
    try:
        tables = validate(_Job, merged, prefix.rstrip("."))
    except ConfigError as exc:
        problems += exc.problems
        tables = None
    if isinstance(source.get("connector"), str) and source["connector"]:
        problems += _source_problems(source, prefix, load_connector)
    state_path = tables.sync.state_path if tables is not None else None
    if state_path:
        from .state_files import resolve_state_path

        try:
            state_path = str(resolve_state_path(state_path, name, env))
        except ConfigError as exc:
            problems += [f"{prefix}{problem}" for problem in exc.problems]
    if len(problems) > count or tables is None:
        return None
    connector_cls = None
    with suppress(ConfigError):  # an unknown connector is one of the problems above
        connector_cls = load_connector(str(source["connector"]))
    for key in ("auth", "endpoint", "timeout"):
        origins.setdefault(f"copernica.{key}", "default")
    return JobConfig(
        name=name,
        copernica=tables.copernica,
        source=source,
        target=merged.get("target") or {},
        sync=tables.sync.model_copy(update={"state_path": state_path}),
        license=tables.license.model_dump(exclude_unset=True),
        origins=origins,
        source_secrets=tuple(connector_cls.secret_values(source)) if connector_cls else (),
    )
