"""The partner's usage collector: a WSGI app that files POSTed batches in the ledger.

It is the receiving end of :class:`~copernica_sdk.licensing.sinks.HttpCollectorSink`
(``usage flush`` and the flush after each run); the HTTP contract both keep is in
docs/licensing.md, "The collector's HTTP contract".  Serve it behind HTTPS with any
WSGI server::

    from copernica_sdk.licensing.partner import PartnerLedger, collector_app
    app = collector_app(PartnerLedger("partner.sqlite3"))
"""

from __future__ import annotations

import json
from typing import Any

from ..usage_signing import UsageTrustError
from ._extra import require_extra
from .ledger import FieldError, PartnerLedger

__all__ = ["MAX_BODY_BYTES", "collector_app"]

#: The largest batch accepted (the sink sends at most 500 events, ~300 KB).
MAX_BODY_BYTES = 8 * 1024 * 1024


def collector_app(ledger: PartnerLedger, *, allow_unsigned: bool = False,
                  accept_new_key: bool = False) -> Any:
    """A WSGI collector.  Answers (JSON bodies):

    - ``200 {"results": [{"event_id", "outcome"}]}``: per event ``accepted``,
      ``duplicate`` (a resent batch) or ``rejected`` (an id already filed with other
      content);
    - ``400 {"error"}``: not a usage batch (the sender parks it, does not resend);
    - ``403 {"error"}``: refused by the trust rules — unsigned (unless
      ``allow_unsigned``), altered, or signed by a key other than the install's
      pinned one (unless ``accept_new_key``);
    - ``405`` for anything but POST, ``413`` for a body over :data:`MAX_BODY_BYTES`.
    """
    require_extra()
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.wrappers import Request, Response

    def answer(status: int, body: dict[str, Any]) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST":
            return Response("POST usage batches here\n", status=405, headers={"Allow": "POST"})
        request.max_content_length = MAX_BODY_BYTES
        try:
            body = json.loads(request.get_data(cache=False))
            if not isinstance(body, dict):
                raise FieldError("body", "a JSON object {\"events\": [...]} is expected")
            report = ledger.ingest_batch(body, allow_unsigned=allow_unsigned,
                                         accept_new_key=accept_new_key)
        except RequestEntityTooLarge:
            return answer(413, {"error": f"batch larger than {MAX_BODY_BYTES} bytes"})
        except UsageTrustError as exc:
            return answer(403, {"error": str(exc)})
        except (ValueError, UnicodeDecodeError) as exc:  # FieldError, JSON errors
            return answer(400, {"error": str(exc)})
        return answer(200, {"results": [{"event_id": k, "outcome": str(v)}
                                        for k, v in report.outcomes.items()]})

    return app
