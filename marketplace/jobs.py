"""Background jobs: every job by name, the periodic ones in one list, and how they run.

*Production:* Celery on Redis.  ``workers/celery_app.py`` turns every ``Job`` below into a
Celery task of the same name, routed to its queue, and ``PERIODIC`` into the beat schedule.
The web layer and the services enqueue by name (``send_task``), so they never import
``workers``.

*Embedded* (no ``REDIS_URL``): the same job functions run in-process.  ``enqueue`` runs a job
at once (retries wait on a timer thread), and ``flask serve`` starts a scheduler thread that
fires ``PERIODIC`` - the embedded product does everything the production one does.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from celery import Celery
from flask import Flask, current_app

from marketplace import logs
from marketplace.extensions import db
from marketplace.outbox import relay

log = logging.getLogger(__name__)

QUEUES = ("indexing", "matching", "mail")


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", imported when the job runs
    queue: str
    retry_on: tuple[str, ...] = ()  # "module:ExceptionClass": transient failures
    max_retries: int = 0

    def function(self):
        return _import(self.target)

    def retryable(self) -> tuple[type[BaseException], ...]:
        return tuple(_import(path) for path in self.retry_on)


TRANSIENT_MAIL_ERROR = "marketplace.mailing.transport:TransientMailError"

JOBS = {job.name: job for job in (
    Job("outbox.handle", "marketplace.outbox.topics:handle_event_ids", "indexing"),
    Job("outbox.relay", "marketplace.outbox.relay:relay_pending", "indexing"),
    Job("matching.listing", "marketplace.discovery.matching:match_and_notify", "matching"),
    Job("listings.expire", "marketplace.listings.lifecycle:expire_overdue_and_commit", "matching"),
    Job("search.repair", "marketplace.discovery.index_check:repair_all", "indexing"),
    Job("digests.schedule", "marketplace.digests.sending:schedule", "mail"),
    Job("digests.send_batch", "marketplace.digests.sending:send_batch", "mail"),
    Job("digests.send_one", "marketplace.digests.sending:send_one", "mail",
        retry_on=(TRANSIENT_MAIL_ERROR,), max_retries=5),
    Job("accounts.send_mail", "marketplace.accounts.registration:send_account_mail", "mail",
        retry_on=(TRANSIENT_MAIL_ERROR,), max_retries=5),
    Job("introductions.notice", "marketplace.introductions.notices:send", "mail"),
    Job("introductions.upkeep", "marketplace.introductions.upkeep:run", "mail"),
    Job("introductions.summaries", "marketplace.introductions.notices:send_daily_summaries",
        "mail"),
    Job("introductions.notice_one", "marketplace.introductions.notices:send_one", "mail",
        retry_on=(TRANSIENT_MAIL_ERROR,), max_retries=5),
    Job("introductions.meeting_held", "marketplace.introductions.pipeline:record_meeting",
        "matching"),
    Job("calendar.send_mail", "marketplace.calendar.registration:send_mail", "mail",
        retry_on=(TRANSIENT_MAIL_ERROR,), max_retries=5),
    Job("emagazine.tick", "marketplace.emagazine.sending:tick", "mail"),
    Job("emagazine.send_batch", "marketplace.emagazine.sending:send_batch", "mail"),
    Job("emagazine.send_one", "marketplace.emagazine.sending:send_one", "mail",
        retry_on=(TRANSIENT_MAIL_ERROR,), max_retries=5),
)}


@dataclass(frozen=True)
class Periodic:
    job: str
    every: timedelta
    args: tuple = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return ":".join([self.job, *map(str, self.args)])


# Every periodic job, for Celery beat and for the embedded scheduler alike.  Digest runs are
# keyed by period (a day, an ISO week), so firing them often sends each period only once.
PERIODIC = (
    Periodic("outbox.relay", timedelta(minutes=1)),
    Periodic("digests.schedule", timedelta(minutes=1), ("immediate",)),
    Periodic("digests.schedule", timedelta(minutes=15), ("daily",)),
    Periodic("digests.schedule", timedelta(minutes=15), ("weekly",)),
    Periodic("listings.expire", timedelta(hours=1)),
    Periodic("search.repair", timedelta(hours=6)),
    Periodic("emagazine.tick", timedelta(minutes=1)),
    Periodic("introductions.upkeep", timedelta(hours=1)),
    Periodic("introductions.summaries", timedelta(hours=1)),
)

# Exponential backoff for retried jobs: 10 s, 20 s, 40 s ... at most 10 minutes.  The base
# can be lowered with the RETRY_BASE_SECONDS setting (the worker tests use 1 s).
RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 600


def retry_base_seconds(config) -> int:
    return int(config.get("RETRY_BASE_SECONDS") or RETRY_BASE_SECONDS)


def retry_delay(attempt: int) -> int:
    return min(retry_base_seconds(current_app.config) * 2 ** attempt, RETRY_MAX_SECONDS)


def _import(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def celery_config(redis_url: str) -> dict:
    """Celery settings shared by the web (as a producer) and the workers."""
    base = redis_url.rstrip("/")
    return {
        "broker_url": f"{base}/0",
        "result_backend": f"{base}/1",
        "task_ignore_result": True,
        "task_acks_late": True,  # a task is acknowledged only once it finished...
        "task_reject_on_worker_lost": True,  # ...and requeued if its worker died mid-way
        "worker_prefetch_multiplier": 1,
        "task_routes": {name: {"queue": job.queue} for name, job in JOBS.items()},
        "task_default_queue": "celery",
        # A request must not hang when Redis is down: fail fast, the outbox keeps the event.
        "broker_connection_timeout": 2,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": 3600,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        },
        "timezone": "UTC",
    }


def producer() -> Celery:
    """A Celery app that only sends tasks by name: the web never imports the workers."""
    app = current_app.extensions.get("celery_producer")
    if app is None:
        app = Celery("est-marketplace", set_as_current=False)
        app.conf.update(celery_config(current_app.config["REDIS_URL"]))
        current_app.extensions["celery_producer"] = app
    return app


def uses_celery() -> bool:
    return bool(current_app.config.get("REDIS_URL")) and not current_app.config.get(
        "JOBS_IN_PROCESS")


def enqueue(name: str, *args, countdown: float | None = None) -> None:
    """Run job ``name`` in the background: on Celery, or in this process when embedded."""
    job = JOBS[name]
    if uses_celery():
        # ignore_result: send_task by name does not apply task_ignore_result, and would
        # subscribe to each task's result in Redis - retrying for ~20 s when Redis is down.
        producer().send_task(name, args=list(args), queue=job.queue, countdown=countdown,
                             retry=False, ignore_result=True)
    elif countdown:
        _run_after(countdown, job, args, attempt=0)
    else:
        run_in_process(job, args)


def run_in_process(job: Job, args: tuple, attempt: int = 0) -> None:
    """Embedded mode: run now; a transient failure is retried later on a timer thread."""
    retryable = job.retryable()
    try:
        with logs.job_context(job.name):
            job.function()(*args)
    except retryable as error:
        if attempt >= job.max_retries:
            log.error("job %s%s gave up after %d retries: %s", job.name, args, attempt, error)
            return
        delay = retry_delay(attempt)
        log.warning("job %s%s failed (%s); retrying in %d s", job.name, args, error, delay)
        _run_after(delay, job, args, attempt + 1)


def _run_after(delay: float, job: Job, args: tuple, attempt: int) -> None:
    app = current_app._get_current_object()
    timer = threading.Timer(delay, _run_later, (app, job, args, attempt))
    timer.daemon = True
    timer.start()


def _run_later(app: Flask, job: Job, args: tuple, attempt: int) -> None:
    with app.app_context():
        run_in_process(job, args, attempt)


def celery_publisher(event_ids: list[int]) -> None:
    """The outbox relay in production: hand committed events to Celery, then mark them
    published.  If Redis is down this raises, and the events wait for the sweep."""
    enqueue("outbox.handle", event_ids)
    relay.mark_published(event_ids)


def start_embedded_scheduler(app: Flask, tick_seconds: float = 5.0) -> threading.Thread:
    """Fire ``PERIODIC`` in a daemon thread of this process (embedded mode's Celery beat)."""
    last_run: dict[str, float] = {}

    def loop() -> None:
        while True:
            now = time.monotonic()
            for periodic in PERIODIC:
                if now - last_run.get(periodic.key, -1e12) >= periodic.every.total_seconds():
                    last_run[periodic.key] = now
                    _fire(app, periodic)
            time.sleep(tick_seconds)

    thread = threading.Thread(target=loop, name="embedded-scheduler", daemon=True)
    thread.start()
    return thread


def _fire(app: Flask, periodic: Periodic) -> None:
    with app.app_context():
        try:
            run_in_process(JOBS[periodic.job], periodic.args)
        except Exception:  # one failing job must not stop the scheduler
            log.exception("periodic job %s failed", periodic.key)
        finally:

            db.session.remove()
