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
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .connector import show_number
from .errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ENV_CONFIG",
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



@dataclass(frozen=True)
class Setting:
    """One key of ``[copernica]``, ``[sync]`` or ``[license]``: its kind and limits.

    ``kind``: ``text``, ``url`` (http/https), ``number`` (finite), ``count``
    (whole number) or ``choice``.  Values from ``COPERNICA_SYNC__…`` overrides
    arrive as text and are read as numbers where a number is due; in the file a
    number must be written as one.
    """

    kind: str
    expected: str
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False  # the minimum itself is not allowed
    choices: tuple[str, ...] = ()
    secret: bool = False


def _text(expected: str, *, secret: bool = False) -> Setting:
    return Setting("text", expected, secret=secret)


#: Every key of the job-level tables (``[source]`` is the connector's spec,
#: ``[target]`` the mapping's).
SETTINGS: Mapping[str, Mapping[str, Setting]] = {
    "copernica": {
        "auth": Setting("choice", "token, bearer or login", choices=("token", "bearer", "login")),
        "access_token": _text('the access token as text, e.g. "${COPERNICA_ACCESS_TOKEN}"',
                              secret=True),
        "endpoint": Setting("url", "an http(s) URL such as https://soap.copernica.com"),
        "auth_endpoint": Setting("url",
                                 "an http(s) URL such as https://authenticate.copernica.com"),
        "username": _text("the user name as text"),
        "password": _text('the password as text, e.g. "${COPERNICA_PASSWORD}"', secret=True),
        "account": _text("the account name as text"),
        "timeout": Setting("number", "a number of seconds above 0, at most 3600",
                           minimum=0, maximum=3600, above_minimum=True),
        "deadline": Setting("number", "a number of seconds above 0, at most 86400 (a whole "
                            "call's time limit)", minimum=0, maximum=86_400, above_minimum=True),
        "wsdl": _text("a WSDL file path or URL as text"),
        "page_size": Setting("count", "a whole number from 1 to 10000", minimum=1, maximum=10_000),
    },
    "sync": {
        "concurrency": Setting("count", "a whole number from 1 to 64", minimum=1, maximum=64),
        "lookback_minutes": Setting("number", "a number of minutes from 0 to 525600 (a year)",
                                    minimum=0, maximum=525_600),
        "state_path": _text("a file path as text, e.g. \"/var/lib/copernica-sync/shop.sqlite3\""),
        "state_url": _text('a PostgreSQL URL as text, e.g. '
                           '"postgresql://sync:${PG_PASSWORD}@db.internal/copernica"', secret=True),
        "schedule": _text('a cron expression as text (minute hour day month weekday), '
                          'e.g. "*/10 * * * *"'),
    },
    "license": {
        "mode": Setting("choice", "observe, warn or enforce",
                        choices=("observe", "warn", "enforce")),
        "file": _text("a license file path as text"),
        "shop_url": _text("the shop's URL as text"),
        "trial_days": Setting("count", "a whole number of days from 0 to 3650",
                              minimum=0, maximum=3650),
        "export_dir": _text("a directory path as text"),
        "collector_url": Setting("url", "an http(s) URL"),
    },
}
_COPERNICA_KEYS = set(SETTINGS["copernica"])
_SYNC_KEYS = set(SETTINGS["sync"])
#: Keys whose values are masked in ``config show`` and never logged.
SECRET_KEYS = frozenset(k for table in SETTINGS.values() for k, s in table.items() if s.secret)


@dataclass(frozen=True)
class CopernicaSettings:
    """``[copernica]``: which account, and how to authenticate."""

    auth: str = "token"
    access_token: str | None = None
    endpoint: str = "https://soap.copernica.com"
    auth_endpoint: str = "https://authenticate.copernica.com"
    username: str | None = None
    password: str | None = None
    account: str = ""
    timeout: float = 60.0
    #: Seconds one whole SOAP call may take (connect, send, the complete answer).
    deadline: float = 120.0
    wsdl: str | None = None
    page_size: int = 500


