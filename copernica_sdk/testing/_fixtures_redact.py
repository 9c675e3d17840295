"""Redaction of credentials in recorded SOAP fixtures, and a scan that proves it worked.

Every rule here is idempotent (redacting redacted text changes nothing). That property is
what lets :func:`find_secrets` flag a file simply by asking "would a rule still change it?".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

__all__ = ["REDACTED", "find_secrets", "redact", "redact_header"]

REDACTED = "REDACTED"

# Elements whose text is a credential: the access_token parameter and the legacy
# login(username, account, password) parameters (docs/copernica-api-notes.md §2). Matched by local name
# with any namespace prefix, because PHP-style clients prefix every child element.
_SECRET_ELEMENTS = ("access_token", "password", "username")
_ELEMENT_RE = re.compile(
    r"(?P<open><(?P<prefix>[A-Za-z_][\w.-]*:)?(?P<name>" + "|".join(_SECRET_ELEMENTS) + r")"
    # (?<!/) keeps a self-closing <password .../> from being read as an opening tag.
    r"(?:\s[^>]*)?(?<!/)>)(?P<text>.*?)(?P<close></(?P=prefix)?(?P=name)\s*>)",
    re.DOTALL,
)
# A JWT (the Bearer token, docs/copernica-api-notes.md §2): three base64url segments, the first one a JSON
# object ('{"' encodes to 'eyJ'). The signature may be empty (alg "none").
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# access_token (and password) in query strings and form bodies, e.g. the POST to
# authenticate.copernica.com that trades an API token for a JWT.
_QUERY_TOKEN_RE = re.compile(
    r"((?:access_token|password)=)(?!REDACTED(?:[&\s\"'<#]|$))[^&\s\"'<>#]+", re.I
)
# Header-ish and JSON-ish key/value forms, for text that is not a header mapping.
_HEADER_NAMES = r"(?:Proxy-)?Authorization|Cookie|Set-Cookie"
_HEADER_LINE_RE = re.compile(
    r"(?im)^(?P<key>[ \t]*(?P<name>" + _HEADER_NAMES + r")[ \t]*:[ \t]*)(?P<value>[^\r\n]*)"
)
_JSON_PAIR_RE = re.compile(
    r'(?P<key>"(?P<name>' + _HEADER_NAMES + r'|access_token|password|username)"\s*:\s*")'
    r'(?P<value>(?:[^"\\]|\\.)*)"',
    re.I,
)


def _redact_elements(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        if not match.group("text"):
            # An empty element carries no secret, and keeping it shows what was sent.
            return match.group(0)
        return match.group("open") + REDACTED + match.group("close")

    return _ELEMENT_RE.sub(repl, text)


def _redact_jwt(text: str) -> str:
    return _JWT_RE.sub(REDACTED, text)


def _redact_query_token(text: str) -> str:
    return _QUERY_TOKEN_RE.sub(r"\1" + REDACTED, text)


def _redact_header_lines(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return match.group("key") + redact_header(match.group("name"), match.group("value"))

    return _HEADER_LINE_RE.sub(repl, text)


def _redact_json_pairs(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name, value = match.group("name"), match.group("value")
        if name.lower() in _SECRET_ELEMENTS:
            new = value if value in ("", REDACTED) else REDACTED
        else:
            new = redact_header(name, value)
        return match.group("key") + new + '"'

    return _JSON_PAIR_RE.sub(repl, text)


def _secret_forms(secrets: Iterable[str]) -> list[str]:
    """Every spelling a secret can take in a recorded file, longest first.

    A token can appear literally, XML-escaped in a body, percent-encoded in a URL or
    form, or JSON-escaped in metadata; an empty string is ignored because replacing it would mangle everything.
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.update(
            {
                secret,
                escape(secret, {'"': "&quot;", "'": "&apos;"}),
                escape(secret),
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
                json.dumps(secret, ensure_ascii=False)[1:-1],
                json.dumps(secret)[1:-1],
            }
        )
    return sorted(forms, key=len, reverse=True)


# Named so that find_secrets can say which kind of secret it found.
_RULES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("credential element (access_token/password/username)", _redact_elements),
    ("JWT", _redact_jwt),
    ("access_token=/password= in a URL or form", _redact_query_token),
    ("Authorization/Cookie/Set-Cookie header value", _redact_header_lines),
    ("credential value in JSON", _redact_json_pairs),
)


def redact_header(name: str, value: str) -> str:
    """Redact one HTTP header value, keeping what is needed to understand it.

    ``Authorization`` keeps its scheme (``Bearer REDACTED``); ``Cookie`` keeps the cookie
    names (``soap_session=REDACTED``); ``Set-Cookie`` keeps the name and attributes
    (``soap_session=REDACTED; Path=/``) so a replayed login still sets a cookie. Other
    headers are returned unchanged.
    """
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, sep, rest = value.strip().partition(" ")
        if sep and rest and scheme.isalpha():
            return f"{scheme} {REDACTED}"
        return REDACTED if value else value
    if not value.strip():
        return value  # nothing to hide, and keeping "" keeps redaction idempotent
    if lowered == "cookie":
        return "; ".join(_redact_cookie_pair(pair) for pair in value.split(";"))
    if lowered == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _redact_cookie_pair(first) + sep + attributes
    return value


def _redact_cookie_pair(pair: str) -> str:
    name, sep, _ = pair.strip().partition("=")
    return f"{name}={REDACTED}" if sep else REDACTED


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every credential replaced by ``REDACTED``.

    Covers the text of ``access_token``, ``password`` and ``username`` elements (any
    prefix), anything shaped like a JWT, ``access_token=`` in URLs and forms,
    ``Authorization``/``Cookie``/``Set-Cookie`` values written as header lines or JSON
    pairs, and every literal in ``secrets`` (also XML-escaped and percent-encoded).
    Pure and idempotent: ``redact(redact(t, s), s) == redact(t, s)``.
    """
    for _, rule in _RULES:
        text = rule(text)
    for form in _secret_forms(secrets):
        text = text.replace(form, REDACTED)
    return text


def find_secrets(directory: str | Path, secrets: Iterable[str] = ()) -> list[str]:
    """Scan every file under ``directory`` for credentials that redaction would remove.

    Returns one ``"<relative path>: <what was found>"`` line per finding, sorted; an
    empty list means the directory is safe to commit. Meant for a test that guards a
    fixture directory.
    """
    root = Path(directory)
    forms = _secret_forms(secrets)
    findings: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        # Fixture bodies may legitimately be non-UTF-8; scanning must still see ASCII secrets.
        text = path.read_bytes().decode("utf-8", errors="replace")
        relative = path.relative_to(root).as_posix()
        findings.extend(f"{relative}: {what}" for what, rule in _RULES if rule(text) != text)
        if any(form in text for form in forms):
            findings.append(f"{relative}: a given secret")
    return findings
