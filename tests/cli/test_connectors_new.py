"""``copernica-sync connectors new NAME``: the package it writes is installable and green.

The slow test does what a partner does: generate, ``pip install`` into a fresh venv,
run the generated package's own tests there, and see ``connectors list`` name it.
The fast tests generate into ``tmp_path`` and import the package in-process.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import os
import site
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result

from copernica_sdk.sync import HeaderLinkPaginator, RestStream
from copernica_sdk.testing._suite_harness import Harness
from copernica_sdk.testing.connector_suite import ConnectorSuite, Source
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.cli.cmd_connectors_new import connector_names, render
from copernica_sync.cli.main import main

from ..config_files import clean_env


def _new(*args: str, cwd: Path) -> tuple[Result, Path]:
    """``copernica-sync connectors new ARGS`` in-process, in a new folder under ``cwd``."""
    here = cwd / "work"
    here.mkdir()
    with contextlib.chdir(here):
        return CliRunner().invoke(main, ["connectors", "new", *args],
                                  catch_exceptions=False), here


# ---------------------------------------------------------------------------
# The command


def test_new_writes_the_package_into_dot_name_by_default(tmp_path: Path) -> None:
    result, here = _new("acme-shop", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    project = here / "acme-shop"
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()) == [
        "README.md", "acme_shop/__init__.py", "acme_shop/fake_api.py", "acme_shop/mapping.toml",
        "acme_shop/source.py", "pyproject.toml", "tests/test_acme_shop.py"]
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "copernica-sync-acme-shop"
    assert meta["project"]["dependencies"] == [f"copernica-sdk>={version('copernica-sdk')}"]
    assert meta["project"]["entry-points"]["copernica_sdk.connectors"] == {
        "acme_shop": "acme_shop:AcmeShopConnector"}


def test_new_writes_into_the_directory_given(tmp_path: Path) -> None:
    result, here = _new("acme_shop", "--directory", "src/partner", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (here / "src" / "partner" / "acme_shop" / "source.py").is_file()
    assert not (here / "acme_shop").exists()


def test_new_refuses_to_overwrite_a_folder_with_files(tmp_path: Path) -> None:
    target = tmp_path / "acme_shop"
    target.mkdir()
    (target / "pyproject.toml").write_text("mine\n", encoding="utf-8")
    result, _ = _new("acme_shop", "--directory", str(target), cwd=tmp_path)
    assert result.exit_code == 2
    assert "exists and is not an empty folder; nothing written" in result.output
    assert [p.name for p in target.iterdir()] == ["pyproject.toml"]
    assert (target / "pyproject.toml").read_text(encoding="utf-8") == "mine\n"


def test_new_fills_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result, _ = _new("acme_shop", "--directory", str(tmp_path / "empty"), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "empty" / "pyproject.toml").is_file()


@pytest.mark.parametrize(("name", "says"), [
    ("1shop", "cannot become a Python package name"),
    ("acme shop", "cannot become a Python package name"),
    ("acme.shop", "cannot become a Python package name"),
    ("café", "cannot become a Python package name"),
    ("class", "is a Python keyword"),
    ("json", "is already a module name"),
    ("tests", "is already a module name"),
    ("copernica-sdk", "is already a module name"),
    ("woocommerce", "a connector named 'woocommerce' is already installed"),
    ("requests", "a module named 'requests' is already installed here"),
    ("Zeep", "a module named 'zeep' is already installed here"),
])
def test_a_name_that_is_no_package_name_is_refused_saying_why(
        tmp_path: Path, name: str, says: str) -> None:
    result, here = _new(name, cwd=tmp_path)
    assert result.exit_code == 2
    assert "Invalid value for NAME" in result.output and says in result.output
    assert "e.g. acme_shop" in result.output or "pick another" in result.output
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(("name", "package", "cls", "distribution", "title"), [
    ("acme-shop_nl", "acme_shop_nl", "AcmeShopNlConnector", "copernica-sync-acme-shop-nl",
     "Acme Shop Nl"),
    ("AcmeShop", "acmeshop", "AcmeShopConnector", "copernica-sync-acmeshop", "AcmeShop"),
    ("shop2-NL", "shop2_nl", "Shop2NLConnector", "copernica-sync-shop2-nl", "Shop2 NL"),
])
def test_names_become_package_class_and_distribution_names(
        name: str, package: str, cls: str, distribution: str, title: str) -> None:
    names = connector_names(name)
    assert (names.package, names.connector_class, names.distribution, names.title) == (
        package, cls, distribution, title)


def test_a_folder_that_cannot_be_written_is_a_config_error_and_leaves_nothing(
        tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    result, _ = _new("acme_shop", "--directory", str(tmp_path / "a-file" / "acme_shop"),
                     cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "cannot write the package into" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "work"]


def test_a_failure_half_way_leaves_no_half_a_package(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from copernica_sync.cli import cmd_connectors_new

    written: list[str] = []
    real = Path.write_text

    def full_disk(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(self.name)
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        cmd_connectors_new.write_package(connector_names("acme_shop"), tmp_path / "acme_shop")
    assert len(written) == 3
    assert list(tmp_path.iterdir()) == []


def test_every_template_placeholder_is_filled() -> None:
    for path, text in render(connector_names("acme_shop")).items():
        assert "@@" not in text and "__package__" not in str(path), path


# ---------------------------------------------------------------------------
# The generated package, imported in-process


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    """``fast_shop`` generated into tmp_path and imported; forgotten afterwards."""
    result, here = _new("fast_shop", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    project = here / "fast_shop"
    sys.path.insert(0, str(project))
    try:
        yield {"package": importlib.import_module("fast_shop"),
               "fake": importlib.import_module("fast_shop.fake_api"),
               "tests": _load(project / "tests" / "test_fast_shop.py")}
    finally:
        sys.path.remove(str(project))
        for module in [m for m in sys.modules if m == "fast_shop" or m.startswith("fast_shop.")]:
            del sys.modules[module]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("generated_test_fast_shop", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_source_is_two_rest_streams_paged_by_link_header(
        generated: dict[str, ModuleType]) -> None:
    package = generated["package"]
    connector = package.FastShopConnector({"base_url": "https://shop.example/api/",
                                           "api_token": "t"})
    streams = connector.streams()
    assert [s.name for s in streams] == ["customers", "orders"]
    assert all(isinstance(s, RestStream) and isinstance(s.paginator, HeaderLinkPaginator)
               for s in streams)
    mapping = connector.default_mapping()
    assert set(mapping["streams"]) == {"customers", "orders"}
    assert set(mapping["streams"]["orders"]["collections"]) == {"Orders", "OrderLines"}
    # orders land on the customers' profiles: the same key expression
    assert (mapping["streams"]["orders"]["profile"]["key"]
            == mapping["streams"]["customers"]["profile"]["key"])


def test_the_generated_source_has_no_http_retry_paging_or_time_code(
        generated: dict[str, ModuleType]) -> None:
    tree = ast.parse(inspect.getsource(importlib.import_module("fast_shop.source")))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    # Only the framework and the standard library's plumbing for mapping.toml: no
    # requests/urllib/http, no tenacity/time, no datetime.
    assert imported == {"__future__", "tomllib", "collections.abc", "importlib.resources",
                        "typing", "copernica_sdk.sync"}
    loops = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, ast.While | ast.For |
                                                                    ast.Try | ast.AsyncFor)]
    assert not loops, f"generated source.py has a hand-written {loops} (paging, retrying)"


def test_the_guide_states_the_generated_source_modules_size(
        generated: dict[str, ModuleType]) -> None:
    """docs/writing-a-connector.md compares the module's size with a hand-written one."""
    import re

    text = inspect.getsource(importlib.import_module("fast_shop.source"))
    tree = ast.parse(text)
    docstrings = {line for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and ast.get_docstring(node) is not None
                  for line in range(node.body[0].lineno, (node.body[0].end_lineno or 0) + 1)}
    lines = text.splitlines()
    code = [n for n, line in enumerate(lines, 1) if line.strip()
            and not line.lstrip().startswith("#") and n not in docstrings]
    guide = (Path(__file__).resolve().parents[2] / "docs" / "writing-a-connector.md").read_text(
        encoding="utf-8")
    stated = re.search(r"is\s+(\d+) lines, (\d+) of them code", guide)
    assert stated is not None
    assert (int(stated[1]), int(stated[2])) == (len(lines), len(code))


