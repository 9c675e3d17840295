"""Read ahead: produce the next pages in a thread while the current one is written.

:func:`read_ahead` runs an iterator in a background thread, at most ``depth``
items ahead of its consumer.  Whatever the iterator raises is raised to the
consumer where the item would have been, so the consumer sees the same sequence
of pages and errors as without it, only sooner.  :meth:`Pages.ready` hands over
an item already produced without waiting for one, so the consumer can join
pages that are there anyway into one batch.  Leaving the ``with`` block early (a
failed page, ``--limit``, Ctrl-C) stops the producer at its next item and
closes the iterator in its own thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["Pages", "read_ahead", "sequential"]

T = TypeVar("T")


class _End:
    pass


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Pages(Generic[T]):
    """The items of an iterator, one at a time; :meth:`ready` never waits."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[T]:
        return self._items

    def ready(self) -> T | None:
        """The next item if it is already produced, else ``None`` (and the next
        iteration waits for it, or raises what the iterator raised)."""
        return None


class _Producer(Pages[T]):
    def __init__(self, items: Iterator[T], depth: int, name: str) -> None:
        super().__init__(items)
        self._depth = max(1, depth)
        self._queue: deque[T | _End | _Raised] = deque()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_End())
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_Raised(exc))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()

    def _put(self, item: T | _End | _Raised) -> bool:
        """Wait for room; False once the consumer has gone."""
        with self._changed:
            while len(self._queue) >= self._depth and not self._stopped:
                self._changed.wait()
            if self._stopped:
                return False
            self._queue.append(item)
            self._changed.notify_all()
            return True

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                item = self._queue.popleft()
                self._changed.notify_all()
            if isinstance(item, _End):
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item

    def ready(self) -> T | None:
        with self._changed:
            if not self._queue or isinstance(self._queue[0], (_End, _Raised)):
                return None
            item = self._queue.popleft()
            self._changed.notify_all()
        assert not isinstance(item, (_End, _Raised))
        return item

    def stop(self, *, wait: bool) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if wait:
            # The producer may be inside a source request: it ends at that
            # request's own timeout at the latest.
            self._thread.join()


@contextmanager
def read_ahead(items: Iterator[T], *, depth: int = 1,
               name: str = "copernica-reader") -> Iterator[Pages[T]]:
    """``items``, produced in a thread up to ``depth`` ahead (see the module doc)."""
    producer = _Producer(items, depth, name)
    producer.start()
    try:
        yield producer
    except BaseException:
        # Interrupted or failed: do not wait for a source request to finish.
        producer.stop(wait=False)
        raise
    producer.stop(wait=True)


@contextmanager
def sequential(items: Iterator[T]) -> Iterator[Pages[T]]:
    """``items`` as they come: each is asked for only once the last one is done."""
    yield Pages(items)
