"""The path grammar: one way to point into a JSON record, for the mapping's
expressions and for connectors' settings (``cms_generic``'s ``records``,
``primary_key``, ``incremental.cursor_field``, paginator paths).

A path is a chain of steps, reference in ``docs/mapping.md`` ("Paths")::

    billing.email                 keys, joined by dots
    line_items[0].sku             an index ([-1] is the last element)
    coupon_lines[*].code          every element (of a list, or an object's values): a list
    meta_data[key=newsletter].value   the first element whose `key` is `newsletter`
    ['odd key'].x                 a key that is not a plain name
    $parent.id  $record.id        roots (mapping, inside `each`); `$` or "" is the document

A plain name is any run of characters other than ``. [ ] ' " { } |`` and white
space that does not start with ``$``.  A path that does not exist in a document
gives ``None``, never an error: sources leave fields out all the time.

>>> parse_path("data[*].attributes.mail").get({"data": [{"attributes": {"mail": "a@x.nl"}}]})
['a@x.nl']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ._syntax import SyntaxProblem, is_quoted, scan, unquote

__all__ = ["DOCUMENT", "Path", "PathError", "as_path", "parse_path"]

#: ``fn(item, parent, record)``: the evaluator of a path, for hot loops.
Getter = Callable[[Any, Any, Any], Any]

_KEY, _INDEX, _ALL, _SELECT = range(4)
_NAME = re.compile(r"[^.\[\]'\"{}|\s$][^.\[\]'\"{}|\s]*")
_INT = re.compile(r"-?[0-9]+")
_SELECTOR = re.compile(r"([^.\[\]'\"{}|\s=]+)\s*=\s*(.*)", re.S)
_ROOTS = ("parent", "record")


class PathError(SyntaxProblem):
    """A path that cannot be parsed; the message names the path and what is wrong."""


class Step(NamedTuple):
    """One step of a path.  ``flatten``: a wildcard follows later, so a list this
    step's wildcard produces from nested wildcards is flattened into one."""

    kind: int
    arg: Any
    flatten: bool


@dataclass(frozen=True)
class Path:
    """A parsed path.  ``root`` is ``""`` (the document or ``each`` element),
    ``"parent"`` or ``"record"``; ``text`` is the path as written."""

    text: str
    root: str = ""
    steps: tuple[Step, ...] = ()
    _getter: Getter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_getter", _getter(self.root, self.steps))

    @property
    def is_document(self) -> bool:
        """Whether the path is the document itself (``""`` or ``$``)."""
        return not self.root and not self.steps

    @property
    def gives_one(self) -> bool:
        """Whether the path names one value (no ``[*]``): for keys and cursors."""
        return all(step.kind != _ALL for step in self.steps)

    @property
    def top_key(self) -> str | None:
        """The key when the path is one plain top-level key (``id``), else ``None``."""
        if self.root or len(self.steps) != 1 or self.steps[0].kind != _KEY:
            return None
        return str(self.steps[0].arg)

    @property
    def uses_parent(self) -> bool:
        """Whether the path reads ``$parent`` (only inside a mapping's ``each``)."""
        return self.root == "parent"

    @property
    def getter(self) -> Getter:
        """``fn(item, parent, record)``: what :meth:`get` does, as one plain callable."""
        return self._getter

    def get(self, document: Any, parent: Any = None, record: Any = None) -> Any:
        """The value at this path in ``document`` (``None`` when it is not there).
        ``parent`` is what ``$parent`` reads, ``record`` what ``$record`` reads
        (``document`` when not given)."""
        return self._getter(document, parent, record)

    def __str__(self) -> str:
        return self.text or "the top level"


@lru_cache(maxsize=4096)
def parse_path(text: str, *, one: bool = False) -> Path:
    """Parse ``text`` (see the module docstring), or raise :class:`PathError`.
    ``one``: the path must name one value (a record's key or cursor), so ``[*]``
    is refused."""
    path = _parse(text.strip())
    if one and not path.gives_one:
        raise PathError(f"{path.text!r} names every element ([*]); this setting needs one "
                        "value, e.g. items[0].id or meta[key=id].value")
    return path


def as_path(path: str | Path) -> Path:
    """``path`` parsed (a string) or as it is (a :class:`Path` already)."""
    return parse_path(path) if isinstance(path, str) else path


