"""Run many single-record calls concurrently: results in input order, errors per item.

Items sharing a key run one after another, in input order, on one worker: two
concurrent upserts of one key could both create (Copernica has no uniqueness
constraint, docs/copernica-api-notes.md §5), and the last item must win as it
would in a loop.  Different keys run in parallel on ``concurrency`` threads,
which share the client (and so its connection pool, credentials, retries and
safety checks).  A :class:`SafetyError` stops everything not yet sent: it means a
write touched more records than it should (docs/guarantees.md), so nothing more
is sent and the items left over are reported as not sent.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..errors import ConfigurationError, SafetyError, UnsafeRequestError
from ..models import BulkResult

__all__ = ["Progress", "run_many"]

I = TypeVar("I")  # noqa: E741 - an input item
T = TypeVar("T")

#: ``on_progress(done, total)``: called in the caller's thread after each item.
Progress = Callable[[int, int], None]


def run_many(items: Sequence[I], *, key_of: Callable[[I], Hashable],
             work: Callable[[I], T], concurrency: int,
             on_progress: Progress | None, operation: str) -> list[BulkResult[T]]:
    """``work(item)`` for every item; one :class:`BulkResult` per item, in input order.

    ``key_of`` may raise for a bad item: that item fails alone, unsent.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a whole number ≥ 1, not {concurrency!r}")
    total = len(items)
    results: list[BulkResult[T] | None] = [None] * total
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        try:
            key = key_of(item)
        except Exception as exc:
            results[index] = BulkResult(index, error=exc)
            continue
        groups.setdefault(key, []).append(index)
    done = queue.SimpleQueue[BulkResult[T]]()
    stop = threading.Event()
    stopped_by: list[int] = []

    def run_group(indices: list[int]) -> None:
        for index in indices:
            if stop.is_set():
                first = stopped_by[0] if stopped_by else None
                done.put(BulkResult(index, error=UnsafeRequestError(
                    f"item {index} not sent: "
                    + (f"item {first} raised SafetyError, so nothing more is sent"
                       if first is not None else "the bulk call was stopped"),
                    operation=operation)))
                continue
            try:
                done.put(BulkResult(index, value=work(items[index])))
            except SafetyError as exc:
                stopped_by.append(index)
                stop.set()
                done.put(BulkResult(index, error=exc))
            except Exception as exc:
                done.put(BulkResult(index, error=exc))

    finished = 0
    for result in results:
        if result is not None:
            finished += 1
            if on_progress is not None:
                on_progress(finished, total)
    pool = ThreadPoolExecutor(max_workers=min(concurrency, max(len(groups), 1)),
                              thread_name_prefix="copernica-bulk")
    try:
        for indices in groups.values():
            pool.submit(run_group, indices)
        while finished < total:
            result = done.get()
            results[result.index] = result
            finished += 1
            if on_progress is not None:
                on_progress(finished, total)
    except BaseException:
        # A failing progress callback or Ctrl-C: send nothing more, wait for calls in flight.
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]
