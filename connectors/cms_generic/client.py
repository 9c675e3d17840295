"""The connector's HTTP: the framework's :class:`~copernica_sdk.sync.rest.RestClient`
with the configured authenticator and advice that names this connector's settings.

Timeouts, the whole-call deadline, retries (the project's ``RetryPolicy``,
waits a server asks for), refused redirects, JSON decoding and redaction are the
framework's; this module only translates ``[source.auth]`` and adds the hints.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from copernica_sdk.sync.rest import (
    APIKeyAuth,
    Authenticator,
    BearerTokenAuth,
    HttpBasicAuth,
    NoAuth,
    RestClient,
)

from .config import AuthConfig

__all__ = ["CmsClient", "authenticator"]

USER_AGENT = "copernica-sync-cms-generic/0.1"


def authenticator(auth: AuthConfig) -> Authenticator:
    """``[source.auth]`` as the framework's authenticator."""
    if auth.type == "basic":
        return HttpBasicAuth(auth.username, auth.password)
    if auth.type == "bearer":
        return BearerTokenAuth(auth.token)
    if auth.type == "api_key":
        return APIKeyAuth(auth.name, auth.key, "query" if auth.location == "query" else "header")
    return NoAuth()


class CmsClient(RestClient):
    """Requests of one stream; errors point at ``source.auth``, the stream's path and
    ``source.base_url``."""

    def hint(self, status: int, code: str | None) -> str:
        if status in (401, 403):
            hint = ("; check source.auth (type, user name, password/token/key) and the "
                    "user's permissions")
            if isinstance(self.auth, HttpBasicAuth) and urlsplit(self.base_url).scheme == "http":
                # WordPress ignores application passwords unless the site is on HTTPS
                # (or WP_ENVIRONMENT_TYPE is local): the refusal is about the scheme.
                hint += ("; the address is plain http: WordPress accepts application "
                         "passwords only over HTTPS — use https:// in source.base_url (for a "
                         "development site: define WP_ENVIRONMENT_TYPE as 'local' in "
                         "wp-config.php)")
            return hint
        if status == 404:
            return "; check the stream's path and source.base_url"
        return ""