def _parse(text: str) -> Path:
    root = ""
    pos = 0
    expect_name = bool(text) and not text.startswith(("[", "$"))
    if text.startswith("$"):
        m = re.match(r"\$([A-Za-z_]*)", text)
        name = m.group(1) if m else ""
        if name and name not in _ROOTS:
            raise PathError(f"unknown path root '${name}' in {text!r} (use $parent or $record)")
        root = name
        pos = m.end() if m else 1
        if pos < len(text) and text[pos] not in ".[":
            raise PathError(f"expected '.' after ${name} in {text!r}")
        if not name and text[pos:pos + 1] == ".":
            pos += 1  # "$.data": JSONPath's spelling of "data"
            expect_name = True
    steps: list[tuple[int, Any]] = []
    n = len(text)
    while pos < n or expect_name:
        if expect_name:
            m = _NAME.match(text, pos)
            if not m:
                bad = text[pos:] or "end of path"
                raise PathError(f"expected a field name at {bad!r} in {text!r}")
            steps.append((_KEY, m.group(0)))
            pos = m.end()
            expect_name = False
        elif text[pos] == ".":
            pos += 1
            expect_name = True
        elif text[pos] == "[":
            try:
                end = scan(text, pos + 1, "]")
            except SyntaxProblem as problem:
                raise PathError(str(problem)) from None
            if end >= n:
                raise PathError(f"unclosed '[' in {text!r}")
            steps.append(_parse_bracket(text[pos + 1 : end].strip(), text))
            pos = end + 1
        else:
            hint = ""
            if text[pos].isspace() and not any(c in text for c in ".[]'\""):
                hint = f" (a name with spaces is quoted: ['{text}'])"
            raise PathError(f"unexpected {text[pos:]!r} in path {text!r}{hint}")
    later_wildcard = False
    out: list[Step] = []
    for kind, arg in reversed(steps):
        out.append(Step(kind, arg, later_wildcard))
        later_wildcard = later_wildcard or kind == _ALL
    out.reverse()
    return Path(text, root, tuple(out))


def _parse_bracket(inner: str, text: str) -> tuple[int, Any]:
    if inner == "*":
        return (_ALL, None)
    if _INT.fullmatch(inner):
        return (_INDEX, int(inner))
    try:
        if inner[:1] in ("'", '"'):
            return (_KEY, unquote(inner))
        m = _SELECTOR.fullmatch(inner)
        if m:
            literal = m.group(2).strip()
            if is_quoted(literal):
                literal = unquote(literal)
            elif not literal:
                raise PathError(f"selector [{inner}] needs a value in {text!r}")
            return (_SELECT, (m.group(1), literal))
    except SyntaxProblem as problem:
        raise PathError(str(problem)) from None
    raise PathError(f"bad index [{inner}] in {text!r} (use [0], [*], [field=value] or ['key'])")


def _child(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    return None


def _matches(candidate: Any, literal: str) -> bool:
    if isinstance(candidate, str):
        return candidate == literal
    if candidate is None or isinstance(candidate, Mapping | list):
        return False
    if isinstance(candidate, bool):
        return literal == ("1" if candidate else "0") or literal.lower() == str(candidate).lower()
    return str(candidate) == literal


def _walk(value: Any, steps: tuple[Step, ...], start: int) -> Any:
    for i in range(start, len(steps)):
        if value is None:
            return None
        kind, arg, flatten = steps[i]
        if kind == _KEY:
            value = _child(value, arg)
        elif kind == _INDEX:
            if isinstance(value, list | tuple):
                value = value[arg] if -len(value) <= arg < len(value) else None
            else:
                # PHP sources encode some arrays as objects keyed "0", "1", …
                value = _child(value, str(arg))
        elif kind == _SELECT:
            name, literal = arg
            found = None
            if isinstance(value, list | tuple):
                for element in value:
                    if isinstance(element, Mapping) and _matches(element.get(name), literal):
                        found = element
                        break
            value = found
        else:  # _ALL
            if isinstance(value, Mapping):
                elements: Any = list(value.values())
            elif isinstance(value, list | tuple):
                elements = value
            else:
                return None
            results: list[Any] = []
            for element in elements:
                got = _walk(element, steps, i + 1)
                if flatten and isinstance(got, list):
                    results.extend(got)
                else:
                    results.append(got)
            return results
    return value


def _getter(root: str, steps: tuple[Step, ...]) -> Getter:
    simple = all(kind == _KEY for kind, _, _ in steps)
    # Most paths are one or two plain keys; give those a getter without the loop
    # (the mapping evaluates one per field of every record).
    if root == "" and simple and len(steps) == 1:
        key = steps[0].arg

        def get_one(item: Any, parent: Any, record: Any) -> Any:
            if isinstance(item, dict):
                return item.get(key)
            return _child(item, key)

        return get_one
    if simple:
        keys = tuple(step.arg for step in steps)

        def get_keys(item: Any, parent: Any, record: Any) -> Any:
            value = item if root == "" else parent if root == "parent" else (
                item if record is None else record)
            for key in keys:
                if isinstance(value, dict):
                    value = value.get(key)
                else:
                    value = _child(value, key)
                    if value is None:
                        return None
            return value

        return get_keys

    def get_path(item: Any, parent: Any, record: Any) -> Any:
        value = item if root == "" else parent if root == "parent" else (
            item if record is None else record)
        return _walk(value, steps, 0)

    return get_path


#: The document itself (the empty path).
DOCUMENT = parse_path("")
