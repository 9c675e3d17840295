"""The run's writer threads: an executor whose hot path hands over a callable, not a future.

A sync hands its writers one task per SOAP write.  ``ThreadPoolExecutor.submit``
builds a ``Future`` (with its ``Condition``) and takes the idle semaphore for
each: ~20 µs of CPU a task, about a twentieth of the client's whole cost per
call (``py-spy``, docs/performance.md).  :meth:`Workers.spawn` puts the callable
on a ``SimpleQueue`` and nothing else; the page writer already tracks its tasks
itself.  :meth:`Workers.submit` (and so ``map``) still returns a future, for the
few calls that want a result back (lookups, the aggregate flush).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

__all__ = ["Workers"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class Workers(Executor):
    """Up to ``size`` threads running callables in the order handed over.

    Threads start as work arrives, up to ``size``.  :meth:`shutdown` lets the
    work already handed over finish; handing over more after it raises
    ``RuntimeError``, as ``ThreadPoolExecutor`` does.
    """

    def __init__(self, size: int, *, name: str) -> None:
        self._size = max(1, size)
        self._name = name
        self._queue: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def spawn(self, task: Callable[[], object]) -> None:
        """Run ``task`` on a worker thread.  It must handle its own errors: one that
        escapes is logged, and the thread goes on with the next task."""
        if len(self._threads) < self._size:
            self._start_thread()
        with self._lock:  # never queued behind shutdown's end markers
            if self._closed:
                raise RuntimeError("cannot schedule new tasks after shutdown")
            self._queue.put(task)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        self.spawn(run)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)  # after the work already queued
        if wait:
            for thread in threads:
                thread.join()

    def _start_thread(self) -> None:
        with self._lock:
            if len(self._threads) >= self._size or self._closed:
                return
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self._name}_{len(self._threads)}")
            self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while (task := self._queue.get()) is not None:
            try:
                task()
            except Exception:
                log.exception("a writer task failed")
            del task  # do not keep the last task's objects alive while idle
