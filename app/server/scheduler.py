"""The scheduler: APScheduler with the weekly announcement job, run once per instance — and, with
PostgreSQL, once across all instances.

Every worker runs a small election thread; the first to take the instance's scheduler lock
(an exclusive ``flock`` in the runtime directory, see app.server.instance) is the instance's
candidate. With PostgreSQL the candidate must also take the database's ``scheduler`` advisory
lock (app.store.locks.try_hold), so one instance among all those sharing DATABASE_URL runs the
scheduler; with SQLite the flock alone decides (once per instance). If the host dies — crash,
timeout kill, recycle, HUP, a whole dyno — the kernel (or PostgreSQL, when the connection
drops) releases its locks and another candidate takes over within ``RETRY_SECONDS``. The host
re-checks its advisory lock every ``RETRY_SECONDS`` (app.store.locks.Lease): when PostgreSQL
restarted or the connection dropped, the lock is gone, so the host stops its scheduler at once
and gives up the instance lock, and the next election (here or elsewhere) picks one host.

The scheduler owns run-once for every job (``run_job``): a run holds the job's cross-instance
lock without waiting and claims ``job:<id>:<slot>`` in ``processed_events`` (the slot is the
day or the minute, app.feature.RunSlot; decision 0037), so even two hosts — two SQLite
instances on one volume, or a lost advisory lock — run it once per slot. A failure is one line
(app.outside) and never stops the scheduler. See docs/operators/operations.md, "How the
scheduler runs once".
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from app.feature import RunSlot, ScheduledJob
from app.features import scheduled_jobs
from app.outside import report_failure
from app.server import instance
from app.services import Services
from app.store import Store, locks

log = logging.getLogger("rocket2.scheduler")

PRUNE_JOB = "prune-processed-events"
PROCESSED_EVENT_RETENTION = timedelta(days=30)
SCHEDULER_DB_LOCK = "scheduler"
RETRY_SECONDS = 5.0


def prune_processed_events(store: Store) -> int | None:
    """Forget delivery and job-run ids older than PROCESSED_EVENT_RETENTION (the number)."""
    try:
        with store.unit_of_work() as uow:
            forgotten = uow.events.prune(PROCESSED_EVENT_RETENTION)
            uow.karma_gifts.prune(timedelta(days=1))  # the ++ rate limit looks back one hour
    except Exception as exc:
        report_failure("pruning processed events", exc)
        return None
    log.info(
        "processed events: forgot %d older than %d days",
        forgotten,
        PROCESSED_EVENT_RETENTION.days,
    )
    return forgotten


def job_slot(job: ScheduledJob, now: datetime, timezone: str) -> str:
    """The claim of a run at ``now``: ``<id>:<date in timezone>`` or ``<id>:<UTC minute>``."""
    if job.slot is RunSlot.DAY:
        return f"{job.id}:{now.astimezone(ZoneInfo(timezone)).date().isoformat()}"
    return f"{job.id}:{now.astimezone(UTC):%Y-%m-%dT%H:%M}"


def run_job(job: ScheduledJob, services: Services, now: datetime | None = None) -> object | None:
    """One run of ``job`` if this instance gets its lock and its slot is unclaimed; what it
    returned, or None when skipped or failed (one line: the scheduler carries on)."""
    now = now or datetime.now(UTC)
    slot = job_slot(job, now, services.config.scheduler_timezone)
    try:
        with locks.once_per_slot(services.store, job.lock_name, slot) as skip:
            if skip:
                log.info("%s: %s (%s); skipped", job.id, skip, slot)
                return None
            return job.run(services, now)
    except Exception as exc:  # a failure must not kill the scheduler
        report_failure(f"scheduled {job.name}", exc)
        return None


def build_scheduler(
    services: Services, jobs: tuple[ScheduledJob, ...] | None = None
) -> BackgroundScheduler:
    """A BackgroundScheduler (not started) carrying the jobs (default: the features'; those
    whose trigger is on in this config), each through ``run_job``, and a daily clean-up of old
    processed-event ids."""
    config = services.config
    timezone = ZoneInfo(config.scheduler_timezone)
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job in scheduled_jobs() if jobs is None else jobs:
        trigger = job.trigger(config)
        if trigger is not None:
            scheduler.add_job(run_job, trigger, args=[job, services], id=job.id, name=job.name)
    scheduler.add_job(
        prune_processed_events,
        CronTrigger(hour=3, minute=17, timezone=timezone),
        args=[services.store],
        id=PRUNE_JOB,
        name="daily processed-events clean-up",
    )
    return scheduler


class SchedulerService:
    """Runs the scheduler in this process if, and only while, it holds the instance lock (and,
    with PostgreSQL, the database's scheduler lock)."""

    def __init__(
        self,
        services: Services,
        jobs: tuple[ScheduledJob, ...] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ):
        self._services = services
        self._config = services.config
        self._store = services.store
        self._jobs = scheduled_jobs() if jobs is None else jobs
        self._retry = retry_seconds
        self._lock = instance.InstanceLock(instance.SCHEDULER_LOCK)
        self._running_lock = instance.InstanceLock(instance.SCHEDULER_RUNNING)
        self._db_lock = contextlib.ExitStack()
        self._lease: locks.Lease | None = None
        self._other_instance = False
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._thread: threading.Thread | None = None
        self._standing_by = False

    def start(self) -> None:
        """Start the election thread (returns at once)."""
        self._thread = threading.Thread(target=self._run, name="scheduler-election", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._elect_once()
            except Exception:
                log.exception("scheduler election failed; retrying")
            self._stop.wait(self._retry)

    def _elect_once(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            if self._lease_lost():
                self._step_down()
            return
        if not self._lock.acquire():
            if not self._standing_by:
                self._standing_by = True
                log.debug("scheduler: another worker hosts it; pid=%d stands by", os.getpid())
            return
        if not self._hold_database_lock():
            # Give the instance lock back, so another worker may try; /healthz reads the
            # running lock (SCHEDULER_RUNNING), which only a started scheduler holds.
            self._lock.release()
            if not self._other_instance:
                self._other_instance = True
                log.debug("scheduler: another instance hosts it; pid=%d stands by", os.getpid())
            return
        self._scheduler = build_scheduler(self._services, self._jobs)
        self._scheduler.start()
        self._running_lock.acquire()
        job = self._scheduler.get_job(self._jobs[0].id) if self._jobs else None
        log.info(
            "scheduler started in worker pid=%d (%s); next run %s (%s)",
            os.getpid(),
            self._config.scheduler_timezone,
            job.next_run_time.isoformat() if job and job.next_run_time else "none",
            job.id if job else "no job",
        )

    def _hold_database_lock(self) -> bool:
        """With PostgreSQL, try the cross-instance advisory lock (kept while hosting)."""
        if self._store.dialect != "postgresql":
            return True
        try:
            self._lease = self._db_lock.enter_context(
                locks.try_lease(self._store.engine, SCHEDULER_DB_LOCK)
            )
        except Exception as exc:
            self._close_database_lock()
            report_failure("scheduler election (database lock)", exc)
            return False
        if self._lease is None:
            self._close_database_lock()
        return self._lease is not None

    def _lease_lost(self) -> bool:
        """Whether the hosted scheduler's database lock is gone (or cannot be confirmed)."""
        if self._lease is None:
            return False
        try:
            if self._lease.still_held():
                return False
            log.warning("scheduler: the database lock is no longer held by pid=%d", os.getpid())
        except Exception as exc:
            report_failure("scheduler lock check", exc)
        return True

    def _step_down(self) -> None:
        """Stop hosting at once: scheduler, database lock, instance lock."""
        self._running_lock.release()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        self._close_database_lock()
        self._lock.release()
        log.warning("scheduler stopped in worker pid=%d; a new election follows", os.getpid())

    def _close_database_lock(self) -> None:
        self._lease = None
        try:
            self._db_lock.close()
        except Exception as exc:  # the connection may be dead already: the lock went with it
            log.debug("scheduler: releasing the database lock failed (%s)", type(exc).__name__)
        self._db_lock = contextlib.ExitStack()

    @property
    def running(self) -> bool:
        """Whether this process hosts the running scheduler."""
        return self._scheduler is not None and bool(self._scheduler.running)

    def run_jobs_now(self) -> bool:
        """Make every job due now (the forced trigger); False if this process is not the host."""
        if self._scheduler is None or not self._scheduler.running:
            log.info("run-now ignored: the scheduler does not run in pid=%d", os.getpid())
            return False
        now = datetime.now(ZoneInfo(self._config.scheduler_timezone))
        for job in self._scheduler.get_jobs():
            job.modify(next_run_time=now)
        log.info("run-now: every scheduled job is due now")
        return True

    def stop(self) -> None:
        """Stop electing, shut the scheduler down without waiting, release the lock."""
        self._stop.set()
        self._running_lock.release()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._close_database_lock()
        self._lock.release()
