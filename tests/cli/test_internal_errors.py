"""A bug (an exception that is not the SDK's, in our code or a connector's) ends in
one line and exit 5, the code the run history records — never a traceback — and
``-vv`` logs the traceback with every secret redacted."""

from __future__ import annotations

from typing import Any

import pytest

from copernica_sync.connectors.woocommerce import streams as woo_streams

from .conftest import Project, describe


def test_a_bug_in_a_stream_is_one_line_and_exit_5_and_the_traceback_is_redacted(
        ready: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = ready.shop.consumer_secret

    def broken(self: Any, start: Any, until: Any) -> Any:
        raise TypeError(f"a connector bug near {secret}")
        yield []  # pragma: no cover

    monkeypatch.setattr(woo_streams.CustomersStream, "read", broken)
    for args in (("run",), ("-vv", "run")):
        result = ready.invoke(*args)
        text = result.output + result.stderr
        assert result.exit_code == 5, describe(result)
        assert isinstance(result.exception, SystemExit), describe(result)
        assert "Internal error" in result.stderr and "TypeError" in result.stderr, text
        assert secret not in text, text
        assert ("Traceback" in text) == (args[0] == "-vv"), text  # logged at -vv only
    shown = ready.invoke("state", "show")
    assert ", exit 5, " in shown.output, describe(shown)


def test_click_usage_errors_keep_their_code(ready: Project) -> None:
    result = ready.invoke("run", "--no-such-option")
    assert result.exit_code == 2 and "Internal error" not in result.stderr, describe(result)
