"""The mapping expression language: ``SOURCE | transform | transform:arg | …``.

An expression is compiled once when the job's configuration is loaded and then
evaluated for every record, so compiling does all the parsing and validation
and evaluation is a short chain of plain function calls.

SOURCE is one of

- a path: ``billing.email``, ``line_items[0].sku``, ``line_items[-1].sku``,
  ``coupon_lines[*].code`` (a list), ``meta_data[key=newsletter].value`` (the
  first element whose ``key`` equals the literal), ``['odd key']`` (a key that
  is not a plain name); ``$parent.`` reaches the record from inside an ``each``
  element and ``$record.`` reaches the record from anywhere.  A path that does
  not exist gives ``None``: sources leave fields out all the time.
- a quoted literal: ``'text'`` or ``"text"`` (backslash escapes the next character).
- a template: ``"{$parent.id}-{id}"``.  A placeholder holds a whole expression
  (``{last_name | default:''}``).  The template gives ``None`` when any
  placeholder gives ``None``, so a composite key never silently loses a part;
  ``{{`` and ``}}`` are literal braces.

Paths are the shared grammar of :mod:`copernica_sdk.sync.paths`.  Transforms
are listed in :data:`KNOWN_TRANSFORMS`; ``docs/mapping.md`` says what each does.  Transforms that work on one
value are applied to every element of a list, so ``coupon_lines[*].code | upper
| join:','`` works.  A value a transform cannot handle raises
:class:`TransformError` (a :class:`MappingError`), which dead-letters the record.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ..values import to_wire
from ._syntax import SyntaxProblem as _SyntaxProblem
from ._syntax import scan as _scan
from ._syntax import unquote as _unquote
from .errors import ConfigError, MappingError
from .paths import Getter, parse_path

__all__ = [
    "KNOWN_TRANSFORMS",
    "Expression",
    "TransformError",
    "compile_expression",
    "show_value",
]

Transform = Callable[[Any], Any]


class TransformError(MappingError):
    """A value could not be transformed.  ``reason`` is a short phrase ("not a
    number"), ``value`` the offending input, ``transform`` the transform as
    written and ``source`` the expression's source, filled in on the way out."""

    def __init__(self, reason: str, value: Any, transform: str) -> None:
        self.reason = reason
        self.value = value
        self.transform = transform
        self.source = ""
        super().__init__(reason)

    def __str__(self) -> str:
        where = f" at {self.source}" if self.source else ""
        return f"{self.reason}{where} ({show_value(self.value)}, transform {self.transform})"


def show_value(value: Any, limit: int = 80) -> str:
    """A short, safe rendering of ``value`` for error messages: never a whole
    record (they can be megabytes), at most ``limit`` characters."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, Mapping):
        return f"an object with {len(value)} keys"
    elif isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split_pipes(text: str) -> list[str]:
    parts: list[str] = []
    i = 0
    while True:
        j = _scan(text, i, "|", brace_escapes=True)
        parts.append(text[i:j].strip())
        if j >= len(text):
            return parts
        i = j + 1


# ---------------------------------------------------------------------------
# Paths: the shared grammar of copernica_sdk.sync.paths.


def _path_getter(text: str) -> tuple[Getter, bool]:
    path = parse_path(text)
    return path.getter, path.uses_parent


# ---------------------------------------------------------------------------
# Templates.


def _template_getter(text: str) -> tuple[Getter, bool, list[str]]:
    parts: list[str | Expression] = []
    buf: list[str] = []
    problems: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "{" and text.startswith("{{", i):
            buf.append("{")
            i += 2
        elif c == "}" and text.startswith("}}", i):
            buf.append("}")
            i += 2
        elif c == "{":
            end = _scan(text, i + 1, "}")
            if end >= n:
                raise _SyntaxProblem(f"unclosed '{{' in template {text!r}")
            inner = text[i + 1 : end].strip()
            if not inner:
                raise _SyntaxProblem(f"empty placeholder {{}} in template {text!r}")
            if buf:
                parts.append("".join(buf))
                buf = []
            try:
                parts.append(_compile(inner))
            except _CompileFailure as failure:
                problems.extend(failure.problems)
            i = end + 1
        elif c == "}":
            raise _SyntaxProblem(f"unmatched '}}' in template {text!r} (write '}}}}' for a brace)")
        else:
            buf.append(c)
            i += 1
    if buf:
        parts.append("".join(buf))
    # (literal text, None) or ("", placeholder): one test per part at run time.
    pieces = tuple((p, None) if isinstance(p, str) else ("", p) for p in parts)
    uses_parent = any(p is not None and p.uses_parent for _, p in pieces)

    def render(item: Any, parent: Any, record: Any) -> Any:
        out: list[str] = []
        for literal, part in pieces:
            if part is None:
                out.append(literal)
                continue
            value = part.fn(item, parent, record)
            if type(value) is str:
                out.append(value)
            elif value is None:
                return None
            else:
                out.append(_placeholder_text(value, part))
        return "".join(out)

    return render, uses_parent, problems


def _placeholder_text(value: Any, part: Expression) -> str:
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        error = TransformError("a placeholder must give one value; add | join:SEP or pick "
                               "one element", value, "{" + part.text + "}")
        error.source = part.source
        raise error
    return _text(value, "{" + part.text + "}")


# ---------------------------------------------------------------------------
# Transforms.  Each factory takes the argument text (None when absent) and
# returns the transform; argument problems raise _SyntaxProblem at compile time.


def _text(value: Any, name: str) -> str:
    """One scalar as text, the way Copernica would store it."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        raise TransformError("expected a single value, got an object", value, name)
    if isinstance(value, list | tuple):
        raise TransformError("expected a single value, got a list", value, name)
    try:
        return to_wire(value, field=name)
    except ValueError as exc:
        raise TransformError(f"cannot use this value ({exc})", value, name) from None


def _each(fn: Callable[[Any], Any]) -> Transform:
    """Lift a one-value transform so it also maps over lists; None stays None."""

    def apply(value: Any) -> Any:
        if type(value) is str:
            return fn(value)
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return [None if v is None else fn(v) for v in value]
        return fn(value)

    return apply


def _no_arg(name: str, arg: str | None) -> None:
    if arg is not None:
        raise _SyntaxProblem(f"transform '{name}' takes no argument (got {name}:{arg})")


def _int_arg(name: str, arg: str | None, low: int, high: int) -> int:
    if arg is None or not re.fullmatch(r"[0-9]+", arg) or not low <= int(arg) <= high:
        raise _SyntaxProblem(f"transform '{name}' needs a whole number from {low} to {high}, "
                             f"e.g. {name}:{low if low else 2} (got {name}:{arg or ''})")
    return int(arg)


def _t_lower(arg: str | None) -> Transform:
    _no_arg("lower", arg)
    return _each(lambda v: _text(v, "lower").lower())


def _t_upper(arg: str | None) -> Transform:
    _no_arg("upper", arg)
    return _each(lambda v: _text(v, "upper").upper())


def _t_html_unescape(arg: str | None) -> Transform:
    # WordPress stores names through its HTML filter: "Tom & Jerry" arrives as "Tom &amp; Jerry".
    _no_arg("html_unescape", arg)
    return _each(lambda v: html.unescape(_text(v, "html_unescape")))


def _t_strip(arg: str | None) -> Transform:
    _no_arg("strip", arg)
    return _each(lambda v: _text(v, "strip").strip())


_WHITESPACE = re.compile(r"\s")


def _normalize_email(value: Any) -> str | None:
    text = _text(value, "normalize_email").strip().lower()
    if not text:
        # Empty is "no address", not a bad one: `default` can handle it and the
        # key check reports it as missing.
        return None
    local, _, domain = text.partition("@")
    if (
        text.count("@") != 1
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or ".." in domain
        or _WHITESPACE.search(text)
    ):
        raise TransformError("no usable e-mail", value, "normalize_email")
    return text


def _t_normalize_email(arg: str | None) -> Transform:
    _no_arg("normalize_email", arg)
    return _each(_normalize_email)


def _parse_when(value: Any, name: str) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        # MySQL's zero dates are how PHP shops say "no date".
        if not text or text.startswith("0000-00-00"):
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise TransformError("not an ISO-8601 date", value, name) from None
    else:
        raise TransformError("not an ISO-8601 date", value, name)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):
            raise TransformError("date out of range", value, name) from None
    return moment


