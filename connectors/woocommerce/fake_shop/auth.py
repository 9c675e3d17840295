"""Credential checks as ``WC_REST_Authentication`` performs them.

Three ways in: HTTP Basic, ``consumer_key``/``consumer_secret`` query parameters,
and OAuth 1.0a (HMAC-SHA1/SHA256) signed query strings.  OAuth signatures are
really verified — base string and HMAC computed with oauthlib's signature
helpers — including the 15-minute timestamp window and nonce reuse.  Unlike a
real store (which checks Basic only over HTTPS), the fake accepts every scheme
over its loopback HTTP.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Literal

from oauthlib.oauth1.rfc5849 import signature

from .query import ApiError

TIMESTAMP_WINDOW = 15 * 60
_NONCES_KEPT = 50_000


def _auth_error(message: str) -> ApiError:
    return ApiError(401, "woocommerce_rest_authentication_error", message)


def cannot_view(status: int = 401) -> ApiError:
    return ApiError(status, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str


class Authenticator:
    """Decides who a request is; raises ``ApiError`` like WooCommerce would."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.strip_authorization = False
        """Simulate a CGI/FastCGI host that drops the Authorization header."""
        self._nonces: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, *, method: str, uri: str, query: str, params: Mapping[str, str],
                     authorization: str | None) -> str:
        """Return how the request authenticated (``"basic"``, ``"query"``, ``"oauth1"``)."""
        if authorization and not self.strip_authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise _auth_error("Consumer key is invalid.") from None
                self._check_pair(user, password)
                return "basic"
        if "consumer_key" in params:
            self._check_pair(params["consumer_key"], params.get("consumer_secret", ""))
            return "query"
        if "oauth_consumer_key" in params:
            self._check_oauth(method, uri, query, params)
            return "oauth1"
        raise cannot_view()

    def _check_pair(self, key: str, secret: str) -> None:
        if not hmac.compare_digest(key, self.credentials.consumer_key):
            raise _auth_error("Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.credentials.consumer_secret):
            raise _auth_error("Consumer secret is invalid.")

    def _check_oauth(self, method: str, uri: str, query: str, params: Mapping[str, str]) -> None:
        for required in ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                         "oauth_signature_method"):
            if not params.get(required):
                raise _auth_error(f"{required} parameter is missing.")
        if not hmac.compare_digest(params["oauth_consumer_key"], self.credentials.consumer_key):
            raise _auth_error("Consumer key is invalid.")
        method_name = params["oauth_signature_method"]
        if method_name not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _auth_error("Invalid signature - signature method is invalid.")
        collected = signature.collect_parameters(uri_query=query, exclude_oauth_signature=True)
        # The stubs type the parameters as a dict; oauthlib itself passes this list.
        normalized = signature.normalize_parameters(collected)  # type: ignore[arg-type]
        http_method: Literal["GET", "HEAD"] = "HEAD" if method.upper() == "HEAD" else "GET"
        base = signature.signature_base_string(http_method, signature.base_string_uri(uri), normalized)
        sign = (signature.sign_hmac_sha256_with_client if method_name == "HMAC-SHA256"
                else signature.sign_hmac_sha1_with_client)
        # One-legged: no token, so the token secret is empty (key = "secret&").
        signer = SimpleNamespace(client_secret=self.credentials.consumer_secret, resource_owner_secret="")
        expected = str(sign(base, signer))
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise _auth_error("Invalid signature - provided signature does not match.")
        try:
            timestamp = int(params["oauth_timestamp"])
        except ValueError:
            raise _auth_error("Invalid timestamp.") from None
        if abs(time.time() - timestamp) > TIMESTAMP_WINDOW:
            raise _auth_error("Invalid timestamp.")
        nonce = f"{timestamp}:{params['oauth_nonce']}"
        with self._lock:
            if nonce in self._nonces:
                raise _auth_error("Invalid nonce - nonce has already been used.")
            self._nonces[nonce] = time.time()
            while len(self._nonces) > _NONCES_KEPT:
                self._nonces.popitem(last=False)
