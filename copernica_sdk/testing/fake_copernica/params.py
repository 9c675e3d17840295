"""Typed access to decoded operation parameters.

The decoder (wire.RequestDecoder) already enforced the WSDL: required members are
present and ints/booleans parsed.  These accessors only narrow types for handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import client_fault
from .wire import Decoded

#: SOAP's ``=`` plus what Copernica's REST API documents for the same backend
#: (``== != <> < > <= >= =~ !~``); only ``=`` and ``!=`` are verified on SOAP
#: (docs/copernica-api-notes.md §5), the fake implements every one (query.py).
OPERATORS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">=", "=~", "!~"})


@dataclass(frozen=True, slots=True)
class Requirement:
    """One search condition; ``operator`` is one of :data:`OPERATORS`."""

    fieldname: str
    value: str
    operator: str = "="
    casesensitive: bool = False


class Params:
    """The members of one ``input_<Op>`` struct."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Decoded]) -> None:
        self._data = data

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def subset(self, names: Iterable[str]) -> dict[str, Decoded]:
        """The given members that were sent (e.g. a field definition)."""
        return {name: self._data[name] for name in names if name in self._data}

    def integer(self, name: str) -> int:
        value = self._data[name]
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def opt_integer(self, name: str) -> int | None:
        return self.integer(name) if name in self._data else None

    def text(self, name: str) -> str:
        value = self._data[name]
        assert isinstance(value, str)
        return value

    def opt_text(self, name: str) -> str | None:
        return self.text(name) if name in self._data else None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._data.get(name, default)
        assert isinstance(value, bool)
        return value

    def opt_flag(self, name: str) -> bool | None:
        return self.flag(name) if name in self._data else None

    def map(self, name: str) -> dict[str, str]:
        """A Map parameter as a dict; a later pair with the same key wins."""
        out: dict[str, str] = {}
        for pair in self._list(name):
            assert isinstance(pair, dict)
            key, value = pair["key"], pair["value"]
            assert isinstance(key, str) and isinstance(value, str)
            out[key] = value
        return out

    def ref_id(self, name: str) -> int:
        """The ``id`` of a Ref parameter such as ``collection`` or ``profile``."""
        ref = self._data[name]
        assert isinstance(ref, dict)
        ident = ref["id"]
        assert isinstance(ident, int)
        return ident

    def int_list(self, name: str) -> list[int]:
        return [v for v in self._list(name) if isinstance(v, int)]

    def str_list(self, name: str) -> list[str]:
        return [v for v in self._list(name) if isinstance(v, str)]

    def requirements(self, name: str = "requirements") -> list[Requirement]:
        """Requirements with defaults applied; an operator not in OPERATORS is a fault."""
        out: list[Requirement] = []
        for raw in self._list(name):
            assert isinstance(raw, dict)
            fieldname, value = raw["fieldname"], raw["value"]
            operator = raw.get("operator") or "="
            casesensitive = raw.get("casesensitive", False)
            assert isinstance(fieldname, str) and isinstance(value, str)
            assert isinstance(operator, str) and isinstance(casesensitive, bool)
            operator = operator.strip()
            if operator not in OPERATORS:
                raise client_fault("Invalid operator")
            out.append(Requirement(fieldname, value, operator, casesensitive))
        return out

    def _list(self, name: str) -> list[Decoded]:
        value = self._data.get(name, [])
        assert isinstance(value, list)
        return value
