"""Request work that may wait on the store, run off the request thread with a deadline.

``BoundedWork(threads, deadline).run(fn)`` runs ``fn`` in one of ``threads`` threads and waits
at most ``deadline`` seconds for it: when every thread is busy it raises WorkDeferred at once,
and when ``fn`` has not finished in time it raises WorkDeferred (``fn`` goes on in its thread
and ends by itself; its unit of work commits or rolls back as a whole). The caller's context
(its request id) goes with it. So at most ``threads``
request threads per worker ever wait on such work, and never longer than the deadline: the
other request threads stay free for Slack's acks and /healthz.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")


class WorkDeferred(RuntimeError):
    """The work could not start (every thread busy) or finish within its deadline."""


class BoundedWork:
    """A small executor whose callers wait a bounded time (see the module)."""

    def __init__(self, threads: int, deadline: float, name: str) -> None:
        self.threads = threads
        self.deadline = deadline
        self._slots = threading.BoundedSemaphore(threads)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    def run(self, work: Callable[[], T]) -> T:
        """``work()``'s result, its exception, or WorkDeferred (busy, or past the deadline)."""
        if not self._slots.acquire(blocking=False):
            raise WorkDeferred(f"all {self.threads} threads are busy with earlier work")
        try:
            future: Future[T] = self._executor.submit(contextvars.copy_context().run, work)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        try:
            return future.result(timeout=self.deadline)
        except FutureTimeout:
            raise WorkDeferred(f"not finished within {self.deadline:.0f} s") from None