@dataclass(frozen=True)
class SyncSettings:
    """``[sync]``: how the engine runs."""

    concurrency: int = 8
    lookback_minutes: float = 5
    state_path: str | None = None
    #: PostgreSQL for the shared state (scale-out); None: the SQLite ``state_path``.
    state_url: str | None = None
    #: When ``copernica-sync scheduler`` enqueues the job (cron syntax); None: never.
    schedule: str | None = None


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
    for key in raw:
        if key not in (*SECTIONS, "jobs"):
            problems.append(f"{key}: unknown table (expected {', '.join(SECTIONS)} or jobs)")
    shared = {s: raw.get(s, {}) for s in SECTIONS}
    for section, values in shared.items():
        if not isinstance(values, dict):
            problems.append(f"{section}: expected a table ([{section}] with key = value "
                            f"lines), got {type(values).__name__}")
            shared[section] = {}
    job_tables: dict[str, Any] = raw.get("jobs") or {"default": {}}
    if not isinstance(job_tables, dict):
        problems.append("jobs: must be a table of [jobs.NAME] tables")
        job_tables = {}
    jobs: dict[str, JobConfig] = {}
    for name, table in job_tables.items():
        prefix = "" if "jobs" not in raw else f"jobs.{name}."
        if not isinstance(table, dict):
            problems.append(f"{prefix.rstrip('.')}: must be a table")
            continue
        for key in table:
            if key not in SECTIONS:
                problems.append(f"{prefix}{key}: unknown table (expected {', '.join(SECTIONS)})")
        merged = {s: _merge(shared.get(s, {}), table.get(s, {})) for s in SECTIONS}
        origins: dict[str, str] = {}
        for section, values in merged.items():
            if not isinstance(values, dict):
                problems.append(f"{prefix}{section}: expected a table ([{section}] with "
                                f"key = value lines), got {type(values).__name__}")
                merged[section] = {}
                continue
            for key in values:
                origins[f"{section}.{key}"] = str(file)
        literal = _literal_secrets(merged, prefix)
        _apply_env_overrides(merged, env, origins)
        merged = _interpolate(merged, env, prefix, problems, origins)
        job = _build_job(name, merged, prefix, problems, origins, env)
        if job is not None:
            job = replace(job, literal_secrets=tuple(literal))
        if job is not None:
            jobs[name] = job
    problems += _env_problems(env) + _shared_state_paths(jobs)
    if problems:
        raise ConfigError(_one_per_key(problems))
    return ConfigFile(path=file, jobs=jobs)


def _one_per_key(problems: list[str]) -> list[str]:
    """The first problem of each key: an unset ${VAR} need not also say "required"."""
    seen: set[str] = set()
    out = []
    for problem in problems:
        key = problem.split(":", 1)[0]
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _env_problems(env: Mapping[str, str]) -> list[str]:
    problems = []
    for var in env:
        if not var.startswith(ENV_PREFIX):
            continue
        parts = var[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or parts[0] not in SECTIONS or not parts[1]:
            problems.append(f"{var}: not a setting; overrides are named {ENV_PREFIX}SECTION__KEY "
                            f"with SECTION one of {', '.join(s.upper() for s in SECTIONS)}")
    return problems


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


def _scale_problems(sync: Mapping[str, Any]) -> list[str]:
    """``sync.state_url`` and ``sync.schedule`` (the scale-out settings), checked."""
    problems = []
    url = sync.get("state_url")
    if isinstance(url, str) and not url.startswith(("postgresql://", "postgres://")):
        problems.append("sync.state_url: expected a PostgreSQL URL starting with "
                        "postgresql:// (or leave it out to keep the SQLite state_path)")
    if isinstance(url, str) and "state_path" in sync:
        problems.append("sync.state_url: set either state_url (PostgreSQL) or state_path "
                        "(SQLite), not both")
    cron = sync.get("schedule")
    if isinstance(cron, str):
        fields = cron.split()
        if len(fields) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,\-]+", f) for f in fields):
            problems.append(f"sync.schedule: {cron!r} is not a cron expression; expected five "
                            "fields (minute hour day-of-month month day-of-week), e.g. "
                            "\"*/10 * * * *\"")
    return problems


def _literal_secrets(merged: Mapping[str, Any], prefix: str) -> list[str]:
    """The secret keys the file itself holds as values (not ``${VAR}`` references)."""
    from .registry import load_connector

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


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base.get(key), value) if key in base else value
        return out
    return override if override is not None else base


