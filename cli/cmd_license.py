"""``copernica-sync license verify|inspect`` (any side) and ``keygen|issue`` (partner side)."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta

import click

from ._jobs import answered
from .main import exits_cleanly

PASSPHRASE_ENV = "COPERNICA_LICENSE_PASSPHRASE"


def _passphrase(confirm: bool) -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        value = answered(lambda: str(click.prompt("Key passphrase", hide_input=True,
                                                  confirmation_prompt=confirm)),
                         f"Set {PASSPHRASE_ENV} to give the passphrase without a prompt.")
    return value.encode()


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s*([dhw]?)", text.strip())
    if not match:
        raise click.BadParameter(f"{text!r}: use e.g. 365d, 12w or 48h")
    n, unit = int(match[1]), match[2] or "d"
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]


@click.group()
def license() -> None:
    """Plugin licenses: verify and inspect one; make signing keys and issue (partner side).

    \b
    Examples:
      copernica-sync license keygen --out keys
      copernica-sync license inspect shopbv.cpl
    """


@license.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for the key pair.")
@click.option("--label", default=None, help="Key file name [default: today's date].")
@click.option("--rotate", is_flag=True,
              help="Add a new key beside the existing ones in --out (key rollover).")
@exits_cleanly
def keygen(out_dir: str, label: str | None, rotate: bool) -> None:
    """Make an Ed25519 key pair: LABEL.ed25519.pem (encrypted, 0600) and LABEL.pub.

    The passphrase comes from a prompt or COPERNICA_LICENSE_PASSPHRASE.  Ship only
    the public keys in your connector (license_public_keys = {KID: "...", ...}); the
    directory's jwks.json holds the same keys for a PHP or JavaScript plugin.  With
    --rotate, the directory must already hold a key: the new one is added and the
    printed license_public_keys lists every key (old ones keep verifying the licenses
    they signed; see "Key rotation" in docs/licensing.md).

    \b
    Examples:
      copernica-sync license keygen --out keys/
      copernica-sync license keygen --out keys/ --rotate --label 2026b
    """
    from pathlib import Path

    from copernica_sdk.licensing.errors import LicenseKeyError
    from copernica_sdk.licensing.keys import generate_keypair, public_keys_in, write_jwks

    existing = public_keys_in(out_dir) if Path(out_dir).is_dir() else {}
    if rotate and not existing:
        raise LicenseKeyError(f"--rotate: {out_dir} holds no key yet (*.pub); make the first "
                              "one without --rotate")
    if existing and not rotate:
        raise LicenseKeyError(f"{out_dir} already holds key(s) {', '.join(existing)}; add a "
                              "new one with --rotate, or choose another directory")
    paths = generate_keypair(out_dir, label or datetime.now(UTC).strftime("%Y%m%d"),
                             _passphrase(confirm=True))
    jwks = write_jwks(out_dir)
    click.echo(f"private key: {paths.private} (keep it secret, never ship it)")
    click.echo(f"public key:  {paths.public} (kid {paths.kid}); all public keys: {jwks}")
    ring = public_keys_in(out_dir)
    pins = ", ".join(f'"{kid}": "{text}"' for kid, text in ring.items())
    click.echo(f"connector:   license_public_keys = {{{pins}}}")
    if rotate:
        click.echo(f"rotation:    ship the plugin with all {len(ring)} keys first, then issue "
                   f"new licenses with {paths.private.name}; drop an old key only when every "
                   "license it signed has ended")


@license.command()
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The private key (*.ed25519.pem); its kid goes into the token header.")
@click.option("--plugin", required=True, help="The plugin id the connector declares.")
@click.option("--customer", required=True, help="Customer name.")
@click.option("--ref", default="", help="Your billing reference (e.g. a Stripe customer id).")
@click.option("--issuer", default="partner", show_default=True, help="Your partner id.")
@click.option("--shop", "shops", multiple=True, help="Bind to a shop URL (repeatable).")
@click.option("--strict", is_flag=True, help="A shop mismatch refuses in enforce mode.")
@click.option("--valid-for", default="365d", show_default=True)
@click.option("--grace", default="14d", show_default=True)
@click.option("--ent", default="", help="Entitlements, comma-separated.")
@click.option("--enforce", type=click.Choice(["observe", "warn", "enforce"]), default="observe",
              show_default=True, help="Minimum enforcement mode.")
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False),
              help="Price plan (TOML), embedded and signed.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@exits_cleanly
def issue(key_path: str, plugin: str, customer: str, ref: str, issuer: str,
          shops: tuple[str, ...], strict: bool, valid_for: str, grace: str, ent: str,
          enforce: str, plan_path: str | None, out_path: str) -> None:
    """Sign a license (a JWT, EdDSA) for one customer and write it to --out.

    \b
    Example:
      copernica-sync license issue --key keys/2025a.ed25519.pem --plugin acme-woo \\
          --customer "Shop BV" --ref cus_123 --shop shop.example.nl --plan plan.toml \\
          --out shopbv.cpl
    """
    from copernica_sdk.licensing.install import normalize_shop
    from copernica_sdk.licensing.keys import load_private_key
    from copernica_sdk.licensing.token import claims_for, sign_token

    plan = None
    if plan_path:
        from .cmd_partner import _require_partner_extra

        _require_partner_extra()
        from copernica_sdk.licensing.partner.pricing import PricePlan

        plan = PricePlan.load(plan_path).to_json()
    key = load_private_key(key_path, _passphrase(confirm=False))
    now = int(datetime.now(UTC).timestamp())
    claims = claims_for(issuer=issuer, plugin_id=plugin, customer=customer, customer_ref=ref,
                        shops=[normalize_shop(s) for s in shops], strict_binding=strict,
                        not_before=now, expires=now + int(_duration(valid_for).total_seconds()),
                        grace_days=_duration(grace).days,
                        entitlements=[e.strip() for e in ent.split(",") if e.strip()],
                        enforce=enforce, plan=plan)
    token = sign_token(claims, key)
    with open(out_path, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    exp = datetime.fromtimestamp(claims.exp, UTC)
    click.echo(f"license {claims.lid} for {customer} ({plugin}), valid until {exp:%Y-%m-%d}: "
               f"{out_path}")


@license.command()
@click.argument("token_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--pub", "pubs", multiple=True, required=True,
              help="Trusted public key (.pub file or base64); repeatable.")
@click.option("--plugin", required=True)
@click.option("--shop", default=None, help="Check the binding against this shop URL.")
@click.option("--at", "at", default=None, help="Verify as of this ISO date/time (UTC).")
@click.option("--json", "as_json", is_flag=True, help="A JSON report on stdout.")
def verify(token_file: str, pubs: tuple[str, ...], plugin: str, shop: str | None,
           at: str | None, as_json: bool) -> None:
    """Verify a license file.  Exit 0 only when valid or in grace, else 3.

    \b
    Example:
      copernica-sync license verify shopbv.cpl --pub keys/2025a.pub --plugin acme-woo
    """
    from copernica_sdk.licensing.keys import KeyRing, load_public_key
    from copernica_sdk.licensing.token import read_token_file
    from copernica_sdk.licensing.verify import CPL1_ACCEPTED_UNTIL, LEGACY_TOKEN, verify_token

    now = datetime.now(UTC)
    if at:
        parsed = datetime.fromisoformat(at)
        now = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    ring = KeyRing.of(*(load_public_key(p) for p in pubs))
    status = verify_token(read_token_file(token_file), keyring=ring, plugin_id=plugin,
                          now=now, shop=shop)
    if as_json:
        click.echo(json.dumps(status.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(f"{status.state.value.upper()}"
                   + (f" ({status.days_left} days left)" if status.days_left is not None else ""))
        for reason in status.reasons:
            click.echo(f"  {reason}")
        if LEGACY_TOKEN in status.flags:
            click.echo(f"  note: a legacy CPL1 token, accepted until "
                       f"{CPL1_ACCEPTED_UNTIL:%Y-%m-%d}; issue a new license (a JWT)")
    sys.exit(0 if status.ok else 3)


@license.command()
@click.argument("token_file", type=click.Path(exists=True, dir_okay=False))
@exits_cleanly
def inspect(token_file: str) -> None:
    """Decode a license WITHOUT verifying it (for support questions).

    \b
    Example:
      copernica-sync license inspect shopbv.cpl
    """
    import jwt

    from copernica_sdk.licensing.jws import looks_like_jws, split_compact
    from copernica_sdk.licensing.token import decode_token, read_token_file, strict_json

    text = read_token_file(token_file)
    click.echo("UNVERIFIED — decoded only; use `license verify` to check the signature")
    if looks_like_jws(text):
        click.echo(f"kid: {split_compact(text).header.get('kid')} (JWT, EdDSA)")
        claims = jwt.decode(text, options={"verify_signature": False})
    else:
        decoded = decode_token(text)
        click.echo(f"kid: {decoded.kid} (legacy CPL1)")
        claims = strict_json(decoded.payload)
    click.echo(json.dumps(claims, indent=2, sort_keys=True, ensure_ascii=False))
