"""The three auth generations of docs/copernica-api-notes.md §2, each resolving to one account name.

* ``access_token`` inside the operation's parameters,
* ``Authorization: Bearer <JWT>`` with a JWT from ``POST /authenticate``,
* legacy ``login`` plus a ``soap_session`` cookie.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping

SESSION_COOKIE = "soap_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Auth:
    """Token, JWT and session bookkeeping (thread-safe)."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        logins: Mapping[tuple[str, str], str],
        jwt_ttl: float,
    ) -> None:
        self.tokens = dict(tokens)
        self.logins = dict(logins)
        self.jwt_ttl = jwt_ttl
        self._lock = threading.Lock()
        # Per-fake secret; rotating it is how expire_jwts() invalidates issued JWTs.
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, str] = {}

    # ------------------------------------------------------------------ access token

    def account_for_token(self, token: str) -> str | None:
        return self.tokens.get(token)

    # -------------------------------------------------------------------------- JWT

    def _sign(self, signing_input: str, secret: bytes) -> str:
        return _b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue_jwt(self, token: str) -> str | None:
        """A signed HS256 JWT for the token's account, or None for an unknown token."""
        account = self.tokens.get(token)
        if account is None:
            return None
        issued = time.time()
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(
            json.dumps(
                {"sub": account, "iat": int(issued), "exp": round(issued + self.jwt_ttl, 3)}
            ).encode()
        )
        with self._lock:
            secret = self._secret
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{self._sign(signing_input, secret)}"

    def account_for_jwt(self, jwt: str) -> str | None:
        """The JWT's account if its signature is ours and it has not expired."""
        parts = jwt.strip().split(".")
        if len(parts) != 3:
            return None
        with self._lock:
            secret = self._secret
        expected = self._sign(f"{parts[0]}.{parts[1]}", secret)
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict):
            return None
        exp, account = claims.get("exp"), claims.get("sub")
        if not isinstance(exp, int | float) or exp <= time.time() or not isinstance(account, str):
            return None
        return account

    def expire_jwts(self) -> None:
        """Invalidate every JWT issued so far."""
        with self._lock:
            self._secret = secrets.token_bytes(32)

    # ------------------------------------------------------------------ legacy login

    def login(self, username: str, password: str, account: str | None) -> str | None:
        """A new session id, or None for wrong credentials or a foreign account name."""
        owner = self.logins.get((username, password))
        if owner is None or (account and account != owner):
            return None
        session = secrets.token_hex(16)
        with self._lock:
            self._sessions[session] = owner
        return session

    def account_for_session(self, session: str) -> str | None:
        with self._lock:
            return self._sessions.get(session)

    def expire_sessions(self) -> None:
        """Forget every login session: the next call with its cookie is 'Not logged on'."""
        with self._lock:
            self._sessions.clear()
