"""The connector API partners implement: a config spec, ``check()`` and streams.

A connector reads one source (a shop, a CMS, a file export).  Each of its
streams yields pages of records — plain dicts as the source returns them — and
says which field is the record's primary key and, where the source has one,
which field orders changes (the replication key).  Everything else — state,
mapping to Copernica, batching, retries, dead letters, locking — is the
framework's job.

Minimal example::

    class Members(Stream):
        name = "members"
        primary_key = "id"
        replication_key = "updated_at"
        is_sorted = True

        def read(self, start, until):
            yield from self.connector.api.pages("/members", since=start, until=until)

    class MyCms(Connector):
        name = "my_cms"
        config_spec = (ConfigField("base_url"), ConfigField("api_key", secret=True))

        def check(self) -> None:
            self.api.ping()

        def streams(self):
            return [Members(self)]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from .errors import ConfigError

__all__ = ["DEFERRED", "MASK", "ConfigField", "Connector", "PageItem", "Record", "Rejected",
           "Skipped", "Stream"]

#: What secret values are shown as (``config show``, error messages).
MASK = "********"

#: A number setting without a declared ``maximum`` is still refused beyond this:
#: no count, size or duration of a sync is that large, and such values crash
#: the libraries they reach (``sleep(1e300)``, ``range(10**30)``).
ABSURD = 10**12

#: The pydantic model of each connector's spec (see :meth:`Connector.config_model`).
_MODELS: dict[tuple[type, tuple[ConfigField, ...]], type[Any]] = {}

#: A record as the source returns it (JSON-like).
Record = dict[str, Any]


@dataclass(frozen=True)
class Skipped:
    """A record the source returned that the stream deliberately does not sync.

    Yield it in a page instead of the record (``yield [r if keep(r) else Skipped(r,
    "no e-mail address") for r in page]``): the engine counts it per ``reason``
    (summary line, ``totals()``, ``state show``), so every record read is
    accounted for as written, unchanged, dead-lettered or skipped.  Nothing is
    written or dead-lettered for it; keep ``reason`` short and the same for every
    record skipped for the same cause (it is the key the counts are grouped by).
    """

    record: Record
    reason: str


@dataclass(frozen=True)
class Rejected:
    """A record the source returned that cannot be used as it came (e.g. it could
    not be decoded): the engine dead-letters it with ``reason``, keyed by its
    primary key if ``record`` still carries one, and the rest of the page syncs."""

    record: Record
    reason: str


#: The reason for records changed after the run started (at or after ``until``):
#: they are counted as skipped and synced by the next run, whose window starts
#: before them.
DEFERRED = "changed after the run started; synced by the next run"

#: What a page of :meth:`Stream.read` may hold.
PageItem = Record | Skipped | Rejected

#: The ``type`` names a :class:`ConfigField` may have, and what each must be.
_TYPES: dict[str, str] = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a table",
}


@dataclass(frozen=True)
class ConfigField:
    """One setting of a connector.  ``secret`` ones are masked everywhere.

    A thin declaration of a field of the connector's pydantic model
    (:meth:`Connector.config_model`, see :mod:`copernica_sdk.configuration`):
    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``;
    ``description`` is the hint shown when a required setting is missing.

    ``secret_keys`` (for ``dict`` and ``list`` settings): the keys inside the
    table whose values are secret, at any depth — a plain name (``"password"``)
    matches that key wherever it occurs, a dotted path (``"oauth.secret"``)
    only there.  Both may be shell-style patterns, compared without regard to
    case (``"*token*"`` for a free-form table of headers, ``"*.headers.*auth*"``
    for the headers of every entry of a table).  They are masked and redacted
    like ``secret`` settings.

    ``minimum`` / ``maximum`` bound ``int`` and ``float`` settings; infinity,
    NaN and booleans are always refused, and so is any number beyond
    :data:`ABSURD` when no ``maximum`` is given.  Text is read as a number or a
    boolean where one is due (``COPERNICA_SYNC__SOURCE__PER_PAGE=50``).
    """

    name: str
    type: str = "str"
    required: bool = True
    default: Any = None
    secret: bool = False
    description: str = ""
    choices: tuple[Any, ...] = ()
    secret_keys: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"ConfigField {self.name!r}: type must be one of {sorted(_TYPES)}")
        if self.secret_keys and self.type not in ("dict", "list"):
            raise ValueError(f"ConfigField {self.name!r}: secret_keys needs a dict or list "
                             "setting (use secret=True for a single value)")

    @property
    def expected(self) -> str:
        """What a value must be, for messages (``a whole number from 1 to 100``)."""
        if self.choices:
            return f"one of {', '.join(map(str, self.choices))}"
        text = _TYPES[self.type]
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            text += f" from {_bound(low)} to {_bound(high)}"
        elif low is not None:
            text += f" of at least {_bound(low)}"
        elif high is not None:
            text += f" of at most {_bound(high)}"
        return text

    def pydantic_field(self) -> tuple[Any, Any]:
        """``(annotation, FieldInfo)`` of this setting for ``pydantic.create_model``."""
        from typing import Annotated

        from pydantic import AfterValidator, BeforeValidator, Field

        base: Any = {"str": str, "int": int, "float": float, "bool": bool, "list": list[Any],
                     "dict": dict[str, Any]}[self.type]
        meta: list[Any] = [BeforeValidator(self._read)]
        if self.type in ("int", "float"):
            meta.append(Field(ge=self.minimum if self.minimum is not None else -ABSURD,
                              le=self.maximum if self.maximum is not None else ABSURD))
        if self.choices:
            meta.append(AfterValidator(self._one_of))
        required = self.required and self.default is None
        info = Field(... if required else self.default, alias=self.name,
                     description=self.expected, repr=not self.secret,
                     json_schema_extra={"secret": self.secret, "hint": self.description})
        return Annotated[base, *meta], info

    def _read(self, value: Any) -> Any:
        """Text read as the number or boolean due (environment overrides are text)."""
        from ..configuration import read_text_as

        if isinstance(value, tuple) and self.type == "list":
            return list(value)
        if self.type in ("int", "float", "bool"):
            return read_text_as({"int": int, "float": float, "bool": bool}[self.type], value)
        return value

    def _one_of(self, value: Any) -> Any:
        if value not in self.choices:
            from ..configuration import problem

            raise problem(f"must be one of {', '.join(map(str, self.choices))}")
        return value


def _bound(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _is_secret_key(rel: tuple[str, ...], secret_keys: tuple[str, ...]) -> bool:
    name, path = rel[-1].lower(), ".".join(rel).lower()
    return any(fnmatchcase(path if "." in key else name, key.lower()) for key in secret_keys)


def _nested_secrets(value: Any, key: str, secret_keys: tuple[str, ...],
                    rel: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` of every secret inside a table, at any depth."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            child = (*rel, str(k))
            if _is_secret_key(child, secret_keys):
                yield f"{key}.{k}", v
            else:
                yield from _nested_secrets(v, f"{key}.{k}", secret_keys, child)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _nested_secrets(v, f"{key}[{i}]", secret_keys, rel)


def _masked(value: Any, secret_keys: tuple[str, ...], rel: tuple[str, ...] = ()) -> Any:
    if isinstance(value, Mapping):
        return {k: (MASK if _is_secret_key((*rel, str(k)), secret_keys) and v not in (None, "")
                    else _masked(v, secret_keys, (*rel, str(k))))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, secret_keys, rel) for v in value]
    return value


def _leaves(value: Any) -> Iterator[str]:
    """The text of every scalar inside a secret value (a secret may be a table)."""
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value not in (None, "") and not isinstance(value, bool):
        yield str(value)


class Connector(ABC):
    """Base class of every connector.  Subclasses set :attr:`name` and
    :attr:`config_spec` and implement :meth:`check` and :meth:`streams`."""

    #: The name users write in ``[source] connector = "…"``.
    name: ClassVar[str]
    #: Settings under ``[source]``; validated before the connector is built.
    config_spec: ClassVar[tuple[ConfigField, ...]] = ()
    #: One line for ``copernica-sync connectors list``.
    description: ClassVar[str] = ""
    #: Licensing (see docs/licensing.md): the plugin id licenses are issued for, the
    #: pinned public keys (key id → base64 raw Ed25519), accepted issuers, and the
    #: entitlement each optional stream needs.  None: the connector is not licensed.
    license_plugin_id: ClassVar[str | None] = None
    license_public_keys: ClassVar[Mapping[str, str]] = {}
    license_issuers: ClassVar[tuple[str, ...] | None] = None
    license_gates: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config: Mapping[str, Any] = self.validate_config(config)

    @classmethod
    def config_model(cls) -> type[Any]:
        """The pydantic model of ``[source]`` built from :attr:`config_spec` (cached)."""
        key = (cls, cls.config_spec)
        model = _MODELS.get(key)
        if model is None:
            from pydantic import create_model

            from ..configuration import Table

            fields = {f"field_{i}": field.pydantic_field()
                      for i, field in enumerate(cls.config_spec)}
            model = create_model(f"{cls.__name__}Settings", __base__=Table,
                                 **fields)  # type: ignore[call-overload]
            _MODELS[key] = model
        return model

    @classmethod
    def validate_config(cls, config: Mapping[str, Any], *, prefix: str = "source") -> dict[str, Any]:
        """Return ``config`` with defaults filled in, or raise :class:`ConfigError`
        listing every problem at once, each naming its key."""
        from ..configuration import validate

        model = cls.config_model()
        given = {k: v for k, v in config.items() if k != "connector" and v not in (None, "")}
        problems: list[str] = []
        try:
            out: dict[str, Any] = validate(model, given, prefix,
                                           unknown=f"setting for connector {cls.name!r}"
                                           ).model_dump(by_alias=True)
        except ConfigError as exc:
            problems = exc.problems
            out = {}
        # The connector's own checks run too, so every problem comes at once: over the
        # typed settings, a setting that failed its type or range taken at its default
        # (and its own problem not repeated).  Not when a required setting without a
        # default is wrong: the checks may rely on it.
        bad = {problem.split(":", 1)[0].removeprefix(f"{prefix}.").split(".")[0]
               for problem in problems}
        if not any(f.name in bad and f.required and f.default is None
                   for f in cls.config_spec):
            typed = out or {f.name: f.default if f.name in bad else given.get(f.name, f.default)
                            for f in cls.config_spec}
            problems += [f"{prefix}.{problem}" for problem in cls.config_problems(typed)
                         if problem.split(":", 1)[0] not in bad]
        if problems:
            raise ConfigError(problems)
        return out

    @classmethod
    def config_problems(cls, config: Mapping[str, Any]) -> list[str]:
        """Checks beyond types (ranges, formats), as ``"key: what is wrong"``.

        Called with the typed settings (defaults filled in) so that every problem
        is reported at once with the rest of the configuration.  Override it.
        """
        return []

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        """The settings that are secret as a whole (not those with secrets inside)."""
        return frozenset(f.name for f in cls.config_spec if f.secret)

    @classmethod
    def secret_items(cls, config: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """Every declared secret set in ``config`` (raw or validated), at any depth,
        as ``(dotted key, value)``: ``secret`` settings and the ``secret_keys``
        inside table settings."""
        out: list[tuple[str, Any]] = []
        for field in cls.config_spec:
            value = config.get(field.name)
            if field.secret:
                out.append((field.name, value))
            elif field.secret_keys:
                out.extend(_nested_secrets(value, field.name, field.secret_keys))
        return [(k, v) for k, v in out if v not in (None, "")]

    @classmethod
    def secret_values(cls, config: Mapping[str, Any]) -> list[str]:
        """The text of every declared secret in ``config``, for the log redactor."""
        return [leaf for _, value in cls.secret_items(config) for leaf in _leaves(value)]

    @classmethod
    def masked_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every declared secret, at any depth, shown as :data:`MASK`."""
        spec = {f.name: f for f in cls.config_spec}
        out: dict[str, Any] = {}
        for name, value in config.items():
            field = spec.get(name)
            if field is not None and field.secret and value not in (None, ""):
                out[name] = MASK
            elif field is not None and field.secret_keys:
                out[name] = _masked(value, field.secret_keys)
            else:
                out[name] = value
        return out

    def secrets(self) -> list[str]:
        """The configured secret values, so the framework can redact them from output."""
        return self.secret_values(self.config)

    @abstractmethod
    def check(self) -> None:
        """Prove the source can be reached and read; raise a SourceError if not."""

    @abstractmethod
    def streams(self) -> Sequence[Stream]:
        """The streams this connector offers, in the order they should sync."""

    @classmethod
    def presets(cls) -> Mapping[str, str]:
        """Ready configurations of this connector for well-known sources: name → TOML
        text with ``[source]`` and ``[target]`` tables, which ``copernica-sync init
        --preset NAME`` writes.  The default: none."""
        return {}

    def stale_payload(self, stream: str, payload: Mapping[str, Any]) -> str | None:
        """Why a dead letter's stored ``payload`` must not be sent again as it is (the
        source has newer data for it, e.g. the file it came from changed), or ``None``.

        ``copernica-sync dlq retry`` leaves such letters alone and says why; a run
        reads the current data.  The default: payloads never go stale."""
        return None

    def default_mapping(self) -> Mapping[str, Any]:
        """The connector's default ``[target]`` mapping (same shape as the TOML table)."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook, most connectors need nothing
        """Release connections; called once after the run."""


class _Unset:
    """Type of :data:`_UNSET`: "not given", where ``None`` is a meaningful value."""


_UNSET = _Unset()


class Stream(ABC):
    """One kind of record of a source (customers, orders, users…).

    Its identity and settings — :attr:`name`, :attr:`primary_key`,
    :attr:`replication_key`, :attr:`is_sorted` — are instance attributes: set them
    as class attributes in a subclass (one class per stream, the usual way), or
    pass them to the constructor to make several streams of one class from
    configuration (``Stream(connector, name="users", primary_key="id")``).  The
    framework reads them from the instance only.
    """

    #: Stream name, unique within the connector; used in state and in the mapping.
    name: str
    #: The record field that identifies a record in the source (e.g. ``"id"``).
    primary_key: str
    #: The record field that orders changes (an ISO-8601 UTC timestamp), if any.
    replication_key: str | None = None
    #: True when :meth:`read` yields records in ascending replication-key order,
    #: so the bookmark may advance after each page.  Unsorted streams promote
    #: their bookmark only when the stream completes.
    is_sorted: bool = False
    #: True when :meth:`read` may be asked for its next page before the engine has
    #: committed the current one: the engine then reads and maps the next page in
    #: a thread while the current one is written.  Leave it False when ``read``
    #: does something after a ``yield`` that must wait for that page's checkpoint
    #: (e.g. writes a snapshot of what it has read).  :attr:`state` is taken as it
    #: is when each page is yielded, whichever way.
    read_ahead: bool = False
    #: The stream's own small state (JSON-serialisable: text keys, plain values),
    #: e.g. which export files it has processed.  The engine sets it to what was
    #: last committed before calling :meth:`read`, and writes what it holds when a
    #: page is yielded in that page's checkpoint, with the bookmark: change it
    #: *before* yielding the page it belongs with, never for records not yet
    #: yielded.  A dry run writes nothing; ``state reset`` clears it.
    state: dict[str, Any]

    def __init__(self, connector: Connector, *, name: str | None = None,
                 primary_key: str | None = None,
                 replication_key: str | _Unset | None = _UNSET,
                 is_sorted: bool | None = None) -> None:
        """Settings given here override the class's; those not given keep it."""
        self.connector = connector
        self.state = {}
        if name is not None:
            self.name = name
        if primary_key is not None:
            self.primary_key = primary_key
        if not isinstance(replication_key, _Unset):
            self.replication_key = replication_key
        if is_sorted is not None:
            self.is_sorted = is_sorted

    @abstractmethod
    def read(self, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        """Yield pages of records changed at or after ``start`` (``None``: from the
        beginning) and not after ``until`` (the run's start, an ISO-8601 UTC
        timestamp).  Records changed after ``until`` may be yielded; the framework
        re-reads them next run.  A page is the unit of checkpointing.

        Every record the source returned should be in a page: as itself (synced,
        or dead-lettered when it cannot be), as :class:`Skipped` (not synced, counted
        with a reason, e.g. :data:`DEFERRED`) or as :class:`Rejected` (dead-lettered).
        Records *without* a replication value are synced like the others and do not
        move the bookmark; a value that is not an ISO-8601 timestamp dead-letters
        its record (the field and value named)."""
