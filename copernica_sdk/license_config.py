"""The ``[license]`` table of a job, as one model for the sync framework and licensing.

The job config (:mod:`copernica_sdk.sync.config`) validates it when the file is
loaded — so ``config show``, ``check`` and ``run`` report a bad ``[license]``
table with every other problem — and preflight
(:mod:`copernica_sdk.licensing.preflight`) reads the same model.  It lives here,
not in either package, because sync and licensing do not import each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from .configuration import Table, validate

__all__ = ["HTTP_URL", "LicenseTable", "license_file_problems"]

#: Text that must be an http(s) URL.
HTTP_URL = r"^https?://\S+$"


class LicenseTable(Table):
    """``[license]``: how the plugin's license is found and enforced (docs/licensing.md)."""

    mode: Literal["observe", "warn", "enforce"] = Field(
        "warn", description="observe, warn or enforce")
    file: str | None = Field(None, description="a license file path as text")
    shop_url: str | None = Field(None, description="the shop's URL as text")
    trial_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        0, description="a whole number of days from 0 to 3650")
    export_dir: str | None = Field(None, description="a directory path as text")
    collector_url: Annotated[str, Field(pattern=HTTP_URL)] | None = Field(
        None, description="an http(s) URL")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], prefix: str = "license") -> LicenseTable:
        """``table`` validated, or :class:`~copernica_sdk.errors.ConfigError` listing
        every problem (``""`` counts as not set)."""
        return validate(cls, {k: v for k, v in table.items() if v != ""}, prefix)


def license_file_problems(settings: LicenseTable, env: Mapping[str, str] = os.environ,
                          prefix: str = "license", *, token_env: str) -> list[str]:
    """What is wrong with the files ``[license]`` names, as ``check`` reports it: the
    license ``file`` must be a readable file (unless ``token_env`` holds the token),
    ``export_dir`` a directory when it exists.  Run time decides the same way
    (preflight reads the file; a missing one is an unlicensed run)."""
    problems = []
    if settings.file and not env.get(token_env, "").strip():
        path = Path(settings.file).expanduser()
        if not path.exists():
            problems.append(f"{prefix}.file: no such file {str(path)!r}; put the license "
                            f"your plugin supplier sent there, or set {token_env}")
        elif not path.is_file():
            problems.append(f"{prefix}.file: {str(path)!r} is not a file (a license file "
                            "holds one token)")
        elif not os.access(path, os.R_OK):
            problems.append(f"{prefix}.file: {str(path)!r} cannot be read (check its "
                            "permissions)")
    if settings.export_dir:
        directory = Path(settings.export_dir).expanduser()
        if directory.exists() and not directory.is_dir():
            problems.append(f"{prefix}.export_dir: {str(directory)!r} is not a directory")
    return problems
