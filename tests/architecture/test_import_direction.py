"""The import direction of the architecture, checked on the source (``ast``), not by hand.

``copernica_sync.cli`` → ``copernica_sync.connectors`` → ``copernica_sdk`` (the folders
``cli/`` and ``connectors/`` install under ``copernica_sync``, pyproject.toml); inside the SDK, ``sync`` and ``licensing``
do not import each other (``copernica_sdk.jobs`` wires them together); only
``copernica_sdk._soap`` imports zeep.  Imports inside functions (the CLI's lazy
imports) count as much as the ones at the top of a file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: folder in the repository -> the import name it installs as
PACKAGES = {"copernica_sdk": "copernica_sdk", "connectors": "copernica_sync.connectors",
            "cli": "copernica_sync.cli"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts[:1] = PACKAGES.get(parts[0], parts[0]).split(".")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str | None = None) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # `from . import sync` imports a module too
                yield node.lineno, f"{target}.{alias.name}"


def sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


#: (who, must not import, why)
RULES = [
    ("copernica_sdk.sync", "copernica_sdk.licensing",
     "sync must not import licensing: wire them in copernica_sdk.jobs"),
    ("copernica_sdk.licensing", "copernica_sdk.sync",
     "licensing must not import sync: use its protocols (meter.Checkpoint, preflight.LicensedJob)"),
    ("copernica_sdk.sync", "copernica_sdk.jobs", "jobs is the layer above sync"),
    ("copernica_sdk.licensing", "copernica_sdk.jobs", "jobs is the layer above licensing"),
    ("copernica_sdk", "copernica_sync", "the SDK never imports a connector or the CLI"),
    ("copernica_sync.connectors", "copernica_sync.cli", "connectors never import the CLI"),
]


def violations(rule: tuple[str, str, str]) -> list[str]:
    who, forbidden, _ = rule
    found = []
    for path in sources():
        if not within(module_name(path), who):
            continue
        for line, target in imports_of(path):
            if within(target, forbidden):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return sorted(set(found))


@pytest.mark.parametrize("rule", RULES, ids=[f"{r[0]}-not-{r[1]}" for r in RULES])
def test_layers_import_only_downwards(rule: tuple[str, str, str]) -> None:
    assert violations(rule) == [], rule[2]


#: every tree of Python code in the repository: the packages, and what imports them
TREES = (*PACKAGES, "tests", "examples", "bench", "tools")


def test_nothing_imports_the_folders_by_their_repository_names() -> None:
    """The wheel installs no top-level ``cli`` or ``connectors``: those names may belong to
    another distribution, so an import under the folder's name fails or loads someone else's
    code.  The import names are ``copernica_sync.cli`` and ``copernica_sync.connectors``."""
    found = sorted({f"{path.relative_to(ROOT)}:{line} imports {target}"
                    for tree in TREES for path in (ROOT / tree).rglob("*.py")
                    for line, target in imports_of(path, module_name(path))
                    if within(target, "cli") or within(target, "connectors")})
    assert found == []


def test_only_the_soap_layer_imports_zeep() -> None:
    found = sorted({f"{path.relative_to(ROOT)}:{line}" for path in sources()
                    if not within(module_name(path), "copernica_sdk._soap")
                    for line, target in imports_of(path) if within(target, "zeep")})
    assert found == [], "zeep belongs in copernica_sdk/_soap/ only"


def test_the_checker_sees_relative_and_function_level_imports(tmp_path: Path) -> None:
    """The rules above would pass vacuously if the parser missed an import form."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..licensing import meter\n    import zeep\n")
    targets = {t for _, t in imports_of(probe, "copernica_sdk.sync.probe")}
    assert {"copernica_sdk.licensing", "copernica_sdk.licensing.meter", "zeep"} <= targets
