"""``copernica-sync connectors new NAME``: write a connector package to start from.

The package is rendered from the templates in ``connector_template/`` (shipped in
the wheel with this module), with :class:`string.Template` — a custom delimiter
``@@`` because the mapping's own ``{$parent.id}`` uses ``$``.  What it writes is
installable and passes the standard connector suite as generated: a connector
with two ``RestStream``\\ s over a Shopify-like REST API (customers → profiles,
orders and their lines → subprofiles on the same profiles), its default
mapping, a fake of the API on loopback and the test module
(docs/writing-a-connector.md walks through every file).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import shutil
import string
import sys
import uuid
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, entry_points, version
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import click

from .main import exits_cleanly

__all__ = ["ConnectorNames", "TargetNotEmptyError", "connector_names", "new",
           "refuse_installed", "render", "write_package"]

#: Where the templates sit inside ``copernica_sync.cli``.
TEMPLATE_DIR = "connector_template"
#: Stands for the package's folder and file names in the template tree.
PACKAGE_MARK = "__package__"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
#: Import names a connector package must not take: ours, and the folders every
#: project has (a package named ``tests`` would shadow, or be shadowed by, others).
_TAKEN = frozenset({"copernica_sdk", "copernica_sync", "connectors", "cli", "tests", "test",
                    "src", "docs", "examples"})
#: The connector names of the entry-point group ``copernica-sync`` reads.
ENTRY_POINT_GROUP = "copernica_sdk.connectors"


class TargetNotEmptyError(Exception):
    """The folder to write into exists and holds files (nothing was written)."""


class _Template(string.Template):
    delimiter = "@@"


@dataclass(frozen=True)
class ConnectorNames:
    """The names one connector package is generated with."""

    name: str              #: as the user typed it (``acme-shop``)
    package: str           #: the import name and connector name (``acme_shop``)
    class_prefix: str      #: ``AcmeShop``
    connector_class: str   #: ``AcmeShopConnector``
    distribution: str      #: ``copernica-sync-acme-shop``
    title: str             #: ``Acme Shop``


def connector_names(name: str) -> ConnectorNames:
    """The names for ``name``, or a ``ValueError`` saying what is wrong and what would do.

    ``name`` is letters, digits, ``_`` and ``-`` starting with a letter; ``-`` becomes
    ``_`` and capitals small letters in the package name, which must not be a Python
    keyword, a standard-library module or one of ours (:func:`refuse_installed`: nor
    the name of an installed connector).
    """
    example = "e.g. acme_shop or acme-shop"
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} cannot become a Python package name: use letters, "
                         f"digits, '_' and '-', starting with a letter ({example})")
    package = name.replace("-", "_").lower()
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        raise ValueError(f"{name!r} is a Python keyword; pick another name ({example})")
    if package in sys.stdlib_module_names or package in _TAKEN:
        raise ValueError(f"{package!r} is already a module name (Python's or copernica-sdk's); "
                         f"a package of that name would shadow it or be shadowed — pick "
                         f"another ({example})")
    # Class names and the title keep the capitals the user typed (AcmeShop stays so).
    words = [w for w in name.replace("-", "_").split("_") if w]
    capitalised = [w[:1].upper() + w[1:] for w in words]
    prefix = "".join(capitalised)
    return ConnectorNames(name=name, package=package, class_prefix=prefix,
                          connector_class=f"{prefix}Connector",
                          distribution=f"copernica-sync-{'-'.join(w.lower() for w in words)}",
                          title=" ".join(capitalised))


def refuse_installed(names: ConnectorNames) -> None:
    """A ``ValueError`` when a connector of that name is installed (the two would fight
    over ``[source] connector = "…"``) or a module of that name is importable here (an
    installed ``requests``, ``click``…: one of the two packages would shadow the other)."""
    if names.package in {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}:
        raise ValueError(f"a connector named {names.package!r} is already installed "
                         "(`copernica-sync connectors list`); pick another name")
    try:
        found = importlib.util.find_spec(names.package) is not None
    except (ImportError, ValueError):
        found = True
    if found:
        raise ValueError(f"a module named {names.package!r} is already installed here; a "
                         "package of that name would shadow it or be shadowed — pick another")


def _templates(folder: Traversable, rel: PurePosixPath) -> list[tuple[PurePosixPath, str]]:
    found: list[tuple[PurePosixPath, str]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                found += _templates(entry, rel / entry.name)
        elif entry.name.endswith(".tmpl"):
            found.append((rel / entry.name.removesuffix(".tmpl"),
                          entry.read_text(encoding="utf-8")))
    return found


def _sdk_version() -> str:
    """The copernica-sdk that writes the package: the oldest it may depend on (it uses
    the building blocks of this one)."""
    try:
        return version("copernica-sdk")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0.1"


def render(names: ConnectorNames) -> dict[PurePosixPath, str]:
    """Every file of the package: its path inside the package's folder → its text."""
    values = {**asdict(names), "sdk_version": _sdk_version()}
    root = files("copernica_sync.cli").joinpath(TEMPLATE_DIR)
    out: dict[PurePosixPath, str] = {}
    for rel, text in _templates(root, PurePosixPath()):
        path = PurePosixPath(str(rel).replace(PACKAGE_MARK, names.package))
        # substitute, not safe_substitute: a misspelt placeholder fails here, in our
        # tests, instead of shipping as text.
        out[path] = _Template(text).substitute(values)
    return out


def write_package(names: ConnectorNames, directory: Path) -> list[Path]:
    """Write the package into ``directory`` (created; it must not exist or be empty).

    Raises :class:`TargetNotEmptyError` naming the directory when it has files (nothing
    there is overwritten), ``OSError`` when it cannot be written (nothing is left).
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise TargetNotEmptyError(f"{directory} exists and is not an empty folder; nothing "
                              "written (choose another with --directory, or remove it)")
    files_ = render(names)
    # Written next to the target and renamed into place: a failure half-way (a full
    # disk) leaves no half a package behind.
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.parent / f".{directory.name}.{uuid.uuid4().hex[:8]}.partial"
    staging.mkdir()
    try:
        for rel, text in files_.items():
            path = staging.joinpath(*rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if directory.exists():
            directory.rmdir()  # empty, checked above
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [directory.joinpath(*rel.parts) for rel in files_]


@click.command(name="new")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(path_type=Path, file_okay=False),
              help="Where to write the package (default: ./NAME). Must not exist or be empty.")
@exits_cleanly
def new(name: str, directory: Path | None) -> None:
    """Write a connector package to start from: a REST source with two streams
    (customers, orders with lines), its mapping, a fake API and the standard suite.

    \b
    Example:
      copernica-sync connectors new acme_shop
      cd acme_shop && pip install -e '.[test]' && pytest
    """
    from copernica_sdk.errors import ConfigError

    try:
        names = connector_names(name)
        refuse_installed(names)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    target = directory if directory is not None else Path(name)
    try:
        written = write_package(names, target)
    except TargetNotEmptyError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise ConfigError(f"cannot write the package into {target}: "
                          f"{where}{exc.strerror or exc}; nothing written") from None
    click.echo(f"wrote connector {names.package!r} ({names.distribution}) in {target}/:")
    for path in written:
        click.echo(f"  {path.relative_to(target).as_posix()}")
    click.echo("next:\n"
               f"  cd {target}\n"
               "  pip install -e '.[test]'\n"
               "  pytest                        # the standard suite, on the fake API\n"
               "  copernica-sync connectors list")
