"""Small helpers that build :class:`~copernica_sdk.models.Requirement` objects.

::

    from copernica_sdk.requirements import equals, not_equals, unverified

    client.profiles.search(db, [equals("country", "NL"), not_equals("status", "deleted")])
    client.profiles.search(db, [unverified.greater_than("score", 500)])

``equals`` and ``not_equals`` use the operators verified on Copernica's SOAP API.
Everything under :data:`unverified` uses an operator Copernica documents for its
REST API only (docs/sdk.md, "Search operators"): the name says so at the call site.
"""

from __future__ import annotations

from .models import Requirement
from .values import WireValue

__all__ = ["equals", "not_equals", "unverified"]


def equals(field: str, value: WireValue, *, case_sensitive: bool = True) -> Requirement:
    """``field = value`` (verified on SOAP)."""
    return Requirement(field, "=", value, case_sensitive=case_sensitive)


def not_equals(field: str, value: WireValue, *, case_sensitive: bool = True) -> Requirement:
    """``field != value`` (verified on SOAP)."""
    return Requirement(field, "!=", value, case_sensitive=case_sensitive)


class _Unverified:
    """Requirements with operators not verified on the SOAP API (REST documents them)."""

    @staticmethod
    def greater_than(field: str, value: WireValue) -> Requirement:
        """``field > value`` (numbers compare as numbers on numeric fields)."""
        return Requirement(field, ">", value, unverified=True)

    @staticmethod
    def less_than(field: str, value: WireValue) -> Requirement:
        """``field < value``."""
        return Requirement(field, "<", value, unverified=True)

    @staticmethod
    def at_least(field: str, value: WireValue) -> Requirement:
        """``field >= value``."""
        return Requirement(field, ">=", value, unverified=True)

    @staticmethod
    def at_most(field: str, value: WireValue) -> Requirement:
        """``field <= value``."""
        return Requirement(field, "<=", value, unverified=True)

    @staticmethod
    def like(field: str, pattern: str, *, case_sensitive: bool = True) -> Requirement:
        """``field =~ pattern``: SQL LIKE, ``%`` any run of characters, ``_`` one."""
        return Requirement(field, "=~", pattern, case_sensitive=case_sensitive, unverified=True)

    @staticmethod
    def not_like(field: str, pattern: str, *, case_sensitive: bool = True) -> Requirement:
        """``field !~ pattern``: NOT LIKE."""
        return Requirement(field, "!~", pattern, case_sensitive=case_sensitive, unverified=True)


#: Builders for operators not verified on the SOAP API; see the module docstring.
unverified = _Unverified()
