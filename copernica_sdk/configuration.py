"""The one configuration model: pydantic v2 tables and how their errors read.

Every table of the configuration — the job's ``[copernica]``, ``[sync]`` and
``[license]``, the connectors' ``[source]`` (declared with
:class:`~copernica_sdk.sync.connector.ConfigField`), cms_generic's nested
tables and the ``[target]`` mapping — is a :class:`Table`: a frozen pydantic
model that refuses unknown keys, booleans where numbers are due, text where a
number is due (the file writes numbers as numbers), NaN and infinity.

:func:`validate` turns pydantic's :class:`~pydantic.ValidationError` into the
problems users read, all at once, each with its full dotted key::

    jobs.shop1.sync.concurrency: must be a whole number from 1 to 64, got a boolean true
    source.streams.posts.colour: unknown setting (known: …); did you mean 'color'?
    copernica.access_token: must be the access token as text, got a whole number (hidden)

A field's ``description`` says what it must be (the message's "must be …"),
``json_schema_extra={"secret": True}`` hides its value, and ``{"hint": "…"}``
says where to get a missing value.  A value is shown only when it is a single
non-secret scalar: a list or table is named by its kind, never printed, and
pydantic's own error text (which quotes the input) is never used.

This module imports pydantic: import it lazily from command paths that must
start fast (``copernica-sync --help`` never imports it).
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .errors import ConfigError

__all__ = [
    "PROBLEM",
    "Table",
    "kind_of",
    "problem",
    "problems_of",
    "read_text_as",
    "show_number",
    "show_value",
    "validate",
]

#: The pydantic error type of a problem a validator words itself (see :func:`problem`).
PROBLEM = "config_problem"

M = TypeVar("M", bound=BaseModel)

#: What a value must be, by pydantic's error type, where no description says it.
_TYPE_WORDS = {"string_type": "text", "int_type": "a whole number", "float_type": "a number",
               "bool_type": "true or false", "dict_type": "a table", "model_type": "a table",
               "list_type": "a list", "finite_number": "a finite number",
               "string_too_short": "longer text", "string_too_long": "shorter text"}

#: Range errors of a field whose description names no bound: the bound is added.
_LIMITS = {"greater_than": ("above", "gt"), "greater_than_equal": ("of at least", "ge"),
           "less_than": ("below", "lt"), "less_than_equal": ("of at most", "le")}


class Table(BaseModel):
    """Base of every configuration table: strict, frozen, no unknown keys."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,  # str(ValidationError) must never show a secret
        arbitrary_types_allowed=True,
    )

    #: What an unknown key of this table is called in messages ("setting", "key").
    unknown_word: ClassVar[str] = "setting"
    #: What this table must be, when something else stands where it belongs.
    expected: ClassVar[str] = "a table"


