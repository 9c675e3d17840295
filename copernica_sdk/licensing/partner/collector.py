"""The partner's usage collector: a WSGI app that files POSTed batches in the ledger."""

from __future__ import annotations

import json
from typing import Any

from ._extra import require_extra
from .ledger import PartnerLedger, coerce_event

__all__ = ["collector_app"]


def collector_app(ledger: PartnerLedger) -> Any:
    """A minimal WSGI collector for :class:`~copernica_sdk.licensing.sinks.HttpCollectorSink` (serve it
    behind HTTPS).  Per-event outcomes; a resent batch answers ``duplicate``."""
    require_extra()
    from werkzeug.wrappers import Request, Response

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST":
            return Response("POST usage batches here\n", status=405)
        try:
            events = [coerce_event(e) for e in request.get_json(force=True)["events"]]
        except (ValueError, KeyError, TypeError) as exc:
            return Response(json.dumps({"error": str(exc)}), status=400,
                            mimetype="application/json")
        report = ledger.ingest_events(events)
        body = {"results": [{"event_id": k, "outcome": str(v)}
                            for k, v in report.outcomes.items()]}
        return Response(json.dumps(body), mimetype="application/json")

    return app
