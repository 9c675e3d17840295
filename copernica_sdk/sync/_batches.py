"""Batches: records written and committed together, in order, overlapping when they can.

The engine writes a stream as a sequence of batches — pages read already joined
into one (:class:`PageBatches`), or a staged stream's chunks — and commits each
once its writes are done.  :func:`write_in_order` keeps the commits in order
while letting the next batch be planned and started as soon as the one before is
started, when the two touch nothing in common: the writers then never wait for a
batch's last write, its commit and the next plan.  A batch that touches what the
one in flight touches waits for that one's commit (its plan would read the state
the commit changes).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._bookmarks import max_ts, min_ts, replication_max
from ._read_ahead import Pages
from .connector import PageItem, Stream
from .errors import SourceError

__all__ = ["Batch", "Page", "PageBatches", "write_in_order"]

R = TypeVar("R")  # the engine's record outcome
W = TypeVar("W")  # a batch in flight


@dataclass
class Page(Generic[R]):
    """One page read from a stream: its items, each mapped (``None`` for a
    :class:`Skipped`), and the stream's state (as text) when it was yielded."""

    items: list[PageItem]
    outcomes: list[R | None]
    state: str
    whole: bool = True

    def joined(self, later: Page[R]) -> Page[R]:
        """This page and the one read after it, as one (committed together)."""
        return Page(self.items + later.items, self.outcomes + later.outcomes, later.state,
                    whole=self.whole and later.whole)

    def first(self, n: int) -> Page[R]:
        """The page cut to its first ``n`` items (``--limit``)."""
        if n >= len(self.items):
            return self
        return Page(self.items[:n], self.outcomes[:n], self.state, whole=False)


@dataclass
class Batch(Generic[R]):
    """Records written and committed together: their items, each mapped (``None``
    for a :class:`Skipped`), and what the commit moves the stream to (bookmark,
    stream state; ``None``: unchanged)."""

    items: list[PageItem]
    outcomes: list[R | None]
    bookmark: str | None = None
    state: dict[str, Any] | None = None


class PageBatches(Generic[R]):
    """A stream's pages as batches: pages read already joined up to ``size``
    records, cut at ``limit`` records counted by ``read()`` (the records planned so
    far; needed only with a limit), each with the bookmark
    and state its commit moves the stream to.  After the last batch: the highest
    replication value read, the state last handed on, and whether the stream was
    read to its end."""

    def __init__(self, stream: Stream, until: str, committed: str, *, size: int,
                 limit: int | None = None, read: Callable[[], int] = lambda: 0) -> None:
        self._stream = stream
        self._until = until
        self._size = size
        self._limit = limit
        self._read = read
        self.highest: str | None = None
        self.committed = committed
        self.completed = False

    def of(self, ahead: Pages[Page[R]]) -> Iterator[Batch[R]]:
        for page in ahead:
            # Pages read already join this one: fewer waits for a batch's last
            # write, while the writers could be busy with the next.
            while len(page.items) < self._size and (more := ahead.ready()) is not None:
                page = page.joined(more)
            if self._limit is not None:
                page = page.first(max(0, self._limit - self._read()))
            if not page.items:
                return
            self.highest = max_ts(self.highest,
                                  replication_max(self._stream, page.items, self._until))
            bookmark = None
            if self._stream.is_sorted and self.highest is not None:
                bookmark = min_ts(self.highest, self._until)
            # A page cut short by --limit may not carry state meant for all of it.
            own = page.state if page.whole else self.committed
            state = json.loads(own) if own != self.committed else None
            self.committed = own
            yield Batch(page.items, page.outcomes, bookmark, state)
            # The batch is planned (its records counted) when this resumes.
            if self._limit is not None and self._read() >= self._limit:
                return
        self.completed = True


@dataclass
class _InFlight(Generic[W]):
    handle: W
    touched: frozenset[str]


class _SourceFailed(Exception):
    def __init__(self, error: SourceError) -> None:
        super().__init__(str(error))
        self.error = error


def _wrapped(batches: Iterable[Batch[R]]) -> Iterator[Batch[R]]:
    """``batches``, a source error wrapped: told apart from errors of the writes."""
    try:
        yield from batches
    except SourceError as exc:
        raise _SourceFailed(exc) from exc


def write_in_order(batches: Iterable[Batch[R]], *, start: Callable[[Batch[R]], W],
                   land: Callable[[W], bool], stop: Callable[[W], None],
                   touched: Callable[[Batch[R]], frozenset[str]] | None) -> bool:
    """Start each batch's writes (``start``: plan them and hand them to the
    writers) and ``land`` it (wait for them and commit: False when they failed),
    one after the other in order; False once one failed (no later one is
    committed, and ``stop`` keeps those started from starting more writes).

    With ``touched`` (what a batch's plan reads the state of), a batch is started
    while the one before is still being written, unless the two touch something
    in common.  Without it, each batch lands before the next is read.  A source
    error raised by ``batches`` is raised once the batches before it are landed.
    """
    flying: deque[_InFlight[W]] = deque()

    def land_until(keep: int) -> bool:
        while len(flying) > keep:
            if not land(flying.popleft().handle):
                for later in flying:
                    stop(later.handle)
                return False
        return True

    error: SourceError | None = None
    try:
        for batch in _wrapped(batches):
            reads = touched(batch) if touched is not None else frozenset()
            if flying and reads & flying[-1].touched and not land_until(0):
                return False
            flying.append(_InFlight(start(batch), reads))
            if not land_until(1 if touched is not None else 0):
                return False
    except _SourceFailed as failed:
        error = failed.error
    except BaseException:
        for written in flying:
            stop(written.handle)  # Ctrl-C or a bug: nothing more starts
        raise
    if not land_until(0):
        return False
    if error is not None:
        raise error
    return True
