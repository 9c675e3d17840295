"""Partner signing keys: Ed25519, private half passphrase-encrypted on disk.

The private key lives only on the partner's machine (``*.ed25519.pem``, PKCS#8,
encrypted, mode 0600).  Plugins ship the public half (``*.pub``: one line of
base64 of the raw 32 bytes) and pin it by key id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import LicenseKeyError

__all__ = [
    "KeyPairPaths",
    "KeyRing",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_text",
    "public_keys_in",
    "write_jwks",
]


def key_id(public_raw: bytes) -> str:
    """The key id (``kid``): the first 8 bytes of SHA-256 of the raw public key, hex."""
    return hashlib.sha256(public_raw).digest()[:8].hex()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(public: Ed25519PublicKey) -> str:
    """The ``*.pub`` form: base64 of the raw 32 bytes."""
    return base64.b64encode(_raw(public)).decode("ascii")


def _decode_public(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LicenseKeyError("a public key must be base64 of 32 raw Ed25519 bytes") from exc
    if len(raw) != 32:
        raise LicenseKeyError("a public key must be base64 of 32 raw Ed25519 bytes")
    return raw


@dataclass(frozen=True)
class KeyPairPaths:
    """Where :func:`generate_keypair` wrote the key pair."""

    private: Path
    public: Path
    kid: str


def generate_keypair(out_dir: str | os.PathLike[str], label: str,
                     passphrase: bytes) -> KeyPairPaths:
    """Write ``<label>.ed25519.pem`` (encrypted PKCS#8, 0600) and ``<label>.pub``.

    Refuses an empty passphrase and never overwrites an existing key.
    """
    if not passphrase:
        raise LicenseKeyError("the private key needs a passphrase")
    if not label or any(c in label for c in "/\\") or label.startswith("."):
        raise LicenseKeyError(f"key label {label!r}: use letters, digits, '-' or '_'")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase))
    priv_path = directory / f"{label}.ed25519.pem"
    pub_path = directory / f"{label}.pub"
    if priv_path.exists() or pub_path.exists():
        raise LicenseKeyError(f"{priv_path} or {pub_path} exists; choose another label")
    # O_EXCL + mode at creation: the key is never readable by others, not even briefly.
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(priv_path, 0o600)  # the umask may have narrowed it; never widened
    pub_path.write_text(public_key_text(private.public_key()) + "\n", encoding="ascii")
    return KeyPairPaths(priv_path, pub_path, key_id(_raw(private.public_key())))


def load_private_key(path: str | os.PathLike[str], passphrase: bytes) -> Ed25519PrivateKey:
    """Load a partner private key; refuses one readable by group or others."""
    p = Path(path)
    mode = stat.S_IMODE(p.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise LicenseKeyError(f"{p} is readable by others (mode {mode:o}); run chmod 600 {p}")
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=passphrase or None)
    except (ValueError, TypeError):
        # Wrong passphrase and a non-key file look alike to the caller; the
        # message never echoes the passphrase.
        raise LicenseKeyError(f"cannot open {p}: wrong passphrase, or not an encrypted "
                              "Ed25519 key file") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LicenseKeyError(f"{p} is not an Ed25519 private key")
    return key


def load_public_key(path_or_text: str | os.PathLike[str]) -> Ed25519PublicKey:
    """A public key from a ``*.pub`` file, or from its base64 text."""
    text = str(path_or_text)
    p = Path(text)
    if p.exists():
        text = p.read_text(encoding="ascii")
    return Ed25519PublicKey.from_public_bytes(_decode_public(text))


def public_keys_in(directory: str | os.PathLike[str]) -> dict[str, str]:
    """Every ``*.pub`` in ``directory`` as ``{kid: base64}``, oldest file first: the
    ``license_public_keys`` a plugin ships during a key rollover."""
    found: dict[str, str] = {}
    for pub in sorted(Path(directory).glob("*.pub"), key=lambda p: (p.stat().st_mtime, p.name)):
        text = pub.read_text(encoding="ascii").strip()
        found[key_id(_decode_public(text))] = text
    return found


def write_jwks(directory: str | os.PathLike[str]) -> Path:
    """Write ``jwks.json``: the JWK Set (RFC 7517) of every public key in ``directory``,
    for a plugin in PHP or JavaScript (``JWK::parseKeySet``, ``createLocalJWKSet``)."""
    import json

    from .jws import public_jwk

    keys = [public_jwk(Ed25519PublicKey.from_public_bytes(_decode_public(text)), kid)
            for kid, text in public_keys_in(directory).items()]
    path = Path(directory) / "jwks.json"
    path.write_text(json.dumps({"keys": keys}, indent=2) + "\n", encoding="ascii")
    return path


class KeyRing:
    """The public keys a plugin pins, by key id.

    Built from ``{kid: base64}`` (what a connector declares); a kid that does
    not match its key is a packaging mistake and fails loudly, here, not at
    verification time.
    """

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        for kid, text in (keys or {}).items():
            raw = _decode_public(text)
            if key_id(raw) != kid:
                raise LicenseKeyError(f"pinned key {kid!r} does not match its public key "
                                      f"(its id is {key_id(raw)!r})")
            self._keys[kid] = Ed25519PublicKey.from_public_bytes(raw)

    @classmethod
    def of(cls, *public_keys: Ed25519PublicKey) -> KeyRing:
        """A ring of the given keys, each under its computed id."""
        return cls({key_id(_raw(k)): public_key_text(k) for k in public_keys})

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def __len__(self) -> int:
        return len(self._keys)

    def kids(self) -> list[str]:
        return sorted(self._keys)