def _t_date(arg: str | None) -> Transform:
    _no_arg("date", arg)

    def to_date(value: Any) -> str | None:
        m = _parse_when(value, "date")
        return None if m is None else f"{m.year:04d}-{m.month:02d}-{m.day:02d}"

    return _each(to_date)


def _t_datetime(arg: str | None) -> Transform:
    _no_arg("datetime", arg)

    def to_datetime(value: Any) -> str | None:
        m = _parse_when(value, "datetime")
        if m is None:
            return None
        return (f"{m.year:04d}-{m.month:02d}-{m.day:02d} "
                f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}")

    return _each(to_datetime)


_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Roomy enough that quantising any sane amount never runs out of digits; the
# exponent bound keeps "1e999999" from becoming a megabyte of zeros.
_DECIMAL_CONTEXT = Context(prec=120, rounding=ROUND_HALF_UP)
_MAX_EXPONENT = 60


def _to_decimal(value: Any, name: str) -> Decimal | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # Stricter than Decimal(): no "1_000", "NaN" or non-ASCII digits.
        if not _DECIMAL.fullmatch(text):
            raise TransformError("not a number", value, name)
        number = Decimal(text)
    elif isinstance(value, bool):
        raise TransformError("not a number", value, name)
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest text that round-trips: 0.1 stays 0.1, not 0.1000000000000000055…
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        raise TransformError("not a number", value, name)
    if not number.is_finite():
        raise TransformError("not a finite number", value, name)
    if number and number.adjusted() > _MAX_EXPONENT:
        raise TransformError("number out of range", value, name)
    return number


