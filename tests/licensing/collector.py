"""A loopback partner collector (werkzeug WSGI server in a thread) for tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from copernica_sdk.licensing.partner.collector import collector_app
from copernica_sdk.licensing.partner.ledger import PartnerLedger
from copernica_sdk.testing._background import serve_in_background


@contextmanager
def running_collector(ledger_path: Path, *, before: Callable[[], None] | None = None
                      ) -> Iterator[tuple[str, PartnerLedger, list[int]]]:
    """Yields (url, ledger, batch sizes received).  ``before`` runs before each answer."""
    ledger = PartnerLedger(ledger_path)
    app = collector_app(ledger)
    batches: list[int] = []

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        import io
        import json
        try:
            batches.append(len(json.loads(body)["events"]) if body else 0)
        except (ValueError, KeyError, TypeError):
            batches.append(-1)  # not a batch: the app answers 400
        environ["wsgi.input"] = io.BytesIO(body)
        result = app(environ, start_response)
        if before is not None:
            before()
        return result

    server = make_server("127.0.0.1", 0, wrapped, threaded=True)
    serve_in_background(server, "usage-collector")
    try:
        yield f"http://127.0.0.1:{server.server_port}/usage", ledger, batches
    finally:
        server.shutdown()
        ledger.close()
