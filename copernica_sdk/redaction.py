"""One redactor: credentials out of every URL, message and log line the project writes.

Secrets reach text in many shapes — the literal value, its percent-encoded form in a
query string (``p%40ss%2Fword``), a credential parameter (``consumer_key=…``,
``api_key=…``, ``oauth_signature=…``) copied into a ``Link`` header or an exception,
oauthlib's debug list of tuples (``('oauth_consumer_key', 'ck_…')``), user info in a
URL (``https://user:pass@host``), a JWT, an ``Authorization`` header value.  Every
form is masked here, so the SDK client, the CLI's log filter, the REST building
blocks and the connectors all mask the same way:

- :func:`redact` masks ``text`` (values replaced by ``mask``, names kept so a
  message still says *which* parameter was there);
- :func:`redact_url` shows a URL without credentials: user info and credential
  query parameters are dropped, then :func:`redact` runs over the rest;
- :class:`RedactingFilter` is a :class:`logging.Filter` that redacts every record
  (message and traceback) with the secrets it was given;
  :func:`install_log_redaction` attaches one to the loggers of the libraries under
  us that print full URLs and OAuth parameters at DEBUG (urllib3, oauthlib).

Rules are idempotent: redacting redacted text changes nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "RedactingFilter",
    "install_log_redaction",
    "is_secret_param",
    "redact",
    "redact_url",
]

#: What a masked value is shown as.
MASK = "***"

# Parameter names that are credentials wherever they appear (query strings, free
# text, oauthlib's tuples): specific enough never to be ordinary words.
_SPECIFIC = (r"consumer_key|consumer_secret|oauth_[a-z_]+|api[_-]?key|apikey|access[_-]?token"
             r"|refresh[_-]?token|client[_-]?secret|x[_-]?api[_-]?key|private[_-]?token"
             r"|auth[_-]?token|session[_-]?token")
# Names that are credentials only as query parameters (after ``?``, ``&`` or ``;``):
# as words they are ordinary ("primary key=id").
_GENERIC = r"key|token|password|passwd|pwd|secret|signature|sig|auth|access_key|code"

_SECRET_PARAM = re.compile(rf"^(?:{_SPECIFIC}|{_GENERIC})$", re.IGNORECASE)
# name=value, name%3Dvalue, "name": "value", ('name', 'value') for the specific names.
_SPECIFIC_IN_TEXT = re.compile(
    rf"""(?P<name>(?<![A-Za-z0-9])(?:{_SPECIFIC}))(?P<sep>=|%3D|['"]\s*[,:]\s*['"])"""
    r"""(?!\*\*\*)[^'"&\s,)\]%;#]+(?:%[0-9A-Fa-f]{2}[^'"&\s,)\]%;#]*)*""",
    re.IGNORECASE,
)
# ?name=value / &name=value (also URL-encoded separators %3F, %26) for the generic names.
_GENERIC_IN_QUERY = re.compile(
    rf"(?P<lead>(?:[?&;]|%3F|%26)(?:{_GENERIC})(?:=|%3D))(?!\*\*\*)[^&#;\s'\"]+",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s?#]+@", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(
    r"(?P<lead>\b(?:Proxy-)?Authorization['\"]?\s*[:=]\s*['\"]?(?:Bearer|Basic|Token|OAuth)?\s*)"
    r"(?!\*\*\*)[^\s'\",}]+", re.IGNORECASE)


def is_secret_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a credential."""
    return bool(_SECRET_PARAM.match(name))


def _secret_forms(secrets: Iterable[str]) -> list[str]:
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.update({secret, quote(secret, safe=""), quote_plus(secret, safe="")})
    forms.discard(MASK)
    # Longest first: a secret containing another is masked whole.
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = (), *, mask: str = MASK,
           patterns: Sequence[re.Pattern[str]] = ()) -> str:
    """``text`` with every credential masked.

    ``secrets``: literal values to mask, also in their percent-encoded forms.
    ``patterns``: extra shapes a source's credentials have (WooCommerce keys look
    like ``ck_<hex>``); each match is replaced by its first group (if any) plus
    ``mask``.  ``mask`` is what a value becomes (``***`` by default).
    """
    for form in _secret_forms(secrets):
        text = text.replace(form, mask)
    text = _SPECIFIC_IN_TEXT.sub(lambda m: f"{m.group('name')}{m.group('sep')}{mask}", text)
    text = _GENERIC_IN_QUERY.sub(lambda m: f"{m.group('lead')}{mask}", text)
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{mask}@", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group('lead')}{mask}", text)
    text = _JWT.sub(mask, text)
    for pattern in patterns:
        text = pattern.sub(lambda m: f"{(m.group(1) or '') if m.re.groups else ''}{mask}", text)
    return text


def redact_url(url: str, secrets: Iterable[str] = (), *, mask: str = MASK,
               patterns: Sequence[re.Pattern[str]] = ()) -> str:
    """``url`` as a message may show it: without user info, without credential query
    parameters (keys, tokens, OAuth signatures) and without the fragment; what is
    left goes through :func:`redact` too."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return redact(url, secrets, mask=mask, patterns=patterns)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    query = parts.query
    if query:
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                if not is_secret_param(k)]
        query = urlencode(kept, safe=",:[]")
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return redact(shown, secrets, mask=mask, patterns=patterns)


class RedactingFilter(logging.Filter):
    """Masks known secrets (and every credential shape :func:`redact` knows) in each
    log record, traceback included.  Never drops a record.

    ``add`` registers more secrets; values shorter than ``min_length`` are ignored,
    because masking every ``"a"`` in a log would make it unreadable and hides nothing.
    """

    def __init__(self, secrets: Iterable[str] = (), *, mask: str = MASK,
                 min_length: int = 4) -> None:
        super().__init__()
        self.mask = mask
        self.min_length = min_length
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these values too from now on."""
        self.secrets.extend(s for s in secrets
                            if s and len(s) >= self.min_length and s not in self.secrets)

    def redact(self, text: str) -> str:
        """``text`` as this filter would log it."""
        return redact(text, self.secrets, mask=self.mask)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's problem, not ours
            return True
        if record.exc_info:  # a traceback's text is redacted too (exception messages)
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = self.redact(message), None
        return True


_LIBRARY_FILTER = RedactingFilter()
_INSTALL_LOCK = threading.Lock()
#: Loggers of the libraries under us that print full URLs or OAuth parameters at DEBUG.
LEAKY_LOGGERS = (
    "urllib3.connectionpool",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)


def install_log_redaction(secrets: Iterable[str] = ()) -> None:
    """Mask credentials in the debug output of urllib3 and oauthlib (idempotent);
    ``secrets`` are masked there too from now on.

    Filters attach to the exact loggers that emit, because logging does not apply
    a parent logger's filters to records of its children.
    """
    with _INSTALL_LOCK:
        _LIBRARY_FILTER.add(secrets)
        for name in LEAKY_LOGGERS:
            logger = logging.getLogger(name)
            if _LIBRARY_FILTER not in logger.filters:
                logger.addFilter(_LIBRARY_FILTER)
