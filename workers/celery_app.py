"""The Celery app, wired to the Flask app: every task runs inside the app context.

    celery -A workers.celery_app worker -Q indexing,matching,mail,celery
    celery -A workers.celery_app beat

Each ``marketplace.jobs.Job`` becomes a task of the same name on its queue; the web enqueues
by that name.  Tasks are acknowledged late and requeued if their worker dies, so every job is
written to be safe to run twice (keyed by ids, claims in the database).
"""

from __future__ import annotations

from celery import Celery, Task
from celery.signals import after_setup_logger, after_setup_task_logger

from marketplace import create_app, jobs, logs
from marketplace.extensions import db

flask_app = create_app()
if not flask_app.config.get("REDIS_URL"):
    raise RuntimeError("Celery workers need REDIS_URL (embedded mode runs jobs in-process: "
                       "use `flask serve`).")


class AppContextTask(Task):
    """Runs the task in the Flask app context, with the job and task id on every log line,
    and leaves no session behind."""

    def __call__(self, *args, **kwargs):
        with flask_app.app_context(), logs.job_context(self.name, self.request.id):
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()


app = Celery("est-marketplace", task_cls=AppContextTask)
app.conf.update(jobs.celery_config(flask_app.config["REDIS_URL"]))
app.conf.beat_schedule = {
    periodic.key: {"task": periodic.job, "schedule": periodic.every, "args": periodic.args}
    for periodic in jobs.PERIODIC
}


@after_setup_logger.connect
@after_setup_task_logger.connect
def _structured_logs(logger, **_kwargs) -> None:
    """The worker sets up its own log handlers: they render through marketplace/logs.py too,
    so its lines carry the job and task id (JSON in production)."""
    logs.adopt_handlers(logger, flask_app.config)


def _register(job: jobs.Job) -> None:
    function = job.function()
    options: dict = {"name": job.name, "acks_late": True}
    if job.retry_on:
        # Transient failures: exponential backoff with jitter, a bounded number of times.
        options.update(autoretry_for=job.retryable(), max_retries=job.max_retries,
                       retry_backoff=jobs.retry_base_seconds(flask_app.config),
                       retry_backoff_max=jobs.RETRY_MAX_SECONDS, retry_jitter=True)

    def run(*args):
        return function(*args)

    run.__name__ = run.__qualname__ = job.name.replace(".", "_")
    app.task(**options)(run)


for _job in jobs.JOBS.values():
    _register(_job)
