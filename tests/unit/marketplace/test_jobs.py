"""The job registry: one list for Celery and the embedded runner, retry rules, backoff."""

from datetime import timedelta

import pytest

from marketplace import jobs
from marketplace.mailing.transport import TransientMailError


def test_every_job_target_exists_and_queues_are_known():
    for job in jobs.JOBS.values():
        assert callable(job.function()), job.name
        assert job.queue in jobs.QUEUES
    for periodic in jobs.PERIODIC:
        assert periodic.job in jobs.JOBS
        assert periodic.every >= timedelta(minutes=1)


def test_backoff_doubles_and_is_bounded(app):
    delays = [jobs.retry_delay(attempt) for attempt in range(8)]
    assert delays[:4] == [10, 20, 40, 80]
    assert max(delays) == jobs.RETRY_MAX_SECONDS


def test_the_celery_config_acks_late_and_routes_by_queue():
    config = jobs.celery_config("redis://example:6379")
    assert config["broker_url"] == "redis://example:6379/0"
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["task_routes"]["digests.send_batch"] == {"queue": "mail"}
    assert config["task_routes"]["outbox.handle"] == {"queue": "indexing"}


class _Flaky:
    def __init__(self, failures):
        self.failures, self.calls = failures, 0

    def __call__(self, *args):
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientMailError("451 try later")


@pytest.fixture
def flaky_job(monkeypatch):
    def make(failures, max_retries=2):
        flaky = _Flaky(failures)
        job = jobs.Job("test.flaky", "x:y", "mail", retry_on=(jobs.TRANSIENT_MAIL_ERROR,),
                       max_retries=max_retries)
        monkeypatch.setattr(jobs.Job, "function", lambda self: flaky)
        later = []
        monkeypatch.setattr(jobs, "_run_after",
                            lambda delay, j, args, attempt: later.append((delay, attempt)))
        return job, flaky, later
    return make


def test_embedded_runner_retries_transient_failures_later(app, flaky_job):
    job, flaky, later = flaky_job(failures=1)
    jobs.run_in_process(job, ("daily",))
    assert flaky.calls == 1 and later == [(10, 1)]
    jobs.run_in_process(job, ("daily",), attempt=1)  # what the timer does
    assert flaky.calls == 2


def test_embedded_runner_gives_up_after_max_retries(app, flaky_job):
    job, flaky, later = flaky_job(failures=10, max_retries=2)
    jobs.run_in_process(job, (), attempt=2)
    assert later == []


def test_other_errors_are_not_retried(app, monkeypatch):
    job = jobs.Job("test.broken", "x:y", "mail", retry_on=(jobs.TRANSIENT_MAIL_ERROR,),
                   max_retries=3)
    monkeypatch.setattr(jobs.Job, "function", lambda self: lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        jobs.run_in_process(job, ())
