"""Every citation in the repository points at something a reader of the repository can open.

A comment or document that cites a file (``docs/copernica-api-notes.md``), a section of one
(``docs/source-api-notes.md §9``) or links one (``[testing](testing.md)``) must name a file
that exists here, and a cited section must be a heading of that file.  A bare ``§4`` with
no file before it (on its line or the line above) cites nothing a reader can find, except
inside a Markdown file, where it means a section of that same file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("copernica_sdk", "connectors", "cli", "docs", "tests", "examples", "bench", "tools")
TOP_FILES = ("README.md", "pyproject.toml")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini"}

#: A file name ending in .md that is not part of a URL (no ``:`` or ``/`` right before it).
MD_REF = re.compile(r"(?<![\w/.:-])((?:\.\.?/)*(?:[\w.-]+/)*[\w.-]+\.md)(?!\w)")
SECTION = re.compile(r"§\s*([A-Z]?\d+(?:\.\d+)*)")
#: A relative Markdown link target: [text](target) or [text](target#anchor).
MD_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#[^)\s]*)?\)")


def text_files() -> Iterator[Path]:
    for name in TOP_FILES:
        yield ROOT / name
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if (path.is_file() and path.suffix in SUFFIXES
                    and "__pycache__" not in path.parts
                    and path != Path(__file__).resolve()):  # its examples are meant to fail
                yield path


def resolve(ref: str, citing: Path) -> Path | None:
    """The repository file ``ref`` names: relative to the citing file, the root or docs/."""
    for base in (citing.parent, ROOT, ROOT / "docs"):
        candidate = (base / ref).resolve()
        if candidate.exists() and candidate.is_relative_to(ROOT):
            return candidate
    return None


def has_section(path: Path, section: str) -> bool:
    heading = re.compile(rf"^#{{1,6}}\s+§?{re.escape(section)}[.\s]", re.M)
    return bool(heading.search(path.read_text(encoding="utf-8")))


def dangling_in(path: Path) -> list[str]:
    """Every citation in ``path`` that a reader of the repository could not follow."""
    found: list[str] = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    previous_refs: list[str] = []
    for number, line in enumerate(lines, 1):
        refs = [(m.start(), m[1]) for m in MD_REF.finditer(line)]
        for _, ref in refs:
            if resolve(ref, path) is None:
                found.append(f"{where}:{number}: {ref} is not in the repository")
        if path.suffix == ".md":
            for target in MD_LINK.findall(line):
                if resolve(target, path) is None:
                    found.append(f"{where}:{number}: link to {target}, not in the repository")
        for match in SECTION.finditer(line):
            before = [ref for start, ref in refs if start < match.start()]
            cited = (before or previous_refs or [None])[-1]
            if cited is not None:
                target = resolve(cited, path)
            elif path.suffix == ".md":
                cited, target = path.name, path  # a section of this document
            else:
                found.append(f"{where}:{number}: §{match[1]} cites no file")
                continue
            if target is not None and not has_section(target, match[1]):
                found.append(f"{where}:{number}: {cited} has no section {match[1]}")
        previous_refs = [ref for _, ref in refs]
    return found


def test_no_citation_points_outside_the_repository() -> None:
    found = [problem for path in text_files() for problem in dangling_in(path)]
    assert found == []


def test_the_checker_finds_the_kinds_of_dangling_citation(tmp_path: Path) -> None:
    """The rule above would pass vacuously if the checker missed a form of citation."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "# unindexed searches are slow (reference §5)\n"
        "# see ARCHITECTURE.md and reference/licensing-and-metering.md\n"
        "# requirements: docs/copernica-api-notes.md §5\n"
        "# no such section: docs/copernica-api-notes.md §42\n"
        "# a URL is not a citation: https://example.org/docs/x.md\n", encoding="utf-8")
    problems = dangling_in(probe)
    assert any("§5 cites no file" in p for p in problems)
    assert any("ARCHITECTURE.md is not" in p for p in problems)
    assert any("reference/licensing-and-metering.md is not" in p for p in problems)
    assert any("has no section 42" in p for p in problems)
    assert not any(":3:" in p or "x.md" in p for p in problems)
    own = tmp_path / "notes.md"
    own.write_text("## 1. Intro\n\nAs §1 says; not §2.\n", encoding="utf-8")
    assert dangling_in(own) == [f"{own}:3: notes.md has no section 2"]
