"""Read ahead: produce the next page in a thread while the current one is written.

:func:`read_ahead` runs an iterator in a background thread, at most ``depth``
items ahead of its consumer.  Whatever the iterator raises is raised to the
consumer where the item would have been, so the consumer sees the same sequence
of pages and errors as without it, only sooner.  Leaving the ``with`` block early
(a failed page, ``--limit``, Ctrl-C) stops the producer at its next item and
closes the iterator in its own thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")

_END = object()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Producer(Generic[T]):
    def __init__(self, items: Iterator[T], depth: int, name: str) -> None:
        self._items = items
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_Raised(exc))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()

    def _put(self, item: object) -> bool:
        """Wait for room; False once the consumer has gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]

    def stop(self, *, wait: bool) -> None:
        self._stop.set()
        if wait:
            # The producer may be inside a source request: it ends at that
            # request's own timeout at the latest.
            self._thread.join()


@contextmanager
def read_ahead(items: Iterator[T], *, depth: int = 1,
               name: str = "copernica-reader") -> Iterator[Iterator[T]]:
    """``items``, produced in a thread up to ``depth`` ahead (see the module doc)."""
    producer = _Producer(items, depth, name)
    producer.start()
    try:
        yield iter(producer)
    except BaseException:
        # Interrupted or failed: do not wait for a source request to finish.
        producer.stop(wait=False)
        raise
    producer.stop(wait=True)
