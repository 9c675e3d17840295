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

A partner's file can hold many shops as ``[jobs.NAME]`` tables with the same
keys; top-level tables are shared defaults under every job.  ``${VAR}`` is
replaced by the environment variable; ``COPERNICA_SYNC__SECTION__KEY`` overrides
a key of every job (e.g. ``COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN``).  Every
problem is reported at once, each naming its key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

_COPERNICA_KEYS = {"auth", "access_token", "endpoint", "auth_endpoint", "username", "password",
                   "account", "timeout", "deadline", "wsdl", "page_size"}
_SYNC_KEYS = {"concurrency", "lookback_minutes", "state_path"}
#: Keys whose values are masked in ``config show`` and never logged.
SECRET_KEYS = frozenset({"access_token", "password"})


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

    @property
    def connector(self) -> str:
        return str(self.source.get("connector", ""))

    def secrets(self) -> list[str]:
        values = [self.copernica.access_token, self.copernica.password]
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
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file; create one with "
                          "`copernica-sync init`, or pass --config PATH") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    problems: list[str] = []
    for key in raw:
        if key not in (*SECTIONS, "jobs"):
            problems.append(f"{key}: unknown table (expected {', '.join(SECTIONS)} or jobs)")
    shared = {s: raw.get(s, {}) for s in SECTIONS}
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
            if isinstance(values, dict):
                for key in values:
                    origins[f"{section}.{key}"] = str(file)
        _apply_env_overrides(merged, env, origins)
        merged = _interpolate(merged, env, prefix, problems, origins)
        job = _build_job(name, merged, prefix, problems, origins)
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
    """Two jobs in one state file would read each other's bookmarks and skip data."""
    owners: dict[Path, str] = {}
    problems = []
    for name, job in jobs.items():
        if not job.sync.state_path:
            continue  # the default path is per job
        path = Path(job.sync.state_path).expanduser().resolve()
        if path in owners:
            problems.append(f"jobs.{name}.sync.state_path: the same file as job "
                            f"{owners[path]!r} ({path}); give every job its own state_path "
                            "(or leave it out: the default is per job)")
        owners.setdefault(path, name)
    return problems


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
        merged.setdefault(section, {})[key] = value if section == "source" else _scalar(value)
        origins[f"{section}.{key}"] = f"env:{var}"


def _scalar(text: str) -> Any:
    """An environment value as a number or boolean where it reads as one, else text.
    (``[source]`` values stay text: the connector's spec decides their types.)"""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return value if isinstance(value, bool | int | float) else text


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


def _build_job(name: str, merged: dict[str, Any], prefix: str, problems: list[str],
               origins: dict[str, str]) -> JobConfig | None:
    count = len(problems)
    cop = merged.get("copernica") or {}
    for key in cop:
        if key not in _COPERNICA_KEYS:
            problems.append(f"{prefix}copernica.{key}: unknown setting "
                            f"(known: {', '.join(sorted(_COPERNICA_KEYS))})")
    auth = cop.get("auth", "token")
    if auth not in ("token", "bearer", "login"):
        problems.append(f"{prefix}copernica.auth: must be token, bearer or login, not {auth!r}")
    if auth in ("token", "bearer") and not cop.get("access_token"):
        problems.append(f"{prefix}copernica.access_token: required — create an access token in "
                        "Copernica (Admin → Access tokens) and set it here or in "
                        "COPERNICA_SYNC__COPERNICA__ACCESS_TOKEN")
    if auth == "login" and not (cop.get("username") and cop.get("password")):
        problems.append(f"{prefix}copernica.username/password: required when auth = \"login\"")
    for key, kind in (("timeout", (int, float)), ("deadline", (int, float)), ("page_size", int)):
        if key in cop and (not isinstance(cop[key], kind) or isinstance(cop[key], bool)
                           or cop[key] <= 0):
            problems.append(f"{prefix}copernica.{key}: must be a positive number")
    sync = merged.get("sync") or {}
    for key in sync:
        if key not in _SYNC_KEYS:
            problems.append(f"{prefix}sync.{key}: unknown setting "
                            f"(known: {', '.join(sorted(_SYNC_KEYS))})")
    concurrency = sync.get("concurrency", 8)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 64:
        problems.append(f"{prefix}sync.concurrency: must be a whole number from 1 to 64")
    lookback = sync.get("lookback_minutes", 5)
    if not isinstance(lookback, int | float) or isinstance(lookback, bool) or lookback < 0:
        problems.append(f"{prefix}sync.lookback_minutes: must be a number ≥ 0")
    source = merged.get("source") or {}
    if not source.get("connector"):
        problems.append(f"{prefix}source.connector: required (see `copernica-sync connectors "
                        "list`)")
    else:
        problems += _source_problems(source, prefix)
    if len(problems) > count:
        return None
    for key, default in (("auth", "token"), ("endpoint", CopernicaSettings.endpoint),
                         ("timeout", 60.0)):
        origins.setdefault(f"copernica.{key}", "default")
        cop.setdefault(key, default)
    return JobConfig(
        name=name,
        copernica=CopernicaSettings(**{k: v for k, v in cop.items()}),
        source=source,
        target=merged.get("target") or {},
        sync=SyncSettings(concurrency=concurrency, lookback_minutes=lookback,
                          state_path=sync.get("state_path")),
        license=merged.get("license") or {},
        origins=origins,
    )