def test_the_generated_test_module_subclasses_the_standard_suite_with_a_lying_source(
        generated: dict[str, ModuleType]) -> None:
    assert issubclass(generated["tests"].TestFastShopConnector, ConnectorSuite)
    assert "lie=lambda: stale(True), honest=lambda: stale(False)" in inspect.getsource(
        generated["tests"])


def test_the_generated_connector_passes_the_standard_listing_lie_check(
        generated: dict[str, ModuleType], tmp_path: Path, copernica_fake: FakeCopernica) -> None:
    """One standard-suite test, called the way pytest calls it, on the generated fake:
    a cache that answers every next page with the first one fails the run without
    moving a bookmark; once honest, a run syncs everything."""
    suite: ConnectorSuite = generated["tests"].TestFastShopConnector()
    with generated["fake"].FakeFastShopApi(customers=12, orders=20) as api:

        def stale(on: bool) -> None:
            api.stale_pages = on

        source = Source(config=api.source_config(page_size=5), mutate=api.touch,
                        lie=lambda: stale(True), honest=lambda: stale(False))
        harness = Harness(suite.make_connector, source.config, suite.target_overrides,
                          suite.sync_options, tmp_path)
        suite.test_a_listing_that_lies_moves_no_bookmark_and_an_honest_rerun_syncs_everything(
            harness, source, copernica_fake)


