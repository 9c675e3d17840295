"""The one redactor: every shape a credential takes in text is masked."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, quote_plus

from copernica_sdk.redaction import RedactingFilter, redact, redact_url

SECRET = "p@ss/w rd+1&x"


def test_literal_and_url_encoded_secrets_are_masked() -> None:
    for form in (SECRET, quote(SECRET, safe=""), quote_plus(SECRET, safe="")):
        assert form not in redact(f"GET /x?appid={form} failed", [SECRET])


def test_credential_parameters_are_masked_by_name_in_every_form() -> None:
    text = ("https://h/x?consumer_key=ck_1&page=2&oauth_signature=abc%3D "
            "('oauth_consumer_key', 'ck_live123') api_key%3Dzzz9 &token=t0k")
    out = redact(text)
    for leaked in ("ck_1", "abc%3D", "ck_live123", "zzz9", "t0k"):
        assert leaked not in out
    assert "page=2" in out and "('oauth_consumer_key', '***')" in out


def test_ordinary_words_that_look_like_parameter_names_are_left_alone() -> None:
    assert redact("primary key=id and token count=3") == "primary key=id and token count=3"


def test_user_info_jwts_and_authorization_headers_are_masked() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    out = redact(f"https://ann:hunter2@h/x {jwt} Authorization: Bearer abc.def")
    assert "hunter2" not in out and jwt not in out and "abc.def" not in out


def test_redact_url_drops_credential_parameters_and_user_info() -> None:
    url = "https://ann:pw@shop.example/wp-json/wc/v3/orders?consumer_key=ck_1&page=2&oauth_nonce=n"
    assert redact_url(url) == "https://shop.example/wp-json/wc/v3/orders?page=2"


def test_extra_patterns_mask_a_sources_own_key_shapes() -> None:
    keys = re.compile(r"(?<![A-Za-z0-9])(c[ks]_)[A-Za-z0-9]{6,}")
    assert redact("secret cs_0123456789abcdef here", patterns=[keys]) == "secret cs_*** here"


def test_redaction_is_idempotent() -> None:
    text = f"https://h/x?api_key={quote(SECRET, safe='')}&consumer_secret=cs_9"
    once = redact(text, [SECRET])
    assert redact(once, [SECRET]) == once


def test_the_log_filter_redacts_messages_and_tracebacks() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "calling %s", ("?token=abc",),
                               None)
    try:
        raise ValueError(f"failed with {SECRET}")
    except ValueError:
        import sys
        record.exc_info = sys.exc_info()
    RedactingFilter([SECRET], mask="REDACTED").filter(record)
    assert SECRET not in record.getMessage() and "abc" not in record.getMessage()
    assert "REDACTED" in record.getMessage()
