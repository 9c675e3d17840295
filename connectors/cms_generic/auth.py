"""Request authentication (none, HTTP Basic, bearer token, API key) and redaction.

Credentials live on the :class:`requests.Session` (Basic, headers) or are added
to each request's query (API key ``in = "query"``), so a ``next`` URL handed
back by the API gets them too.  :func:`redact` removes every secret from text
before it reaches a message or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from urllib.parse import quote

import requests

from .config import AuthConfig

__all__ = ["apply_auth", "query_auth", "redact"]

#: Query parameters that are credentials whatever the config says (API keys in
#: ``next`` URLs, signed links…): their values are never shown.
_SECRET_PARAMS = re.compile(
    r"((?:^|[?&;])(?:api[_-]?key|apikey|key|token|access[_-]?token|password|secret|signature)"
    r"=)[^&#;\s]*", re.IGNORECASE)
_USERINFO = re.compile(r"(https?://)[^/@\s]+@")


def apply_auth(session: requests.Session, auth: AuthConfig) -> None:
    """Install ``auth`` on ``session`` (Basic and header-based kinds)."""
    if auth.type == "basic":
        session.auth = (auth.username, auth.password)
    elif auth.type == "bearer":
        session.headers["Authorization"] = f"Bearer {auth.token}"
    elif auth.type == "api_key" and auth.location == "header":
        session.headers[auth.name] = auth.key


def query_auth(auth: AuthConfig, params: MutableMapping[str, str]) -> None:
    """Add the API key to ``params`` when it travels in the query string."""
    if auth.type == "api_key" and auth.location == "query":
        params[auth.name] = auth.key


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without secret values, credential-looking query parameters or URL user info."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
        # A secret also shows URL-encoded in a query string.
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, "***")
    text = _SECRET_PARAMS.sub(r"\1***", text)
    return _USERINFO.sub(r"\1***@", text)
