"""Preflight: decide once, before a run, whether and how it is licensed.

Reads the token (``COPERNICA_PLUGIN_LICENSE`` or ``[license] file``), the
plugin id and pinned keys the connector class declares, and the install id and
clock high-water mark from the state file — read only: preflight never writes,
so a refused run leaves the state byte-identical.  The decision is frozen for
the run; an expiry that passes mid-run changes nothing.

A partner declares on their connector class::

    class AcmeWoo(Connector):
        name = "acme_woo"
        license_plugin_id: ClassVar[str | None] = "acme-woo"
        license_public_keys: ClassVar[Mapping[str, str]] = {"3f1c…": "base64…"}
        license_issuers: ClassVar[tuple[str, ...] | None] = ("acme",)   # optional
        license_gates: ClassVar[Mapping[str, str]] = {"carts": "carts"}  # stream → entitlement
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import _sql
from ..license_config import LicenseTable
from .clock import Clock, SystemClock
from .errors import LicenseRefusedError
from .install import Install, environment_of, normalize_shop, read_install
from .policy import Mode, Verdict, decide, effective_mode
from .verify import (
    CLOCK_SUSPECT,
    CPL1_ACCEPTED_UNTIL,
    LEGACY_TOKEN,
    LicenseStatus,
    State,
    verify_token,
)

if TYPE_CHECKING:
    from .meter import MeterContext, UsageMeter

# The token, key and meter modules (PyJWT, cryptography) are imported where they are
# used, below: a job whose connector is not a licensed plugin never needs them.

__all__ = ["ENV_TOKEN", "LicenseDecision", "LicenseSettings", "LicensedJob", "preflight"]

log = logging.getLogger("copernica_sdk.licensing")

#: The environment variable a shop owner can put the license token in.
ENV_TOKEN = "COPERNICA_PLUGIN_LICENSE"
_SHOP_KEYS = ("shop_url", "url", "base_url", "site_url", "store_url")


class LicensedJob(Protocol):
    """What preflight reads of a job (``copernica_sdk.sync.config.JobConfig`` is one):
    its ``[license]`` table and its ``[source]`` table (for the shop URL).

    A protocol, so licensing does not import the sync framework.
    """

    @property
    def license(self) -> Mapping[str, Any]: ...

    @property
    def source(self) -> Mapping[str, Any]: ...


#: The ``[license]`` table: the one model the job config validates it with when the
#: file is loaded (:mod:`copernica_sdk.license_config`).
LicenseSettings = LicenseTable


@dataclass(frozen=True)
class LicenseDecision:
    """The frozen outcome of :func:`preflight`."""

    allow_run: bool
    mode: Mode
    status: LicenseStatus
    install: Install
    plugin_id: str | None
    verdict: Verdict
    settings: LicenseSettings = field(default_factory=LicenseSettings)
    gates: Mapping[str, str] = field(default_factory=dict)
    #: Where the token came from: ``COPERNICA_PLUGIN_LICENSE``, ``file …``, ``none``.
    token_source: str = "none"

    @property
    def exit_code(self) -> int:
        return 0 if self.allow_run else 3

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.verdict.warnings

    @property
    def unlicensed(self) -> bool:
        return not self.status.state.licensed

    def allows(self, entitlement: str) -> bool:
        """Whether an optional feature gated by ``entitlement`` may run."""
        ent = self.verdict.entitlements
        return ent is None or entitlement in ent

    def skipped_streams(self, names: Iterable[str]) -> list[str]:
        """The streams whose entitlement is missing: skipped, never failed."""
        return [n for n in names if n in self.gates and not self.allows(self.gates[n])]

    def skip_reason(self, stream: str) -> str:
        """Why a gated stream does not run: ``license lacks entitlement 'orders'``."""
        return f"license lacks entitlement {self.gates[stream]!r}"

    def skipped(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """``{stream: reason}`` of the streams this license skips (all gated streams
        the connector declares when ``names`` is None)."""
        return {n: self.skip_reason(n)
                for n in self.skipped_streams(self.gates if names is None else names)}

    def summary(self) -> str:
        """One line for ``copernica-sync check``: the state, until when, where from."""
        status, claims = self.status, self.status.claims
        state = status.state
        if self.plugin_id is None:
            return "not a licensed plugin"
        if state is State.VALID and claims is not None:
            exp = datetime.fromtimestamp(claims.exp, UTC)
            text = (f"valid until {exp:%Y-%m-%d} ({status.days_left} days left), "
                    f"{claims.customer}")
        elif state is State.GRACE and claims is not None:
            exp = datetime.fromtimestamp(claims.exp, UTC)
            end = exp + timedelta(days=claims.grace_days)
            text = (f"grace: expired {exp:%Y-%m-%d}, runs until {end:%Y-%m-%d} "
                    f"({status.days_left} days left); renew it")
        elif state is State.WRONG_SHOP:
            text = "wrong shop: " + "; ".join(status.reasons)
        elif state is State.MISSING:
            text = "missing: no license (COPERNICA_PLUGIN_LICENSE or [license] file)"
        else:
            text = f"{state.value.replace('_', ' ')}: " + "; ".join(status.reasons)
        if LEGACY_TOKEN in status.flags:
            text += f"; a legacy CPL1 token, accepted until {CPL1_ACCEPTED_UNTIL:%Y-%m-%d}"
        if CLOCK_SUSPECT in status.flags:
            text += "; the system clock looks wrong"
        text += f" [mode {self.mode}; from {self.token_source}]"
        if not self.allow_run:
            text += f" — runs will NOT start: {self.verdict.refusal}"
        return text

    def refusal_message(self) -> str:
        """What the shop owner reads when enforce mode refuses to start."""
        claims = self.status.claims
        who = f"'{claims.iss}'" if claims else "your plugin supplier"
        where = self.settings.file or f"the {ENV_TOKEN} environment variable"
        return (f"Sync not started: {self.verdict.refusal} (plugin {self.plugin_id}). "
                f"Nothing was synced and nothing was changed; your data is safe. "
                f"Ask {who} for a new license and put it in {where}. "
                f"`copernica-sync usage export` and `usage flush` keep working.")

    def raise_if_refused(self) -> None:
        """Raise :class:`LicenseRefusedError` when the run must not start."""
        if not self.allow_run:
            raise LicenseRefusedError(self.refusal_message())

    def meter_context(self) -> MeterContext:
        from .meter import MeterContext, high_water_cap

        claims = self.status.claims
        cap = (high_water_cap(claims.exp, claims.grace_days)
               if claims is not None and self.status.ok else None)
        return MeterContext(
            plugin_id=self.plugin_id or "", install=self.install,
            lid=claims.lid if claims else "", customer_ref=claims.customer_ref if claims else "",
            license_state=str(self.status.state), flags=self.status.flags,
            mode=str(self.mode), high_water_cap=cap)

    def hooks(self, clock: Clock | None = None) -> list[UsageMeter]:
        """The checkpoint hooks for the run: the usage meter, when the connector is a
        licensed plugin (a connector without ``license_plugin_id`` is not metered)."""
        if self.plugin_id is None or not self.allow_run:
            return []
        from .meter import UsageMeter

        return [UsageMeter(self.meter_context(), clock=clock)]

    def log(self) -> None:
        """Warnings to the log (stderr); observe-mode notes at INFO."""
        for warning in self.verdict.warnings:
            log.warning("%s", warning)
        for note in self.verdict.notes:
            log.info("%s", note)


def _token(settings: LicenseSettings, env: Mapping[str, str]) -> tuple[str | None, str]:
    from .jws import looks_like_jws
    from .token import read_token_file

    text = env.get(ENV_TOKEN, "").strip()
    if text:
        if not text.startswith("CPL1.") and not looks_like_jws(text) and Path(text).is_file():
            return read_token_file(text), f"file {text} (from {ENV_TOKEN})"
        return text, ENV_TOKEN
    if settings.file:
        path = Path(settings.file).expanduser()
        if path.is_file():
            return read_token_file(path), f"file {path}"
        return None, f"file {path} (not found)"
    return None, "none"


def _shop(settings: LicenseSettings, job: LicensedJob) -> str:
    if settings.shop_url:
        return settings.shop_url
    for key in _SHOP_KEYS:
        value = job.source.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _read_state(state_path: Path | str) -> tuple[tuple[str, str] | None, datetime | None]:
    """(install id, created_at) and the clock high-water mark; never writes."""
    if not _sql.is_postgres(state_path) and not Path(state_path).exists():
        return None, None
    conn = _sql.connect(state_path, readonly=True)
    try:
        install = read_install(conn)
        row = conn.execute("SELECT high_water FROM license_clock").fetchone() \
            if _sql.table_exists(conn, "license_clock") else None
    finally:
        conn.close()
    high = datetime.fromisoformat(row[0].replace("Z", "+00:00")) if row else None
    return install, high


def preflight(job_config: LicensedJob, connector_class: type, state_path: str | os.PathLike[str],
              clock: Clock | None = None, *, env: Mapping[str, str] | None = None
              ) -> LicenseDecision:
    """Verify the license for a job's next run and decide whether it may start.

    Never raises for a license problem (that is the decision); raises
    :class:`ConfigError` for a bad ``[license]`` table.
    """
    clock = clock or SystemClock()
    env = os.environ if env is None else env
    now = clock.now()
    settings = LicenseSettings.from_table(job_config.license)
    plugin_id: str | None = getattr(connector_class, "license_plugin_id", None)
    gates: Mapping[str, str] = dict(getattr(connector_class, "license_gates", {}) or {})
    stored, high_water = _read_state(
        os.fspath(state_path) if _sql.is_postgres(state_path) else Path(state_path))
    shop = normalize_shop(_shop(settings, job_config))
    if stored is not None:
        install = Install(stored[0], shop, environment_of(shop), stored[1])
    else:
        install = Install.new(shop)
    if plugin_id is None:
        # Not a licensed plugin: nothing to verify, nothing to meter.
        status = LicenseStatus(State.MISSING, reasons=("the connector declares no "
                                                       "license_plugin_id",))
        verdict = Verdict(True, entitlements=None)
        return LicenseDecision(True, Mode.OBSERVE, status, install, None, verdict, settings)
    from .errors import LicenseKeyError
    from .keys import KeyRing

    token, source = _token(settings, env)
    try:
        keyring = KeyRing(getattr(connector_class, "license_public_keys", {}) or {})
    except LicenseKeyError as exc:
        keyring = KeyRing()
        log.error("licensing: %s", exc)
    issuers = getattr(connector_class, "license_issuers", None)
    status = verify_token(token, keyring=keyring, plugin_id=plugin_id, now=now,
                          issuers=issuers, shop=shop, install_id=install.install_id,
                          high_water=high_water)
    mode = effective_mode(settings.mode, status.claims.enforce if status.claims else None)
    first_run = (datetime.fromisoformat(stored[1].replace("Z", "+00:00"))
                 if stored is not None else None)
    verdict = decide(status, mode, now=now, first_run_at=first_run,
                     trial_days=settings.trial_days)
    log.debug("licensing: token from %s, state %s, mode %s", source, status.state, mode)
    return LicenseDecision(verdict.allow_run, mode, status, install, plugin_id, verdict,
                           settings, gates, source)
