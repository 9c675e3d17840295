"""Small pure checks of the standard connector suite: names, timestamps, values."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ..sync.connector import ConfigField

__all__ = ["looks_secret", "parse_utc", "wrong_value"]

# Words that make a setting a credential wherever they appear in its name.
_SECRET_WORDS = frozenset({
    "secret", "secrets", "token", "tokens", "password", "passwd", "pwd", "passphrase",
    "credential", "credentials", "apikey", "privatekey",
})
# "key" is a credential only in these combinations (or alone): a "meta_key" or
# "sort_key" names something, it is not one.
_KEY_QUALIFIERS = frozenset({
    "api", "access", "consumer", "private", "client", "auth", "license", "licence", "secret",
    "signing", "encryption", "app", "application", "account", "partner", "subscription",
    "master", "shared", "write", "admin", "service", "webhook", "hmac", "rest",
})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def looks_secret(name: str) -> bool:
    """Whether a setting named ``name`` holds a credential (``api_key``,
    ``consumer_secret``, ``accessToken``, ``password``; not ``meta_key``)."""
    words = _words(name)
    if any(w in _SECRET_WORDS for w in words):
        return True
    for i, word in enumerate(words):
        if word == "key" and (len(words) == 1 or (i > 0 and words[i - 1] in _KEY_QUALIFIERS)):
            return True
    return False


def parse_utc(value: Any) -> datetime:
    """A replication value as a naive UTC datetime; ``ValueError`` saying why not.

    Accepts what the engine accepts (ISO 8601: ``2024-05-01T10:00:00``, with
    ``Z`` or ``+00:00``, fractions of a second) and refuses other offsets: the
    contract is UTC, so values from different sources compare.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an ISO-8601 UTC timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is not None:
        if parsed.utcoffset() != timedelta(0):
            raise ValueError(f"{value!r} is not in UTC (convert it; use Z or no offset)")
        parsed = parsed.replace(tzinfo=None)
    return parsed


def wrong_value(field: ConfigField, index: int) -> Any:
    """A value of the wrong type for ``field``, unique to ``index`` (< 1000) so an
    error message that shows it can be caught: equal-length numbers and
    delimited words, so no sentinel is part of another."""
    return 918273000 + index if field.type == "str" else f"suite{index}sentinel"