def problem(message: str, *, at: str | None = None) -> PydanticCustomError:
    """An error for a validator to raise, worded by hand: ``message`` is shown after
    the key; ``at`` names a key below the one validated (``"access_token"``), or
    replaces its last part when it starts with ``"^"`` (``"^username/password"``)."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "at": at or ""})


def validate(model: type[M], data: Any, prefix: str = "", *, unknown: str | None = None,
             context: Mapping[str, Any] | None = None) -> M:
    """``data`` as ``model``, or :class:`ConfigError` listing every problem."""
    try:
        return model.model_validate(data, context=dict(context or {}))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc, model, prefix, unknown=unknown)) from None


def problems_of(error: ValidationError, model: type[BaseModel], prefix: str = "", *,
                unknown: str | None = None) -> list[str]:
    """The user-facing problems of ``error``: one per pydantic error, each keyed
    ``prefix.dotted.key``; values of secret fields and containers are not shown."""
    out: list[str] = []
    errors = error.errors(include_url=False, include_context=True, include_input=True)
    # A table's own keys before what is inside its tables (parents first); stable.
    for err in sorted(errors, key=lambda e: len(e["loc"])):
        loc = tuple(err["loc"])
        found = _walk(model, loc)
        key = _dotted(prefix, loc)
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == PROBLEM:
            at = str(ctx.get("at", ""))
            if at.startswith("^"):
                key = _dotted(prefix, (*loc[:-1], at[1:]))
            elif at:
                key = _dotted(prefix, (*loc, at))
            out.append(f"{key}: {ctx.get('message', err['msg'])}")
        elif kind == "extra_forbidden":
            parent = _walk(model, loc[:-1]).model
            names = _names(parent) if parent is not None else []
            word = unknown if (unknown and len(loc) == 1) else getattr(
                parent, "unknown_word", "setting")
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            out.append(f"{key}: unknown {word} (known: {', '.join(names) or 'none'}){hint}")
        elif kind == "missing":
            where = found.hint if found.hint is not None else found.expected
            out.append(f"{key}: required" + (f" — {where}" if where else ""))
        else:
            value = err.get("input")
            got = show_value(value, secret=found.secret)
            expected = found.expected or _TYPE_WORDS.get(kind)
            if kind == "literal_error" and not found.expected:
                expected = f"one of {ctx.get('expected', '')}".replace("'", "")
            if expected:
                limit = _LIMITS.get(kind)
                bound = f" {limit[0]} {_bound(ctx.get(limit[1]))}" \
                    if limit and not any(c.isdigit() for c in expected) else ""
                out.append(f"{key}: must be {expected}{bound}, got {got}")
            else:
                out.append(f"{key}: {err['msg'].rstrip('.').lower()}, got {got}")
    return out


def read_text_as(annotation: Any, value: Any) -> Any:
    """An environment variable's text read as the number or boolean ``annotation``
    is (``"50"`` → 50 for an int); anything else, and text that does not read, as
    it is, so that validation names the problem."""
    if not isinstance(value, str):
        return value
    base = _unwrap(annotation)
    if base not in (int, float, bool):
        return value
    try:
        return TypeAdapter(base).validate_python(value.strip(), strict=False)
    except ValidationError:
        return value


def kind_of(value: Any) -> str:
    """A TOML word for a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if value is None:
        return "nothing"
    return type(value).__name__


def show_number(value: int | float) -> str:
    """A number for a message; huge ones briefly (``str()`` of a 5,000-digit int fails)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit whole number"
    return f"{value:g}" if isinstance(value, float) else str(value)


def show_value(value: Any, *, secret: bool = False) -> str:
    """``value`` for a message: its kind, and the value itself when it is a single
    non-secret scalar (text cut at 80 characters); ``inf``/``nan`` as such."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if secret or not _is_scalar(value):
        return kind_of(value) + (" (hidden)" if secret else "")
    if isinstance(value, bool):
        return f"a boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        number = show_number(value)
        return number if number.startswith("a ") else f"{kind_of(value)} {number}"
    text = repr(value if len(value) <= 80 else value[:77] + "...")
    return f"text {text}"


# ---------------------------------------------------------------------------
# Walking a model along an error's location


class _Found(typing.NamedTuple):
    expected: str | None = None
    hint: str | None = None
    secret: bool = False
    model: type[BaseModel] | None = None


def _bound(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return show_number(value) if isinstance(value, int | float) else str(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _dotted(prefix: str, loc: Iterable[Any]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def _names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _field(model: type[BaseModel], name: Any) -> FieldInfo | None:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def _unwrap(tp: Any) -> Any:
    """``tp`` without ``Annotated`` and ``None`` (``X | None`` → ``X``)."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_of(tp: Any) -> type[BaseModel] | None:
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> _Found:
    """What the field at ``loc`` must be, whether it is secret, and the model there."""
    tp: Any = model
    expected: str | None = None
    hint: str | None = None
    secret = False
    for part in loc:
        tp = _unwrap(tp)
        current = _model_of(tp)
        if current is not None:
            info = _field(current, part)
            if info is None:
                return _Found(None, None, secret, None)
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            expected = info.description
            hint = extra.get("hint") if isinstance(extra.get("hint"), str) else None  # type: ignore[assignment]
            secret = secret or bool(extra.get("secret"))
            tp = info.annotation
            continue
        origin = get_origin(tp)
        args = get_args(tp)
        if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
            tp = args[1] if len(args) == 2 else Any
        elif origin in (list, tuple) and args:
            tp = args[0]
        else:
            return _Found(expected, hint, secret, None)
        expected = hint = None
    inner = _model_of(_unwrap(tp))
    if inner is not None and expected is None:
        expected = getattr(inner, "expected", None)
    return _Found(expected, hint, secret, inner)
