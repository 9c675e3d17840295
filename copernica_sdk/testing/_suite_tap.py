"""A tap between the sync engine and a connector: it watches every page the
engine asks for and can stop the run, the way a kill would, before a given one.

The standard connector suite wraps the partner's connector in a tap for every
run, so it can check what was read (which ``start`` the engine passed, which
records came back) without the connector knowing, and simulate a crash after
any checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..sync.connector import Connector, PageItem, Record, Stream

__all__ = ["PageRequest", "SimulatedCrash", "StreamTrace", "Tap", "tapped"]


class SimulatedCrash(BaseException):
    """Raised instead of a source page to stop a run dead.

    A ``BaseException``, like ``KeyboardInterrupt``: the engine handles source
    and service errors, and a crash must not be handled — nothing after it runs,
    so the state holds exactly the checkpoints committed before it.
    """


@dataclass(frozen=True)
class PageRequest:
    """One time the engine asked a stream for its next page.  ``page`` counts from
    1; ``None`` is the request that found the stream exhausted."""

    stream: str
    page: int | None

    def describe(self) -> str:
        if self.page is None:
            return f"after the last page of {self.stream!r}, before the stream ended"
        return f"before page {self.page} of {self.stream!r}"


@dataclass
class StreamTrace:
    """What one stream was asked for and gave during one run."""

    primary_key: str
    replication_key: str | None
    start: str | None
    until: str
    pages: list[list[Record]] = field(default_factory=list)
    completed: bool = False

    @property
    def records(self) -> list[Record]:
        return [record for page in self.pages for record in page]


class Tap:
    """Records the reads of one run; with ``crash_at=n`` it raises
    :class:`SimulatedCrash` instead of serving page request number ``n``
    (counting from 0, over all streams in order).  ``observer(stream, served)``
    is called before every page request, with the pages that stream served so far.
    """

    def __init__(self, *, crash_at: int | None = None,
                 observer: Callable[[str, int], None] | None = None) -> None:
        self.crash_at = crash_at
        self.observer = observer
        self.requests: list[PageRequest] = []
        self.streams: dict[str, StreamTrace] = {}
        self.crashed = False

    def read(self, stream: Stream, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        trace = StreamTrace(stream.primary_key, stream.replication_key, start, until)
        self.streams[stream.name] = trace
        pages = iter(stream.read(start, until))
        number = 0
        while True:
            if self.observer is not None:
                self.observer(stream.name, number)
            if self.crash_at is not None and len(self.requests) >= self.crash_at:
                self.crashed = True
                raise SimulatedCrash(
                    f"simulated crash at page request {number + 1} of {stream.name!r}")
            try:
                page = next(pages)
            except StopIteration:
                self.requests.append(PageRequest(stream.name, None))
                trace.completed = True
                return
            number += 1
            self.requests.append(PageRequest(stream.name, number))
            # The trace holds the records to sync (not those skipped or rejected).
            trace.pages.append([item for item in page if isinstance(item, dict)])
            yield page


class _TappedStream(Stream):
    """The real stream's identity (instance attributes), its pages through the tap."""

    def __init__(self, connector: Connector, inner: Stream, tap: Tap) -> None:
        super().__init__(connector, name=inner.name, primary_key=inner.primary_key,
                         replication_key=inner.replication_key)
        self.inner = inner
        self.tap = tap

    @property
    def is_sorted(self) -> bool:  # type: ignore[override]
        # Read from the inner stream each time: a connector may decide it at run
        # time (WooCommerce orders are sorted only on stores that can sort them).
        return bool(self.inner.is_sorted)

    def read(self, start: str | None, until: str) -> Iterator[Sequence[PageItem]]:
        return self.tap.read(self.inner, start, until)


class _TappedConnector(Connector):
    name = "tapped"

    def __init__(self, inner: Connector, tap: Tap) -> None:
        # Not super().__init__(): the wrapped connector validated its config already.
        self.config: Mapping[str, Any] = inner.config
        self.inner = inner
        self._streams = [_TappedStream(self, stream, tap) for stream in inner.streams()]

    def check(self) -> None:
        self.inner.check()

    def streams(self) -> Sequence[Stream]:
        return list(self._streams)

    def default_mapping(self) -> Mapping[str, Any]:
        return self.inner.default_mapping()

    def secrets(self) -> list[str]:
        return self.inner.secrets()

    def close(self) -> None:
        self.inner.close()


def tapped(connector: Connector, tap: Tap) -> Connector:
    """``connector`` with every stream read through ``tap``.  Same name (the state
    keys identities by it), same config spec, same streams and attributes."""
    attributes: dict[str, Any] = {
        "name": connector.name,
        "config_spec": type(connector).config_spec,
        "description": type(connector).description,
    }
    cls: type[_TappedConnector] = type(
        f"Tapped{type(connector).__name__}", (_TappedConnector,), attributes)
    return cls(connector, tap)