def _apply_env_overrides(merged: dict[str, Any], env: Mapping[str, str],
                         origins: dict[str, str]) -> None:
    for var, value in env.items():
        if not var.startswith(ENV_PREFIX):
            continue
        parts = var[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or parts[0] not in SECTIONS:
            continue
        section, key = parts
        # Overrides are text: each key's validator reads a number where one is due,
        # and a text setting keeps the text (COPERNICA_SYNC__TARGET__DATABASE=4 is "4").
        merged.setdefault(section, {})[key] = value
        origins[f"{section}.{key}"] = f"env:{var}"


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


def _source_problems(source: Mapping[str, Any], prefix: str) -> list[str]:
    """The connector's own settings, checked with the rest so all problems come at once."""
    from .registry import load_connector  # the registry loads plugins: only when needed

    try:
        connector = load_connector(str(source["connector"]))
        connector.validate_config({k: v for k, v in source.items() if k != "connector"},
                                  prefix=f"{prefix}source")
    except ConfigError as exc:
        return [problem if problem.startswith(prefix) else f"{prefix}{problem}"
                for problem in exc.problems]
    return []


def _check_setting(key: str, value: Any, setting: Setting, from_env: bool,
                   problems: list[str]) -> Any:
    """``value`` as ``setting`` wants it, or None after adding a problem naming ``key``."""
    def bad(detail: str | None = None) -> None:
        shown = "(hidden)" if setting.secret else (
            show_number(value) if isinstance(value, int | float) else repr(value))
        problems.append(f"{key}: must be {setting.expected}, got "
                        + (detail or f"{_kind_of(value)} {shown}"))

    if setting.kind in ("text", "url"):
        if not isinstance(value, str):
            return bad()
        if setting.kind == "url" and not value.startswith(("http://", "https://")):
            return bad()
        return value
    if setting.kind == "choice":
        if not isinstance(value, str) or value not in setting.choices:
            return bad()
        return value
    if from_env and isinstance(value, str):
        try:
            value = int(value) if setting.kind == "count" else float(value)
        except ValueError:
            return bad()
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (setting.kind == "count" and not isinstance(value, int)):
        return bad()
    number = value
    if isinstance(number, float) and not math.isfinite(number):
        return bad(str(number))
    low, high = setting.minimum, setting.maximum
    if (low is not None and (number < low or (setting.above_minimum and number == low))) \
            or (high is not None and number > high):
        return bad(show_number(number))
    return number


def _kind_of(value: Any) -> str:
    """A TOML word for a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _checked_table(section: str, table: Mapping[str, Any], prefix: str, problems: list[str],
                   origins: Mapping[str, str]) -> dict[str, Any]:
    """The keys of ``[section]`` that are known and valid; a problem for every other."""
    settings = SETTINGS[section]
    out: dict[str, Any] = {}
    for key, value in table.items():
        setting = settings.get(key)
        if setting is None:
            problems.append(f"{prefix}{section}.{key}: unknown setting "
                            f"(known: {', '.join(sorted(settings))})")
            continue
        from_env = origins.get(f"{section}.{key}", "").startswith("env:")
        checked = _check_setting(f"{prefix}{section}.{key}", value, setting, from_env, problems)
        if checked is not None:
            out[key] = checked
    return out


def _build_job(name: str, merged: dict[str, Any], prefix: str, problems: list[str],
               origins: dict[str, str], env: Mapping[str, str] = os.environ) -> JobConfig | None:
    count = len(problems)
    raw_cop = merged.get("copernica") or {}
    cop = _checked_table("copernica", raw_cop, prefix, problems, origins)
    auth = cop.get("auth", "token")
    if auth in ("token", "bearer") and not raw_cop.get("access_token"):
        problems.append(f"{prefix}copernica.access_token: required — create an access token in "
                        "Copernica (Admin → Access tokens) and set it here or in "
                        "COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN")
    if auth == "login" and not (raw_cop.get("username") and raw_cop.get("password")):
        problems.append(f"{prefix}copernica.username/password: required when auth = \"login\"")
    sync = _checked_table("sync", merged.get("sync") or {}, prefix, problems, origins)
    if "state_path" in sync:
        from .state_files import resolve_state_path

        try:
            sync["state_path"] = str(resolve_state_path(sync["state_path"], name, env))
        except ConfigError as exc:
            problems += [f"{prefix}{problem}" for problem in exc.problems]
    problems += [f"{prefix}{problem}" for problem in _scale_problems(sync)]
    license_ = _checked_table("license", merged.get("license") or {}, prefix, problems, origins)
    target = merged.get("target") or {}
    source = merged.get("source") or {}
    connector = source.get("connector")
    connector_cls = None
    if connector in (None, ""):
        problems.append(f"{prefix}source.connector: required (see `copernica-sync connectors "
                        "list`)")
    elif not isinstance(connector, str):
        problems.append(f"{prefix}source.connector: expected a connector name as text (see "
                        f"`copernica-sync connectors list`), got {_kind_of(connector)} "
                        f"{connector!r}")
    else:
        problems += _source_problems(source, prefix)
        from .registry import load_connector

        with suppress(ConfigError):  # an unknown connector is one of the problems above
            connector_cls = load_connector(connector)
    if len(problems) > count:
        return None
    for key, default in (("auth", "token"), ("endpoint", CopernicaSettings.endpoint),
                         ("timeout", 60.0)):
        origins.setdefault(f"copernica.{key}", "default")
        cop.setdefault(key, default)
    return JobConfig(
        name=name,
        copernica=CopernicaSettings(**cop),
        source=source,
        target=target,
        sync=SyncSettings(concurrency=sync.get("concurrency", 8),
                          lookback_minutes=sync.get("lookback_minutes", 5),
                          state_path=sync.get("state_path"),
                          state_url=sync.get("state_url"), schedule=sync.get("schedule")),
        license=license_,
        origins=origins,
        source_secrets=tuple(connector_cls.secret_values(source)) if connector_cls else (),
    )
