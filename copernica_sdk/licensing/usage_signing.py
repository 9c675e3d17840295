"""Signed usage: each install's own Ed25519 key, and signed usage documents.

At its first metered run an install makes a key pair of its own; the private key
is kept beside the state file (``<state>.install-key.pem``, unencrypted PKCS#8 —
cron has no one to type a passphrase — mode 0600).  Usage leaves the install
only signed with it: the manifest of an export (which holds the data file's
SHA-256) and the body of a flush.  The partner ledger pins an install's public
key the first time it sees the install, so later usage for that install must
come from the same key.

A signed document is a JSON object with a ``signature`` member::

    {"...": ..., "signature": {"alg": "Ed25519", "public_key": "<b64url raw 32 bytes>",
                               "value": "<b64url 64-byte signature>"}}

The signature covers ``DOMAIN + "\\n" + canonical JSON of the object without
``signature``" (sorted keys, no spaces, UTF-8), so the same document always has
the same bytes and a signature of one kind of document means nothing as another.

What this does and does not protect against is stated in docs/licensing.md,
"Trusting usage".
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sqlite3
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import _sql
from .errors import LicenseError, LicenseKeyError

__all__ = [
    "EXPORT_DOMAIN",
    "FLUSH_DOMAIN",
    "UsageTrustError",
    "database_path",
    "install_key",
    "install_key_path",
    "public_text",
    "sign_document",
    "verify_document",
]

EXPORT_DOMAIN = "copernica-usage-export/v1"
FLUSH_DOMAIN = "copernica-usage-batch/v1"


class UsageTrustError(LicenseError):
    """Usage that the partner ledger refuses: unsigned, altered, or signed by a key
    other than the one pinned for its install."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UsageTrustError(f"signature: not base64url ({exc})") from None


def install_key_path(state_path: str | os.PathLike[str]) -> Path:
    """``<state>.install-key.pem``: the install's private key, beside its state."""
    p = Path(state_path)
    return p.with_name(p.name + ".install-key.pem")


def database_path(conn: sqlite3.Connection) -> str:
    """The file of ``conn``'s main database ("" for an in-memory one)."""
    for row in conn.execute("PRAGMA database_list").fetchall():
        if row[1] == "main":
            return str(row[2] or "")
    return ""


def install_key(state_path: str | os.PathLike[str], *, create: bool = True
                ) -> Ed25519PrivateKey | None:
    """The install's private key, made (mode 0600, never overwritten) when missing and
    ``create``; None when missing and not ``create``.  State in PostgreSQL keeps it
    in the job's own schema instead (whoever can read the state can read the key, as
    with the file)."""
    if _sql.is_postgres(state_path):
        return _key_in_database(os.fspath(state_path), create=create)
    path = install_key_path(state_path)
    if not path.exists():
        if not create:
            return None
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            # O_EXCL + mode at creation: never readable by others, and two processes
            # racing to make it end with one key (the loser reads the winner's).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise LicenseKeyError(f"{path} is readable by others (mode {mode:o}); run chmod 600 "
                              f"{path}")
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LicenseKeyError(f"{path} is not an Ed25519 private key")
    return loaded


def move_install_key(state_file: str | os.PathLike[str], location: str) -> bool:
    """Put the key of an install whose SQLite state was copied into PostgreSQL
    (``state migrate``) into that state, so its usage stays signed by the key the
    partner pinned.  False when the install had no key yet."""
    key = install_key(state_file, create=False)
    if key is None:
        return False
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    conn = _sql.connect(location)
    try:
        conn.execute("INSERT INTO install_key (id, pem) VALUES (1, ?) "
                     "ON CONFLICT (id) DO NOTHING", (pem.decode(),))
    finally:
        conn.close()
    return True


def _key_in_database(location: str, *, create: bool) -> Ed25519PrivateKey | None:
    conn = _sql.connect(location)
    try:
        rows = conn.execute("SELECT pem FROM install_key WHERE id = 1").fetchall()
        if not rows:
            if not create:
                return None
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            # Two workers racing: one insert wins, both then read the winner's key.
            conn.execute("INSERT INTO install_key (id, pem) VALUES (1, ?) "
                         "ON CONFLICT (id) DO NOTHING", (pem.decode(),))
            rows = conn.execute("SELECT pem FROM install_key WHERE id = 1").fetchall()
    finally:
        conn.close()
    loaded = serialization.load_pem_private_key(str(rows[0][0]).encode(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LicenseKeyError(f"the install key in {_sql.redact(location)} is not an Ed25519 "
                              "private key")
    return loaded


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """base64url of the raw 32-byte public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return _b64e(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _message(domain: str, doc: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "signature"}
    return (domain + "\n").encode() + json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False).encode()


def sign_document(doc: Mapping[str, Any], key: Ed25519PrivateKey, domain: str
                  ) -> dict[str, Any]:
    """``doc`` with its ``signature`` member (deterministic: Ed25519)."""
    signature = {"alg": "Ed25519", "public_key": public_text(key),
                 "value": _b64e(key.sign(_message(domain, doc)))}
    return {**{k: v for k, v in doc.items() if k != "signature"}, "signature": signature}


def verify_document(doc: Mapping[str, Any], domain: str) -> str:
    """The signer's public key (base64url) when ``doc``'s signature is good; raises
    :class:`UsageTrustError` when it is missing or does not match."""
    sig = doc.get("signature")
    if not isinstance(sig, Mapping):
        raise UsageTrustError("unsigned: no signature")
    if sig.get("alg") != "Ed25519" or not isinstance(sig.get("public_key"), str) \
            or not isinstance(sig.get("value"), str):
        raise UsageTrustError("signature: expected alg Ed25519, public_key and value")
    raw = _b64d(str(sig["public_key"]))
    if len(raw) != 32:
        raise UsageTrustError("signature: a public key has 32 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(_b64d(str(sig["value"])),
                                                       _message(domain, doc))
    except (InvalidSignature, ValueError):
        raise UsageTrustError("altered: the signature does not match the content") from None
    return str(sig["public_key"])
