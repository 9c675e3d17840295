"""Every operation of the bundled WSDL is either used by the typed facade or listed in
docs/sdk.md as deliberately absent, with the reason — so the table cannot rot."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from lxml import etree

from copernica_sdk import CopernicaClient

ROOT = Path(__file__).resolve().parents[2]
WSDL = ROOT / "copernica_sdk" / "_soap" / "wsdl" / "copernica.wsdl"
DOC = ROOT / "docs" / "sdk.md"
#: Where the facade lives: the service namespaces, and the auth strategies (login).
#: _raw.py (client.call's guard tables) and _bulk.py are plumbing, not facade methods.
FACADE = [p for p in (ROOT / "copernica_sdk" / "_services").glob("*.py")
          if p.name not in ("_raw.py", "_bulk.py")] + [ROOT / "copernica_sdk" / "auth.py"]
ROW = re.compile(r"^\| `(?P<op>\w+)` \| (?P<facade>.+?) \|$", re.M)
SECTION = "## Operations and the escape hatch"


def wsdl_operations() -> set[str]:
    tree = etree.parse(str(WSDL))
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}
    return {op.get("name") for op in tree.findall(".//wsdl:portType/wsdl:operation", ns)}


def facade_operations(operations: set[str]) -> set[str]:
    """Operation names written as string literals in the facade's source."""
    used: set[str] = set()
    for path in FACADE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in operations:
                used.add(node.value)
    return used


def doc_table() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for match in ROW.finditer(section):
        assert match["op"] not in rows, f"{match['op']} is listed twice in docs/sdk.md"
        rows[match["op"]] = match["facade"].strip()
    return rows


def test_the_wsdl_has_operations_to_check():
    assert len(wsdl_operations()) > 40


def test_every_wsdl_operation_is_in_the_docs_table_and_nothing_else_is():
    assert set(doc_table()) == wsdl_operations()


def test_operations_the_table_calls_absent_are_not_used_by_the_facade_and_give_a_reason():
    ops = wsdl_operations()
    used = facade_operations(ops)
    for op, facade in doc_table().items():
        if facade.startswith("absent"):
            assert op not in used, f"{op} is used by the facade but documented as absent"
            assert len(facade) > len("absent: ") + 20, f"{op}: give the reason it is absent"


def test_operations_the_table_maps_to_a_method_are_used_by_the_facade():
    ops = wsdl_operations()
    present = {op for op, facade in doc_table().items() if not facade.startswith("absent")}
    assert present == facade_operations(ops)


@pytest.fixture(scope="module")
def client():
    with CopernicaClient("t", endpoint="http://127.0.0.1:9/") as c:
        yield c


def test_the_methods_the_table_names_exist(client):
    for op, facade in doc_table().items():
        for name in re.findall(r"`(\w+)\.(\w+)", facade):
            service = getattr(client, name[0], None)
            if service is None:  # e.g. `LoginAuth` is not a service
                continue
            assert callable(getattr(service, name[1], None)), f"{op}: no {'.'.join(name)}"
        if not facade.startswith("absent"):
            assert re.search(r"`(\w+\.\w+|\w+Auth)", facade), f"{op}: name the method"
