"""Drain a worker's acknowledged Slack work when it is told to stop (decision 0006).

Every piece of work after an ack is a ``Job`` in a ``TrackedExecutor``: queued, then running,
then done — or abandoned while still queued. On TERM (``signal_term``, from the worker's
signal handler) each executor refuses new work (``draining``) and a drain thread:

- lets queued jobs start while they can; those that cannot (more are queued than the start
  rate measured since TERM lets start before the notice time, beyond what fits in one round
  of the final batch) are given up at once, newest first;
- at ``grace - notice_margin(grace)`` gives up every job still unfinished, in parallel
  (``NOTICE_PARALLEL``): a command gets the restart notice on its response_url, an event one
  log line (Slack does not redeliver an acked event);
- logs one line when it starts, one per batch of notices, one per job still running, and
  one when everything finished.

``wait_drained`` (the worker's exit hook) waits for that, bounded by the grace.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger("rocket2.slack")

# Notices for a batch are sent this many at a time (each try bounded by the reply client's
# deadline). Against a Slack that answers in 100 ms, the 8 running commands plus a queued
# remainder of 8 take 0.1 s; the whole bound of 1008 would take 1008 / 16 × 0.1 ≈ 6.3 s,
# which is why the queue is given up early, while the grace still has time (see drain()).
NOTICE_PARALLEL = 16
# The final batch starts this long before the grace ends (at most a third of a short grace).
NOTICE_MARGIN = 3.0
# Replies and notices end this long before the grace ends, so the worker exits by itself.
EXIT_MARGIN = 0.5
TICK = 0.1  # how often the drain thread looks again while nothing finished

ReplyFate = Literal["noticed", "failed", "answered", "logged"]
State = Literal["queued", "running", "done", "abandoned"]


def notice_margin(grace: float) -> float:
    """How long before the grace ends the final notices start."""
    return min(NOTICE_MARGIN, grace / 3)


@dataclass(eq=False)
class Job:
    """Work acknowledged to Slack: ``work`` does it; ``give_up(running)`` tells the user (or
    the log) it will not be done, and says how."""

    label: str
    kind: Literal["command", "event"]
    work: Callable[[], None]
    give_up: Callable[[bool], ReplyFate]
    state: State = "queued"
    started_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> bool:
        """queued → running; False if it was abandoned meanwhile."""
        with self.lock:
            if self.state != "queued":
                return False
            self.state, self.started_at = "running", time.monotonic()
            return True

    def abandon(self) -> bool:
        """queued → abandoned; False if it started (or ended) meanwhile."""
        with self.lock:
            if self.state != "queued":
                return False
            self.state = "abandoned"
            return True


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that knows its jobs (queued and running), and can drain them."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.draining = False
        self.stop_by: Callable[[float], None] = lambda _deadline: None
        self._jobs: dict[int, Job] = {}  # insertion order: oldest first
        self._jobs_lock = threading.Lock()
        self._changed = threading.Event()
        self._started = 0
        _executors.append(self)

    def submit_job(self, job: Job) -> Future[Any]:
        """Queue ``job`` (with the caller's context variables)."""
        with self._jobs_lock:
            self._jobs[id(job)] = job
        context = contextvars.copy_context()
        try:
            return super().submit(context.run, self._run, job)
        except BaseException:
            self._forget(job)
            raise

    def abandon(self, job: Job) -> bool:
        """Give up a queued job before it starts; False if it started meanwhile."""
        if not job.abandon():
            return False
        self._forget(job)
        return True

    def _run(self, job: Job) -> None:
        if not job.start():
            return
        with self._jobs_lock:
            self._started += 1
        try:
            job.work()
        except Exception:  # the work's own handling failed: never lose it silently
            log.exception("%s failed after its ack", job.label)
        finally:
            with job.lock:
                job.state = "done"
            self._forget(job)

    def _forget(self, job: Job) -> None:
        with self._jobs_lock:
            self._jobs.pop(id(job), None)
        self._changed.set()

    def jobs(self) -> list[Job]:
        """The unfinished jobs, oldest first."""
        with self._jobs_lock:
            return list(self._jobs.values())

    def started(self) -> int:
        """How many jobs have started so far."""
        with self._jobs_lock:
            return self._started

    def wait_changed(self, timeout: float) -> None:
        """Wait until a job finishes or is forgotten (or ``timeout``)."""
        self._changed.wait(max(timeout, 0.0))
        self._changed.clear()


_executors: list[TrackedExecutor] = []
_term = threading.Event()
_term_at: list[float] = []  # time.monotonic() of the first TERM, once it came
_grace: list[float] = []
_done = threading.Event()
_thread: list[threading.Thread] = []


def prepare(grace: float) -> None:
    """In the worker, before serving: start the drain thread, waiting for ``signal_term``."""
    if _thread:
        return
    _grace[:] = [grace]
    thread = threading.Thread(target=_drain_after_term, name="slack-drain", daemon=True)
    _thread.append(thread)
    thread.start()


def signal_term() -> None:
    """TERM arrived (called from the signal handler: only flags and one Event, no locks that
    the interrupted main thread could hold)."""
    if not _term_at:
        _term_at.append(time.monotonic())
    for executor in _executors:
        executor.draining = True
    _term.set()


def wait_drained() -> bool:
    """Wait for the drain (begun now if no TERM came), at most until the grace ends.

    True when no job is left running, False when some still run (each was given up).
    """
    if not _thread:
        return all(not executor.jobs() for executor in _executors)
    signal_term()
    grace = _grace[0]
    _done.wait(max(_term_at[0] + grace - EXIT_MARGIN - time.monotonic(), 0.0))
    return all(not executor.jobs() for executor in _executors)


def _drain_after_term() -> None:
    _term.wait()
    try:
        for executor in list(_executors):
            drain(executor, _term_at[0], _grace[0])
    except Exception:
        log.exception("drain failed")
    finally:
        _done.set()


def drain(executor: TrackedExecutor, term_at: float, grace: float) -> None:
    """Finish or give up every job of ``executor`` by ``term_at + grace`` (see the module)."""
    executor.draining = True
    notice_at = term_at + grace - notice_margin(grace)
    executor.stop_by(term_at + grace - EXIT_MARGIN)
    observe = min(1.0, (notice_at - term_at) / 4)
    started_before = executor.started()
    jobs = executor.jobs()
    running = sum(1 for job in jobs if job.state == "running")
    log.info(
        "stopping: %d acknowledged job(s) running, %d queued; the rest get the restart "
        "notice %.1f s from now",
        running,
        len(jobs) - running,
        notice_at - time.monotonic(),
    )
    while True:
        jobs = executor.jobs()
        now = time.monotonic()
        if not jobs:
            log.info("stopping: every acknowledged job finished, %d ms after TERM", _ms(term_at))
            return
        if now >= notice_at:
            break
        if now - term_at >= observe:
            # Keep as many queued as can still start at the measured rate, and at least as
            # many as fit beside the running ones in one round of the final batch.
            rate = (executor.started() - started_before) / (now - term_at)
            queued = [job for job in jobs if job.state == "queued"]
            busy = len(jobs) - len(queued)
            room = max(int(rate * (notice_at - now)), NOTICE_PARALLEL - busy)
            late = [job for job in queued[room:] if executor.abandon(job)]
            if late:
                _give_up(late, "queued, cannot start in time")
        executor.wait_changed(min(TICK, notice_at - now))
    left = executor.jobs()
    queued = [job for job in left if executor.abandon(job)]
    still = [job for job in left if job not in queued and job.state == "running"]
    for job in still:
        log.warning(
            "stopping: %s still running %.1f s after TERM; giving it up",
            job.label,
            time.monotonic() - term_at,
        )
    _give_up([*still, *queued], "at the deadline")


def _give_up(jobs: list[Job], why: str) -> None:
    """Give up ``jobs`` in parallel; one log line for the batch."""
    began = time.monotonic()
    with ThreadPoolExecutor(NOTICE_PARALLEL, thread_name_prefix="slack-notice") as pool:
        outcomes = list(
            pool.map(
                _safe_give_up,
                jobs,
            )
        )
    counts = {name: outcomes.count(name) for name in ("noticed", "failed", "answered", "logged")}
    log.warning(
        "stopping: gave up %d job(s) (%s): restart notice sent %d, failed %d, already "
        "answered %d, events not handled %d; %d ms",
        len(jobs),
        why,
        counts["noticed"],
        counts["failed"],
        counts["answered"],
        counts["logged"],
        _ms(began),
    )


def _safe_give_up(job: Job) -> ReplyFate:
    try:
        return job.give_up(job.state == "running")
    except Exception as exc:
        log.warning("stopping: giving up %s failed (%s)", job.label, type(exc).__name__)
        return "failed"


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)
