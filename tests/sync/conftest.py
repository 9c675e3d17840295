"""Fixtures of the sync tests."""

from .engine_harness import h

__all__ = ["h"]
