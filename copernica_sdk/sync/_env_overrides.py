"""``COPERNICA_SYNC__SECTION__KEY`` variables, read by pydantic-settings.

A module of its own so that pydantic-settings is imported only when such a
variable is set (a cron run without overrides does not pay for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from .config import ENV_PREFIX

__all__ = ["read_overrides"]


def read_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The overrides in ``env`` (well-formed names only), section → key → text."""
    return dict(_GivenEnv(env)())


class _Overrides(BaseSettings):
    """``COPERNICA_SYNC__SECTION__KEY`` variables, read by pydantic-settings."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      case_sensitive=False, extra="ignore")
    copernica: dict[str, str] = {}
    source: dict[str, str] = {}
    target: dict[str, str] = {}
    sync: dict[str, str] = {}
    license: dict[str, str] = {}


class _GivenEnv(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (``load_config(env=)``)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(_Overrides)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)
