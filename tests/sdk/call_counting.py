"""Counting what one thread's calls do (the hot-path tests: what a call no longer runs)."""

from __future__ import annotations

import threading
from typing import Any

import pytest


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count calls of ``owner.name`` made from this thread (the fake serves from others)."""
    calls: list[int] = []
    original = getattr(owner, name)
    me = threading.get_ident()

    def counted(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == me:
            calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls
