"""Dotted/indexed paths into JSON documents: now :mod:`copernica_sdk.sync.rest.paths`
(re-exported here until cms_generic is rebuilt on the REST building blocks)."""

from __future__ import annotations

from copernica_sdk.sync.rest.paths import MISSING, PathError, compile_path, get_path

__all__ = ["MISSING", "PathError", "compile_path", "get_path"]
