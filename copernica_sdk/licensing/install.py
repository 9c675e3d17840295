"""Install identity: a random id minted once per state file, plus the shop URL.

The id is random (UUIDv4), never hardware-derived: a reinstall on the same shop
keeps its binding through the normalised shop URL, and an OS update cannot
"deactivate" anything.  Staging and local hosts are recognised so they are
exempt from binding and never billed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import _sql

__all__ = ["Install", "environment_of", "is_staging", "normalize_shop", "read_install"]

# Host labels that mark a non-production copy of a shop.
_STAGING_LABELS = frozenset({"staging", "stage", "stg", "dev", "develop", "development",
                             "test", "testing", "qa", "uat", "preview", "sandbox", "local"})
_STAGING_SUFFIXES = (".local", ".localhost", ".test", ".invalid", ".example",
                     ".lndo.site", ".ddev.site", ".wpengine.com", ".kinsta.cloud")


def normalize_shop(url: str) -> str:
    """``https://WWW.Shop.nl/store/`` → ``shop.nl/store``.

    Drops scheme, credentials, port 80/443, a leading ``www.``, query, fragment
    and trailing slashes; lowercases; IDNA-encodes non-ASCII hosts (``bücher.de``
    and ``xn--bcher-kva.de`` are the same shop).
    """
    text = url.strip()
    if not text:
        return ""
    if "://" not in text:
        text = "//" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port if parts.port not in (None, 80, 443) else None
    path = re.sub(r"/+", "/", parts.path).rstrip("/")
    return f"{host}{':' + str(port) if port else ''}{path}"


def _host(normalized: str) -> str:
    return normalized.split("/", 1)[0].rsplit(":", 1)[0] if normalized else ""


def is_staging(shop: str) -> bool:
    """Whether a (normalised or raw) shop URL is a staging, dev or local copy."""
    host = _host(normalize_shop(shop))
    if not host or host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return address.is_private or address.is_loopback or address.is_link_local
    if host.endswith(_STAGING_SUFFIXES):
        return True
    labels = host.split(".")
    # Only the labels left of the registered domain: "dev.shop.nl", "shop-staging.x.nl";
    # "test.nl" itself is a real shop.
    return any(label in _STAGING_LABELS or any(label.endswith(f"-{s}") or
                                               label.startswith(f"{s}-")
                                               for s in ("staging", "dev", "test"))
               for label in labels[:-2])


def environment_of(shop: str) -> str:
    """``"staging"`` or ``"production"``."""
    return "staging" if is_staging(shop) else "production"


@dataclass(frozen=True)
class Install:
    """Who is running: the install id and the shop it syncs."""

    install_id: str
    shop: str                       # normalised
    environment: str                # "production" | "staging"
    created_at: str | None = None   # None: minted for this run, not stored yet

    @classmethod
    def new(cls, shop_url: str) -> Install:
        shop = normalize_shop(shop_url)
        return cls(str(uuid.uuid4()), shop, environment_of(shop))


def read_install(conn: _sql.Connection) -> tuple[str, str] | None:
    """The stored ``(install_id, created_at)``, or None before the first metered run."""
    if not _sql.table_exists(conn, "license_install"):  # not a state store yet
        return None
    row = conn.execute("SELECT install_id, created_at FROM license_install "
                       "WHERE singleton = 1").fetchone()
    return (str(row[0]), str(row[1])) if row else None