def _t_number(arg: str | None) -> Transform:
    places = _int_arg("number", arg, 0, 20)
    quantum = Decimal(1).scaleb(-places)
    name = f"number:{places}"

    def to_number(value: Any) -> str | None:
        number = _to_decimal(value, name)
        if number is None:
            return None
        try:
            rounded = number.quantize(quantum, context=_DECIMAL_CONTEXT)
        except InvalidOperation:
            raise TransformError("number out of range", value, name) from None
        if not rounded:
            rounded = abs(rounded)  # no "-0.00"
        return format(rounded, "f")

    return _each(to_number)


def _t_int(arg: str | None) -> Transform:
    _no_arg("int", arg)

    def to_int(value: Any) -> str | None:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        number = _to_decimal(value, "int")
        if number is None:
            return None
        if number != number.to_integral_value():
            # Dropping a fraction silently would corrupt amounts; rounding is explicit.
            raise TransformError("not a whole number (use number:0 to round)", value, "int")
        whole = number.quantize(Decimal(1), context=_DECIMAL_CONTEXT)
        return format(whole if whole else abs(whole), "f")

    return _each(to_int)


_TRUTHY = frozenset({"yes", "true", "1", "on"})


def _t_bool(arg: str | None) -> Transform:
    _no_arg("bool", arg)

    def to_bool(value: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int | float | Decimal):
            return "1" if value else "0"
        if isinstance(value, str):
            return "1" if value.strip().lower() in _TRUTHY else "0"
        raise TransformError("expected a single value, got "
                             + ("an object" if isinstance(value, Mapping) else "a list"),
                             value, "bool")

    return _each(to_bool)


