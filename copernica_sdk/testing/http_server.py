"""``LoopbackServer``: a real HTTP server on 127.0.0.1 that answers with a function.

For tests of REST sources and of the REST building blocks: no mocks of
``requests``, the client talks to a socket.  The handler gets a werkzeug
``Request`` and returns a ``Response`` (or a ``(body, status, headers)`` tuple,
``body`` JSON-encoded unless it is ``str``/``bytes``)::

    def api(request):
        page = int(request.args.get("page", 1))
        return {"items": [{"id": page}]}, 200, {}

    with LoopbackServer(api) as server:
        client = RestClient(server.url)
        ...
        assert server.requests[0].args["page"] == "1"
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from ._background import serve_in_background

__all__ = ["LoopbackServer", "Seen"]

Answer = Response | tuple[Any, int, Mapping[str, str]] | tuple[Any, int] | Any
Handler = Callable[[Request], Answer]


@dataclass(frozen=True)
class Seen:
    """One request as it arrived: method, path, query arguments, headers, URL."""

    method: str
    path: str
    args: MultiDict[str, str]
    headers: Headers
    url: str


class LoopbackServer:
    """Serves ``handler`` on an ephemeral loopback port while the ``with`` block runs;
    ``url`` is its base address, ``requests`` every request that arrived (in order)."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running (use it in a with block)")
        return f"http://{self.host}:{self._server.server_port}/"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests.append(Seen(request.method, request.path, request.args,
                                      request.headers, request.url))
        return _response(self.handler(request))(environ, start_response)

    def __enter__(self) -> LoopbackServer:
        self._server = make_server(self.host, 0, self._app, threaded=True)
        self._thread = serve_in_background(self._server, "loopback-server")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _response(answer: Answer) -> Response:
    if isinstance(answer, Response):
        return answer
    body, status, headers = answer, 200, {}
    if isinstance(answer, tuple):
        body, status, *rest = answer
        headers = dict(rest[0]) if rest else {}
    if isinstance(body, str | bytes):
        return Response(body, status=status, headers=headers)
    headers.setdefault("Content-Type", "application/json")
    return Response(json.dumps(body), status=status, headers=headers)