# ---------------------------------------------------------------------------
# Installed into a fresh venv, as a partner would


def _throwaway_venv(where: Path) -> Path:
    """A venv without pip that sees this interpreter's packages (the SDK, pytest, pip,
    hatchling) through a ``.pth`` file, so nothing is downloaded."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in dict.fromkeys(ours))
    (Path(purelib) / "_copernica_sdk_under_test.pth").write_text(lines, encoding="utf-8")
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of the outer run: no PYTHONPATH, no PYTEST_ADDOPTS (-n) or xdist worker ids.
    env = {k: v for k, v in clean_env().items()
           if k != "PYTHONPATH" and not k.startswith("PYTEST_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


@pytest.mark.slow
def test_a_generated_package_installs_into_a_fresh_venv_and_its_suite_passes(
        tmp_path: Path) -> None:
    result, here = _new("acme_shop", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    project = here / "acme_shop"
    python = _throwaway_venv(tmp_path / "venv")
    # A wheel install (not -e): the installed package must carry mapping.toml.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    pip = _run(python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet",
               "--no-deps", *isolation, str(project), cwd=tmp_path)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    listed = _run(python, "-c", "from copernica_sync.cli.main import main; main()",
                  "connectors", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next((ln for ln in listed.stdout.splitlines() if ln.startswith("acme_shop ")), "")
    assert "copernica-sync-acme-shop 0.1.0" in line, listed.stdout

    # Its own tests, from its folder, against the installed copy (-p no:cacheprovider:
    # leave the generated folder as it was written).
    # -P: the folder is not put on sys.path, so the tests import the installed copy.
    tests = _run(python, "-P", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                 "-p", "no:xdist", cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout, tests.stdout[-2000:]
    # The one standard check that does not apply: the generated connector sells no
    # license (it has no license_plugin_id), so the licensing check skips.
    skips = [ln for ln in tests.stdout.splitlines() if ln.startswith("SKIPPED")]
    assert all("not a licensed plugin" in ln for ln in skips), skips
    assert len(skips) <= 1, skips
    where = _run(python, "-c", "import acme_shop; print(acme_shop.__file__)", cwd=tmp_path)
    assert str(tmp_path / "venv") in where.stdout, where.stdout + where.stderr


@pytest.mark.slow
def test_the_wheel_ships_the_templates(tmp_path: Path) -> None:
    """``connectors new`` works from an installed wheel, not only from a checkout."""
    import zipfile

    root = Path(__file__).resolve().parents[2]
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    built = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel",
                            "--quiet", "--no-deps", *isolation, "--wheel-dir", str(tmp_path),
                            str(root)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("copernica_sdk-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if "connector_template/" in n}
    templates = root / "cli" / "connector_template"
    expected = {f"copernica_sync/cli/connector_template/{p.relative_to(templates).as_posix()}"
                for p in templates.rglob("*.tmpl")}
    assert expected and shipped == expected
