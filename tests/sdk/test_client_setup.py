"""Client construction: safe defaults, clear configuration errors, no leaks."""

from __future__ import annotations

import ast
import pathlib

import pytest

import copernica_sdk
from copernica_sdk import ConfigurationError, CopernicaClient, ResponseParseError
from copernica_sdk._paging import auto_paging
from copernica_sdk.models import Page

PACKAGE = pathlib.Path(copernica_sdk.__file__).parent


@pytest.mark.parametrize("endpoint", ["http://soap.copernica.com", "ftp://x", "soap.copernica.com"])
def test_non_https_endpoints_are_refused(endpoint):
    with pytest.raises(ConfigurationError, match="https"):
        CopernicaClient("t", endpoint=endpoint)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/", "http://localhost:1/",
                                      "http://[::1]:80/", "https://soap.copernica.com"])
def test_https_and_loopback_endpoints_are_accepted(endpoint):
    CopernicaClient("t", endpoint=endpoint).close()


def test_a_client_needs_exactly_one_credential():
    with pytest.raises(ConfigurationError):
        CopernicaClient()
    with pytest.raises(ConfigurationError):
        CopernicaClient("  ")


def test_the_repr_does_not_show_the_token():
    assert "tok-secret" not in repr(CopernicaClient("tok-secret"))


def test_the_bundled_wsdl_declares_the_documented_operations():
    ops = set(CopernicaClient("t").operations)
    for op in ("login", "Account_database", "Database_searchProfiles", "Database_updateProfiles",
               "Profile_updateSubProfiles", "Collection_searchSubProfiles", "SubProfile_remove",
               "Database_createCallback", "Profile_move", "View_updateProfiles"):
        assert op in ops


def test_the_committed_wsdl_matches_its_generator():
    import subprocess
    import sys
    root = PACKAGE.parent
    result = subprocess.run([sys.executable, "tools/build_wsdl.py", "--check"], cwd=root)
    assert result.returncode == 0, "run `python tools/build_wsdl.py` and commit the WSDL"


def test_the_bundled_wsdl_imports_nothing_remote():
    text = (PACKAGE / "_soap" / "wsdl" / "copernica.wsdl").read_text()
    assert "<xsd:import" not in text and "<wsdl:import" not in text and "soapenc" not in text


def test_zeep_is_imported_only_under_soap():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "_soap" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "zeep" or n.startswith("zeep.") for n in names):
                offenders.append(str(path))
    assert offenders == []


def test_the_sdk_never_imports_connectors_or_the_cli():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert node.module.split(".")[0] not in ("copernica_sync", "connectors", "cli"), path


def test_paging_stops_when_a_page_repeats():
    def fetch(start: int, length: int) -> Page[int]:
        return Page(items=(1, 2), start=start, total=10)  # the service ignores start

    with pytest.raises(ResponseParseError, match="paging loop"):
        list(auto_paging(fetch, 2, operation="op"))


def test_paging_stops_when_a_page_starts_elsewhere():
    with pytest.raises(ResponseParseError, match="asked for items from 0"):
        list(auto_paging(lambda s, n: Page(items=(1,), start=5, total=9), 1, operation="op"))


def test_paging_streams_lazily():
    fetched: list[int] = []

    def fetch(start: int, length: int) -> Page[int]:
        fetched.append(start)
        return Page(items=tuple(range(start, min(start + length, 10**6))), start=start,
                    total=10**6)

    iterator = auto_paging(fetch, 1000, operation="op")
    assert [next(iterator) for _ in range(1500)][-1] == 1499
    assert fetched == [0, 1000]
