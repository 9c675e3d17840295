"""Writing copernica-sync config files and clean environments for end-to-end tests."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

#: Variables that would leak a developer's own settings into a test's subprocess.
ENV_PREFIXES = ("COPERNICA_SYNC", "COPERNICA_ACCESS_TOKEN", "WOOCOMMERCE_",
                "COPERNICA_PLUGIN_LICENSE")


def toml_key(name: str) -> str:
    """A bare TOML key where allowed, else a quoted one (``"X-API-Key"`` stays bare)."""
    return name if name.replace("_", "a").replace("-", "a").isalnum() else json.dumps(name)


def toml_value(value: Any) -> str:
    """A TOML literal for a Python value (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(tables: Mapping[str, Mapping[str, Any]]) -> str:
    """``{"copernica": {...}, "jobs.a.source": {...}}`` as TOML tables."""
    out: list[str] = []
    for name, values in tables.items():
        out.append(f"[{name}]")
        out.extend(f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items())
        out.append("")
    return "\n".join(out)


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment without copernica-sync settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(extra)
    return env
