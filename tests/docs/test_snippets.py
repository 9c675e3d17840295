"""Every ```python snippet in README.md and docs/ runs, against the fake Copernica.

One test per document: its snippets run in order in one namespace (a later snippet may
use what an earlier one defined, as a reader following the page would), in a scratch
directory.  The placeholder token ``"…"`` in a ``CopernicaClient(...)`` (or a
``BearerAuth``/``LoginAuth``) call means "your account": it becomes the token of a fake
Copernica started for the document, and the call gets the fake's ``endpoint`` — exactly
what the README's "No account?" paragraph shows.  A snippet that defines ``test_*``
functions has each one called with the fixtures it names (``copernica_fake``).

A marker in the comment line right above a snippet changes what happens to it:

- ``<!-- excerpt: path/in/repo.py -->``: the snippet is a piece of that file (its lines
  appear there, in order); the file itself is what the suite runs.
- ``<!-- not-run: reason -->``: not run; the reason says why.  Keep these rare.
- ``<!-- generated: path/in/package -->`` (above a block of any language): the snippet
  is a piece of that file of the package ``copernica-sync connectors new acme_shop``
  writes (its lines appear there, in order); tests/cli/test_connectors_new.py runs
  that package's own suite.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.testing.fake_copernica import FakeCopernica

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^(?:<!--\s*(?P<kind>excerpt|not-run|generated):\s*(?P<arg>.*?)\s*-->\n)?"
                   r"```python\n(?P<code>.*?)^```", re.M | re.S)
GENERATED = re.compile(r"^<!--\s*generated:\s*(?P<arg>.*?)\s*-->\n```\w*\n(?P<code>.*?)^```",
                       re.M | re.S)
#: The connector name the guide's generated package is written with.
GENERATED_NAME = "acme_shop"
PLACEHOLDER = "…"
#: Calls whose placeholder arguments are the fake's token, and the keyword that points
#: them at the fake (when they do not name one themselves).
FAKE_CALLS = {"CopernicaClient": ("endpoint", "__fake_url__"),
              "BearerAuth": ("auth_endpoint", "__fake_auth_url__"),
              "LoginAuth": (None, None)}


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int
    code: str
    kind: str | None  # None (run), "excerpt" or "not-run"
    arg: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def snippets(path: Path) -> Iterator[Snippet]:
    text = path.read_text(encoding="utf-8")
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))  # the line of the opening fence
        yield Snippet(path, line, match["code"], match["kind"], match["arg"] or "")


class PointAtTheFake(ast.NodeTransformer):
    """``CopernicaClient(access_token="…")`` → the fake's token and endpoint."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else "")
        placeholder = self._has_placeholder(node)  # before the inner calls are rewritten
        self.generic_visit(node)
        if name not in FAKE_CALLS or not placeholder:
            return node
        node.args = [self._token(a) for a in node.args]
        for kw in node.keywords:
            kw.value = self._token(kw.value)
        keyword, value = FAKE_CALLS[name]
        if keyword and all(kw.arg != keyword for kw in node.keywords):
            node.keywords.append(ast.keyword(keyword, ast.Name(value, ast.Load())))
        return node

    @staticmethod
    def _is_placeholder(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value == PLACEHOLDER

    def _has_placeholder(self, node: ast.Call) -> bool:
        values = [*node.args, *(kw.value for kw in node.keywords)]
        return any(self._is_placeholder(v) or (isinstance(v, ast.Call)
                                                and self._has_placeholder(v))
                   for v in values)

    def _token(self, node: ast.expr) -> ast.expr:
        return ast.Name("__fake_token__", ast.Load()) if self._is_placeholder(node) else node


def pointed_at_the_fake(snippet: Snippet) -> Any:
    tree = ast.parse(snippet.code, filename=snippet.where)
    tree = ast.fix_missing_locations(PointAtTheFake().visit(tree))
    # Line numbers of a failure point into the document.
    ast.increment_lineno(tree, snippet.line)
    return compile(tree, str(snippet.path), "exec")


def call_tests(namespace: dict[str, Any], before: set[str]) -> None:
    """Call the ``test_*`` functions a snippet defined, with the fixtures they name."""
    for name, func in list(namespace.items()):
        if name in before or not name.startswith("test_") or not inspect.isfunction(func):
            continue
        params = list(inspect.signature(func).parameters)
        unknown = [p for p in params if p != "copernica_fake"]
        assert not unknown, f"{name}: no fixture {unknown} for documentation snippets"
        if params:
            with FakeCopernica() as fake:
                func(fake)
        else:
            func()


def excerpt_problem(snippet: Snippet) -> str | None:
    """None when the snippet's lines appear, in order, in the file it names."""
    source = ROOT / snippet.arg
    if not source.is_file():
        return f"{snippet.where}: excerpt of {snippet.arg}, which does not exist"
    return lines_problem(snippet.code, source.read_text(encoding="utf-8"), snippet.where,
                         snippet.arg)


def lines_problem(code: str, text: str, where: str, name: str) -> str | None:
    """None when the lines of ``code`` appear, in order, in ``text`` (the file ``name``)."""
    lines = iter(line.rstrip() for line in text.splitlines())
    for wanted in (line.rstrip() for line in code.splitlines()):
        if wanted and not any(line == wanted for line in lines):
            return f"{where}: not in {name} (in this order): {wanted.strip()!r}"
    return None


def generated_problems(text: str, document: str) -> list[str]:
    """What the ``generated:`` snippets of a document (its ``text``) show that the
    package ``connectors new acme_shop`` writes does not hold."""
    from copernica_sync.cli.cmd_connectors_new import connector_names, render

    written = {str(rel): body for rel, body in render(connector_names(GENERATED_NAME)).items()}
    problems = []
    for match in GENERATED.finditer(text):
        where = f"{document}:{text.count(chr(10), 0, match.start('code'))}"
        body = written.get(match["arg"])
        problem = (f"{where}: `connectors new {GENERATED_NAME}` writes no {match['arg']}"
                   if body is None else lines_problem(match["code"], body, where, match["arg"]))
        if problem is not None:
            problems.append(problem)
    return problems


def run_document(path: Path) -> None:
    """Run every runnable snippet of ``path`` in order; check its excerpts."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    with FakeCopernica() as fake:
        namespace.update(__fake_token__=fake.token, __fake_url__=fake.url,
                         __fake_auth_url__=fake.auth_url)
        for snippet in snippets(path):
            if snippet.kind == "not-run":
                assert snippet.arg, f"{snippet.where}: a not-run marker needs a reason"
                continue
            if snippet.kind == "generated":
                continue  # checked by generated_problems, with the blocks of other languages
            if snippet.kind == "excerpt":
                problem = excerpt_problem(snippet)
                assert problem is None, problem
                continue
            before = set(namespace)
            exec(pointed_at_the_fake(snippet), namespace)
            call_tests(namespace, before)
    problems = generated_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS])
def test_every_python_snippet_runs(path: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_document(path)


def test_not_running_a_snippet_is_rare() -> None:
    all_snippets = [s for path in DOCUMENTS for s in snippets(path)]
    skipped = [s.where for s in all_snippets if s.kind == "not-run"]
    assert len(skipped) * 5 <= len(all_snippets), skipped


def test_the_placeholder_token_becomes_the_fakes_token_and_endpoint() -> None:
    """The substitution is what makes the placeholder token safe to run."""
    code = 'CopernicaClient(access_token="…")\nCopernicaClient(auth=BearerAuth("…"))\n'
    tree = PointAtTheFake().visit(ast.parse(code))
    text = ast.unparse(tree)
    assert PLACEHOLDER not in text
    assert "CopernicaClient(access_token=__fake_token__, endpoint=__fake_url__)" in text
    assert ("BearerAuth(__fake_token__, auth_endpoint=__fake_auth_url__), "
            "endpoint=__fake_url__)") in text


def test_an_excerpt_that_drifted_from_its_file_is_reported() -> None:
    doc = ROOT / "README.md"
    good = Snippet(doc, 1, "[project]\nname = \"copernica-sdk\"\n", "excerpt", "pyproject.toml")
    drifted = Snippet(doc, 1, "[project]\nname = \"another\"\n", "excerpt", "pyproject.toml")
    assert excerpt_problem(good) is None
    assert "not in pyproject.toml" in (excerpt_problem(drifted) or "")


def test_a_generated_snippet_that_drifted_from_the_template_is_reported() -> None:
    good = ('<!-- generated: pyproject.toml -->\n```toml\n'
            '[project.entry-points."copernica_sdk.connectors"]\n'
            'acme_shop = "acme_shop:AcmeShopConnector"\n```\n')
    drifted = good.replace("AcmeShopConnector", "ShopConnector")
    missing = good.replace("generated: pyproject.toml", "generated: setup.py")
    for text, says in ((good, None), (drifted, "not in pyproject.toml (in this order)"),
                       (missing, "writes no setup.py")):
        problems = generated_problems(text, "a document")
        assert (problems == []) if says is None else (says in problems[0]), problems
