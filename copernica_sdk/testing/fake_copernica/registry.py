"""The operation registry: what a handler receives and how it is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .auth import Auth
from .params import Params
from .present import Result
from .state import State

Handler = Callable[["Context", Params], Result]

HANDLERS: dict[str, Handler] = {}
"""Operation name -> handler; every WSDL operation has one (a test checks this)."""

UNAUTHENTICATED = frozenset({"login"})
"""Operations that run without credentials."""


@dataclass(slots=True)
class Options:
    """Behaviour switches for what the real service does not document."""

    updateprofiles_returns_items: bool = True


@dataclass(slots=True)
class Context:
    """One call: the state, the caller's account, and response side channels."""

    state: State
    auth: Auth
    options: Options
    account: str
    set_cookies: list[str] = field(default_factory=list)


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the WSDL operation ``name``."""

    def register(func: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"duplicate handler for {name}")
        HANDLERS[name] = func
        return func

    return register


def value(flag: bool) -> Result:
    """``<result><value>1</value></result>``, or an empty ``<value/>`` for false."""
    return {"value": flag}
