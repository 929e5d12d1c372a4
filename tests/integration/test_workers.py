"""The production job path for real: a Celery worker process, Redis and an SMTP server.

Every test runs a private ``redis-server``, a real ``celery -A workers.celery_app worker``
(prefork, two processes) and the aiosmtpd sink of tests/support/smtp_sink.py, all on free
ports; the worker shares the test database (SQLite file or PostgreSQL).  Nothing is mocked.
The test process enqueues by task name through ``jobs.enqueue``, as the web and beat do.

Digest runs pass the same ``now`` to every ``digests.schedule`` of a test (what beat does
within one period, made explicit so a run that crosses midnight cannot split a test into two
periods), and ``now`` plus a day for "a later digest".
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from marketplace import create_app, jobs
from marketplace.digests.sending import period_for
from marketplace.extensions import db
from marketplace.models import (
    DigestDelivery,
    MailSuppression,
    Match,
    Need,
    OutboxEvent,
    Solution,
    User,
)
from marketplace.models._time import utcnow
from marketplace.outbox import relay as outbox_module
from tests.conftest import IsolatedClient
from tests.factories import PASSWORD, NeedFactory, SolutionFactory, UserFactory

# The fixtures private_redis, smtp_sink, worker_env, celery_worker and celery_mode.  (Loaded as
# a plugin, not imported: imported fixtures would be redefined by the tests' arguments.)
pytest_plugins = ["tests.support.processes"]

# -- helpers -----------------------------------------------------------------------------------


def _readers(count: int) -> list[User]:
    """Buyers on daily digests, each with a published need matched to a published solution."""
    solution = SolutionFactory(published=True)
    users = []
    for _ in range(count):
        user = UserFactory(buyer=True, digest_frequency="daily")
        need = NeedFactory(organization=user.organization, published=True)
        db.session.add(Match(need=need, solution=solution, score=0.9,
                             evidence=0.9, delivered=True, reasons=[]))
        users.append(user)
    db.session.commit()
    return users


def _add_matches(users: list[User]) -> None:
    """Something new for each of ``users``: a match to another published solution."""
    solution = SolutionFactory(published=True)
    for user in users:
        need = db.session.scalar(select(Need).where(Need.organization_id == user.organization_id))
        db.session.add(Match(need=need, solution=solution, score=0.8,
                             evidence=0.8, delivered=True, reasons=[]))
    db.session.commit()


def _run_digests(worker, now) -> None:
    """Fire ``digests.schedule`` as beat does, and wait until the worker has done it all."""
    done = worker.task_events("digests.schedule").count(("digests.schedule", "succeeded"))
    jobs.enqueue("digests.schedule", "daily", now)
    worker.wait_for_task("digests.schedule", "succeeded", done + 1)
    worker.wait_idle()


def _deliveries(period: str) -> dict[int, DigestDelivery]:
    """The ledger as the workers left it (a fresh read, not this session's cache)."""
    db.session.rollback()
    return {d.user_id: d for d in db.session.scalars(
        select(DigestDelivery).where(DigestDelivery.period == period))}


def _eventually(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _sent_to(sink) -> dict[str, int]:
    return dict(sink.recipients())


def _messages_to(sink, email: str):
    return [message for message in sink.messages() if message["To"] == email]


# -- crash safety --------------------------------------------------------------------------------


def test_a_worker_killed_mid_send_sends_everyone_exactly_once_after_restart(
        app, celery_mode, celery_worker, smtp_sink):
    users = _readers(12)
    now = utcnow()
    period = period_for("daily", now)
    # A slow SMTP server (0.2 s a message), and the 5th message of the batch held unanswered:
    # the kill lands while the server still sleeps on that message, before it is recorded or
    # acknowledged.  (A kill between the server's 250 and the worker's commit - a window of
    # microseconds - would send that one digest again after the timeout: at-least-once for
    # that instant, by design.  Holding the message keeps this test out of that window.)
    smtp_sink.delay = 0.2
    smtp_sink.hold_after(4)
    jobs.enqueue("digests.schedule", "daily", now)
    assert smtp_sink.wait_held(timeout=60), celery_worker.log()

    celery_worker.kill()  # SIGKILL to the main process and its pool children at once
    assert smtp_sink.wait_abandoned(1, timeout=10)  # the sink saw the connection drop
    smtp_sink.release()
    smtp_sink.delay = 0.0

    ledger = _deliveries(period)
    sent = {user_id for user_id, d in ledger.items() if d.status == "sent"}
    stuck = [user_id for user_id, d in ledger.items() if d.status == "claimed"]
    assert sent == {user.id for user in users[:4]}
    # The batch claimed all its users in one commit before its first SMTP submit: the
    # eight it had not finished stay claimed by the dead worker.
    assert stuck == [user.id for user in users[4:]]
    assert _sent_to(smtp_sink) == {user.email: 1 for user in users[:4]}
    # The killed batch stays unacknowledged in Redis until the broker's visibility timeout
    # (an hour): recovery is up to the next scheduler run, not to a redelivery.

    celery_worker.start()
    # Beat's next tick leaves the fresh claims alone: for all the scheduler knows, their
    # worker is alive and still sending.
    _run_digests(celery_worker, now)
    assert _sent_to(smtp_sink) == {user.email: 1 for user in users[:4]}
    assert {_deliveries(period)[user_id].status for user_id in stuck} == {"claimed"}

    # MAIL_CLAIM_TIMEOUT (10 minutes) later, the claims count as abandoned.  Rather than
    # wait, or start the worker with a short timeout (which would also make the claims of
    # live workers look abandoned), move the claims into the past: the worker compares
    # claimed_at with its own clock, exactly as it would ten minutes later.
    timeout = app.config["MAIL_CLAIM_TIMEOUT"]
    db.session.execute(update(DigestDelivery).where(DigestDelivery.status == "claimed")
                       .values(claimed_at=utcnow() - timedelta(seconds=timeout + 60)))
    db.session.commit()
    _run_digests(celery_worker, now)

    assert _sent_to(smtp_sink) == {user.email: 1 for user in users}
    ledger = _deliveries(period)
    assert {d.status for d in ledger.values()} == {"sent"}
    assert {ledger[user_id].attempts for user_id in stuck} == {2}  # claim, then take-over


def test_the_schedule_fired_twice_for_one_period_sends_one_digest_per_user(
        celery_mode, celery_worker, smtp_sink):
    users = _readers(8)
    now = utcnow()
    smtp_sink.delay = 0.2
    jobs.enqueue("digests.schedule", "daily", now)
    # Fire again while the first run's batch is half-way: the second run queues the users
    # not claimed yet, and two batches race over them on the worker's two processes.
    assert smtp_sink.wait_for(2, timeout=60), celery_worker.log()
    jobs.enqueue("digests.schedule", "daily", now)
    celery_worker.wait_for_task("digests.schedule", "succeeded", 2)
    celery_worker.wait_idle()

    assert _sent_to(smtp_sink) == {user.email: 1 for user in users}
    ledger = _deliveries(period_for("daily", now))
    assert len(ledger) == len(users) and {d.status for d in ledger.values()} == {"sent"}
    # Each job's start and end are logged with its name and the task id Celery gave it.
    log = celery_worker.log(lines=5000)
    task_ids = set(re.findall(r"Task digests\.schedule\[([0-9a-f-]+)\] succeeded", log))
    assert len(task_ids) == 2, log
    for task_id in task_ids:
        assert re.search(rf"job finished .*job=digests.schedule outcome=ok task_id={task_id}",
                         log), log


# -- the outbox when Redis is down ---------------------------------------------------------------


def test_a_change_made_while_redis_is_down_is_delivered_once_it_is_back(
        app, database_url, private_redis, celery_worker, celery_mode):
    staff = UserFactory(staff=True)
    pending = SolutionFactory(pending=True)
    outbox_module.mark_committed_as_handled()  # the factories' events: only the request's count
    # A web app configured as in production: its outbox publisher is jobs.celery_publisher
    # (chosen when the app is created, so not the session app's in-process one).
    web = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost", "PUBLIC_BASE_URL": "http://localhost",
        "MAIL_TRANSPORT": "outbox", "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"],
        "REDIS_URL": private_redis.url,
    })
    assert web.extensions["outbox_publisher"] is jobs.celery_publisher
    web.test_client_class = IsolatedClient
    client = web.test_client()
    try:
        response = client.post("/login", data={"email": staff.email, "password": PASSWORD})
        assert response.status_code == 302

        private_redis.stop()
        started = time.monotonic()
        response = client.post(f"/staff/review/solution/{pending.id}",
                               data={"approve-submit": "Approve", "approve-note": ""})
        assert response.status_code == 302  # approved: Redis being down is not the user's
        assert time.monotonic() - started < 10  # problem, and the request did not hang on it

        db.session.rollback()
        events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.handled_at.is_(None))
                                    ).all()
        assert [e.payload for e in events] == [{"kind": "solution", "id": pending.id}]
        [event] = events
        assert event.published_at is None  # kept in the outbox, for the relay
        assert db.session.get(Solution, pending.id).status == "published"

        private_redis.start()  # same port, empty: the worker reconnects by itself
        jobs.enqueue("outbox.relay")  # what beat fires every minute

        def handled() -> bool:
            db.session.rollback()
            return db.session.get(OutboxEvent, event.id).handled_at is not None

        assert _eventually(handled, timeout=60), celery_worker.log()
        event = db.session.get(OutboxEvent, event.id)
        assert event.published_at is not None and event.attempts == 1  # handled once
        celery_worker.wait_idle()  # the matching job it started, before the tables go
    finally:
        producer = web.extensions.pop("celery_producer", None)
        if producer is not None:
            producer.close()
        with web.app_context():
            db.engine.dispose()


