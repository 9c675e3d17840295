"""Enforcement modes and the decision they make from a license status.

``observe`` < ``warn`` (default) < ``enforce``; the effective mode is the
stricter of the job config and the token's ``enforce`` claim, so editing the
config cannot loosen it.  Enforce can only refuse to START a run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .verify import CLOCK_SUSPECT, LicenseStatus, State

__all__ = ["Mode", "Verdict", "decide", "effective_mode"]


class Mode(enum.StrEnum):
    """How much a license problem matters."""

    OBSERVE = "observe"
    WARN = "warn"
    ENFORCE = "enforce"

    @property
    def rank(self) -> int:
        return ("observe", "warn", "enforce").index(self.value)


def effective_mode(configured: Mode | str, token_minimum: Mode | str | None) -> Mode:
    """The stricter of the two."""
    a = Mode(configured)
    b = Mode(token_minimum) if token_minimum else Mode.OBSERVE
    return a if a.rank >= b.rank else b


@dataclass(frozen=True)
class Verdict:
    """What the policy decided: run or not, what to tell the shop owner."""

    allow_run: bool
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()          # observe mode: logged at INFO only
    refusal: str = ""
    entitlements: frozenset[str] | None = field(default=None)   # None: nothing gated


_REFUSING = (State.EXPIRED, State.INVALID, State.WRONG_PRODUCT, State.NOT_YET_VALID)


def decide(status: LicenseStatus, mode: Mode, *, now: datetime,
           first_run_at: datetime | None = None, trial_days: int = 0) -> Verdict:
    """The table of license states and modes in docs/licensing.md.  Pure: same inputs, same verdict."""
    messages = [f"license {status.state}: {r}" for r in status.reasons] or (
        [f"license {status.state}"] if status.state is not State.VALID else [])
    if CLOCK_SUSPECT in status.flags:
        messages.append("the system clock looks wrong (behind a time already seen); this is "
                        "reported to the plugin supplier and does not stop the sync")
    claims = status.claims
    granted = claims.entitlements if (claims and status.state.licensed) else frozenset()
    if mode is Mode.OBSERVE:
        return Verdict(True, notes=tuple(messages), entitlements=None)
    allow, refusal = True, ""
    if mode is Mode.ENFORCE:
        if status.state in _REFUSING:
            allow, refusal = False, f"the license is {status.state.value.replace('_', ' ')}"
        elif status.state is State.MISSING:
            start = first_run_at or now
            if now >= start + timedelta(days=trial_days):
                allow, refusal = False, "no license is installed" + (
                    f" and the {trial_days}-day trial has ended" if trial_days else "")
        elif status.state is State.WRONG_SHOP and claims is not None and claims.strict_binding:
            allow, refusal = False, "the license is for another shop"
    if status.state is State.MISSING and allow:
        messages.append("running without a license (trial); usage is recorded as unlicensed")
    elif not status.state.licensed and allow:
        messages.append("usage of this run is recorded as unlicensed")
    return Verdict(allow, warnings=tuple(messages), refusal=refusal, entitlements=granted)
