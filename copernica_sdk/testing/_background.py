"""The bundled fakes serve from a daemon thread; this starts one the same way for all."""

from __future__ import annotations

import socketserver
import threading

__all__ = ["POLL_INTERVAL", "serve_in_background"]

#: How often ``serve_forever`` looks at its shutdown flag: ``shutdown()`` waits up to
#: this long.  Tests start and stop thousands of fakes, so the default (0.5 s) would
#: cost minutes; 10 ms costs an idle server a negligible wake-up per interval.
POLL_INTERVAL = 0.01


def serve_in_background(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Run ``server.serve_forever`` in a started daemon thread named ``name``."""
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": POLL_INTERVAL}, name=name, daemon=True)
    thread.start()
    return thread
