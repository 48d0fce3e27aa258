"""Request work that may wait on the store, run off the request thread with a deadline.

``BoundedWork(threads, deadline, name).run(fn)`` runs ``fn`` in one of ``threads`` threads and
waits at most ``deadline`` seconds for it, then raises WorkDeferred (``fn`` goes on in its
thread and ends by itself; its unit of work commits or rolls back as a whole). When every
thread is busy, the caller waits for one at most SLOT_WAIT_SECONDS (a burst of quick
deliveries queues briefly), and not at all once every running job is older than that: the
work is stuck (a hung database), so the caller is refused at once. So at most ``threads``
request threads per worker wait on such work for long, never past the deadline, and the
others stay free for Slack's acks and /healthz. The caller's context (its request id) goes
with the work.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")

# Healthy work takes milliseconds, so a second's wait for a thread absorbs a burst; work that
# has run longer than that is not going to free its thread soon.
SLOT_WAIT_SECONDS = 1.0


class WorkDeferred(RuntimeError):
    """The work could not start (every thread busy) or finish within its deadline."""


class BoundedWork:
    """A small executor whose callers wait a bounded time (see the module)."""

    def __init__(
        self,
        threads: int,
        deadline: float,
        name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threads = threads
        self.deadline = deadline
        self._clock = clock
        self._slots = threading.BoundedSemaphore(threads)
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    def _stuck(self) -> bool:
        with self._lock:
            starts = list(self._started.values())
        now = self._clock()
        return len(starts) >= self.threads and all(now - s > SLOT_WAIT_SECONDS for s in starts)

    def run(self, work: Callable[[], T]) -> T:
        """``work()``'s result, its exception, or WorkDeferred (busy, or past the deadline)."""
        began = self._clock()
        if self._stuck():
            acquired = self._slots.acquire(blocking=False)
        else:
            acquired = self._slots.acquire(timeout=SLOT_WAIT_SECONDS)
        if not acquired:
            raise WorkDeferred(f"all {self.threads} threads are busy with earlier work")
        token = object()
        with self._lock:
            self._started[id(token)] = self._clock()

        def done(_future: Future[T]) -> None:
            with self._lock:
                self._started.pop(id(token), None)
            self._slots.release()

        try:
            future: Future[T] = self._executor.submit(contextvars.copy_context().run, work)
        except BaseException:
            done(Future())
            raise
        future.add_done_callback(done)
        try:
            return future.result(timeout=max(self.deadline - (self._clock() - began), 0.0))
        except FutureTimeout:
            raise WorkDeferred(f"not finished within {self.deadline:.0f} s") from None