# -- SMTP replies --------------------------------------------------------------------------------


def test_a_4xx_reply_is_retried_until_the_digest_is_delivered_once(
        celery_mode, celery_worker, smtp_sink):
    steady, flaky = _readers(2)
    smtp_sink.reply_with(flaky.email, "451 4.3.0 Mailbox busy, try again later", times=2)
    now = utcnow()
    _run_digests(celery_worker, now)

    assert _sent_to(smtp_sink) == {steady.email: 1, flaky.email: 1}
    delivery = _deliveries(period_for("daily", now))[flaky.id]
    assert delivery.status == "sent"
    assert delivery.attempts == 3  # the batch's try, then two retries of digests.send_one
    assert delivery.last_error.startswith("451")
    assert ("digests.send_one", "retry") in celery_worker.task_events("digests.send_one")


def test_a_5xx_reply_suppresses_the_address_for_good(celery_mode, celery_worker, smtp_sink):
    steady, gone = _readers(2)
    smtp_sink.reply_with(gone.email, "550 5.1.1 No such user here")
    now = utcnow()
    _run_digests(celery_worker, now)

    assert _sent_to(smtp_sink) == {steady.email: 1}
    delivery = _deliveries(period_for("daily", now))[gone.id]
    assert delivery.status == "bounced" and delivery.last_error.startswith("550")
    [suppression] = db.session.scalars(select(MailSuppression)).all()
    assert (suppression.email, suppression.list_name, suppression.reason) == (
        gone.email, "*", "bounced")

    # The next day both have something new; only the one whose address works hears of it.
    _add_matches([steady, gone])
    tomorrow = now + timedelta(days=1)
    _run_digests(celery_worker, tomorrow)
    assert _sent_to(smtp_sink) == {steady.email: 2}
    assert gone.id not in _deliveries(period_for("daily", tomorrow))


# -- unsubscribing -------------------------------------------------------------------------------


def test_an_unsubscribed_reader_gets_nothing_more(celery_mode, celery_worker, smtp_sink, client):
    leaving, staying = _readers(2)
    now = utcnow()
    _run_digests(celery_worker, now)
    assert _sent_to(smtp_sink) == {leaving.email: 1, staying.email: 1}

    # The one-click link of the digest the worker sent (signed there, verified here).
    [digest] = _messages_to(smtp_sink, leaving.email)
    link = digest["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    assert path.startswith("/unsubscribe/")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200

    _add_matches([leaving, staying])
    _run_digests(celery_worker, now + timedelta(days=1))
    assert _sent_to(smtp_sink) == {leaving.email: 1, staying.email: 2}
    db.session.rollback()
    assert db.session.get(User, leaving.id).digest_frequency == "off"
    [suppression] = db.session.scalars(select(MailSuppression)).all()
    assert (suppression.email, suppression.list_name, suppression.reason) == (
        leaving.email, "digests", "unsubscribed")