def _t_join(arg: str | None) -> Transform:
    separator = "," if arg is None else arg
    name = f"join:{separator!r}"

    def join(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return separator.join(_text(v, name) for v in value if v is not None)
        return _text(value, name)

    return join


def _t_default(arg: str | None) -> Transform:
    if arg is None:
        raise _SyntaxProblem("transform 'default' needs a value, e.g. default:'0'")
    fallback = arg

    def default(value: Any) -> Any:
        if value is None or value == "" or (isinstance(value, list) and not value):
            return fallback
        return value

    return default


def _t_truncate(arg: str | None) -> Transform:
    limit = _int_arg("truncate", arg, 1, 1_000_000)
    return _each(lambda v: _text(v, "truncate")[:limit])


def _t_split(arg: str | None) -> Transform:
    separator = "," if arg is None else arg
    if not separator:
        raise _SyntaxProblem("transform 'split' needs a non-empty separator")
    name = f"split:{separator!r}"

    def split_one(value: Any) -> list[str]:
        text = _text(value, name)
        return text.split(separator) if text else []

    def split(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return [part for v in value if v is not None for part in split_one(v)]
        return split_one(value)

    return split


_FACTORIES: dict[str, Callable[[str | None], Transform]] = {
    "bool": _t_bool,
    "date": _t_date,
    "datetime": _t_datetime,
    "default": _t_default,
    "html_unescape": _t_html_unescape,
    "int": _t_int,
    "join": _t_join,
    "lower": _t_lower,
    "normalize_email": _t_normalize_email,
    "number": _t_number,
    "split": _t_split,
    "strip": _t_strip,
    "truncate": _t_truncate,
    "upper": _t_upper,
}

#: Names of the transforms an expression may use.
KNOWN_TRANSFORMS: tuple[str, ...] = tuple(sorted(_FACTORIES))


def _parse_transform(text: str) -> Transform:
    name, colon, raw = text.partition(":")
    name = name.strip()
    arg: str | None = None
    if colon:
        raw = raw.strip()
        arg = _unquote(raw) if raw[:1] in ("'", '"') else raw
    factory = _FACTORIES.get(name)
    if factory is None:
        if not name:
            raise _SyntaxProblem("empty transform (two '|' in a row or a trailing '|')")
        close = difflib.get_close_matches(name, KNOWN_TRANSFORMS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise _SyntaxProblem(
            f"unknown transform '{name}' (known: {', '.join(KNOWN_TRANSFORMS)}){hint}")
    return factory(arg)


# ---------------------------------------------------------------------------
# Compiling.


class Expression:
    """A compiled expression.  ``text`` is the expression as written, ``source``
    its SOURCE part (used in error messages) and ``uses_parent`` tells whether it
    needs an ``each`` element's parent record (``$parent.``).  ``fn`` is the
    evaluator as one plain callable ``fn(item, parent, record)``, for hot loops."""

    __slots__ = ("fn", "source", "text", "uses_parent")

    def __init__(self, text: str, source: str, get: Getter,
                 transforms: tuple[Transform, ...], uses_parent: bool) -> None:
        self.text = text
        self.source = source
        self.uses_parent = uses_parent
        self.fn: Getter = get if not transforms else _chain(get, transforms, source)

    def evaluate(self, item: Any, parent: Any = None, record: Any = None) -> Any:
        """Evaluate against ``item`` (the record, or an ``each`` element).
        ``parent`` is what ``$parent.`` reads and ``record`` what ``$record.``
        reads (``item`` when not given).  Raises :class:`TransformError`."""
        return self.fn(item, parent, record)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _chain(get: Getter, transforms: tuple[Transform, ...], source: str) -> Getter:
    # Specialised for the common one-transform case: evaluation runs for every
    # field of every record, so a saved loop is measurable.
    if len(transforms) == 1:
        only = transforms[0]

        def run_one(item: Any, parent: Any, record: Any) -> Any:
            try:
                return only(get(item, parent, record))
            except TransformError as error:
                if not error.source:
                    error.source = source
                raise

        return run_one

    def run(item: Any, parent: Any, record: Any) -> Any:
        value = get(item, parent, record)
        try:
            for transform in transforms:
                value = transform(value)
        except TransformError as error:
            if not error.source:
                error.source = source
            raise
        return value

    return run


class _CompileFailure(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@lru_cache(maxsize=4096)
def _compile(text: str) -> Expression:
    """Compile ``text``; the cache makes the same expression used by several
    fields or by repeated config loads cost nothing (Expressions are immutable)."""
    try:
        pieces = _split_pipes(text)
    except _SyntaxProblem as problem:
        raise _CompileFailure([str(problem)]) from None
    source = pieces[0]
    problems: list[str] = []
    get: Getter | None = None
    uses_parent = False
    try:
        if not source:
            raise _SyntaxProblem("missing source (a path, a 'literal' or a {template})")
        if source[0] in "'\"":
            constant = _unquote(source)

            def get_literal(item: Any, parent: Any, record: Any) -> Any:
                return constant

            get = get_literal
        elif "{" in source:
            get, uses_parent, nested = _template_getter(source)
            problems.extend(nested)
        else:
            get, uses_parent = _path_getter(source)
    except _SyntaxProblem as problem:
        problems.append(str(problem))
    transforms: list[Transform] = []
    for piece in pieces[1:]:
        try:
            transforms.append(_parse_transform(piece))
        except _SyntaxProblem as problem:
            problems.append(str(problem))
    if problems or get is None:
        raise _CompileFailure(problems)
    return Expression(text.strip(), source, get, tuple(transforms), uses_parent)


def compile_expression(text: str, *, key: str = "expression") -> Expression:
    """Compile ``text``, or raise :class:`ConfigError` with every problem in it,
    each prefixed with ``key`` (the config key the expression came from)."""
    if not isinstance(text, str):
        raise ConfigError(f"{key}: expected an expression string, got {type(text).__name__}")
    try:
        return _compile(text)
    except _CompileFailure as failure:
        raise ConfigError([f"{key}: {problem}" for problem in failure.problems]) from None
