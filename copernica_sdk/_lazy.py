"""Package fronts that load their heavy modules on first use (PEP 562).

A front lists where each exported name lives; :func:`lazy_exports` gives it the
module-level ``__getattr__`` and ``__dir__`` that import the right submodule the
first time a name is asked for, and keep the value, so ``from package import
Name`` works as with an eager import while ``import package`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str], exported: Iterable[str],
                 namespace: MutableMapping[str, Any]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps a name to the
    (relative) module defining it, ``exported`` is the package's ``__all__`` and
    ``namespace`` its ``globals()``."""
    names = tuple(exported)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
