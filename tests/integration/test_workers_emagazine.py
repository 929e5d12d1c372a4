"""E-magazine sending for real: a Celery worker process, a private Redis and an SMTP server.

The fixtures of tests/support/processes.py (loaded as a plugin, as test_workers.py does) run a
private ``redis-server``, ``celery -A workers.celery_app worker`` (prefork, two processes) and
the aiosmtpd sink, all on free ports; the worker shares the test database.  Nothing is mocked.
The test process plays the web and beat: it enqueues through ``jobs.enqueue`` (the staff
routes do so when they start or resume an issue) and fires ``emagazine.tick`` as beat would.
The same logic in-process is in test_emagazine_sending.py and test_emagazine_public.py.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select, update

from marketplace import jobs
from marketplace.emagazine import audience, subscribers, workflow
from marketplace.extensions import db
from marketplace.mailing import suppressions
from marketplace.models import Issue, IssueDelivery, IssueEdition, IssueSection, Subscriber
from marketplace.models._time import utcnow
from tests.conftest import AuthActions, IsolatedClient
from tests.factories import UserFactory

# The fixtures private_redis, smtp_sink, worker_env, celery_worker and celery_mode.  (Loaded as
# a plugin, not imported: imported fixtures would be redefined by the tests' arguments.)
pytest_plugins = ["tests.support.processes"]

# -- helpers -----------------------------------------------------------------------------------


def _issue(slug: str = "november-2026", audience: dict | None = None,
           titles: tuple[str, str] = ("November news", "十一月通讯")) -> Issue:
    issue = Issue(slug=slug, audience=audience or {})
    en = IssueEdition(language="en", title=titles[0], intro="Hello **readers**.")
    en.sections = [IssueSection(kind="manual", heading="From the bases", body="Yixing fair.")]
    issue.editions = [en, IssueEdition(language="zh", title=titles[1], intro="你好。")]
    db.session.add(issue)
    db.session.commit()
    return issue


def _readers(count: int, prefix: str = "reader", language: str = "en",
             countries: tuple[str, ...] = ()) -> list[Subscriber]:
    """Confirmed subscribers, in id order: the order plan() cuts them into batches."""
    readers = [Subscriber(email=f"{prefix}{n:02d}@example.org", language=language,
                          countries=list(countries), sectors=[], status="confirmed",
                          confirmed_at=utcnow()) for n in range(count)]
    db.session.add_all(readers)
    db.session.commit()
    return sorted(readers, key=lambda reader: reader.id)


def _eventually(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _emails(readers) -> list[str]:
    return [reader.email for reader in readers]


def _fresh(issue: Issue) -> Issue:
    """The issue as the workers left it (not this session's cache)."""
    db.session.rollback()
    return db.session.get(Issue, issue.id)


def _deliveries(issue: Issue) -> dict[str, IssueDelivery]:
    db.session.rollback()
    return {d.email: d for d in db.session.scalars(
        select(IssueDelivery).where(IssueDelivery.issue_id == issue.id))}


def _fire_tick(worker) -> None:
    """What beat does every minute; waits until the worker has done all it started."""
    done = worker.task_events("emagazine.tick").count(("emagazine.tick", "succeeded"))
    jobs.enqueue("emagazine.tick")
    worker.wait_for_task("emagazine.tick", "succeeded", done + 1)
    worker.wait_idle()


def _unsubscribe(client, email: str) -> None:
    """The one-click POST a mail client makes from the List-Unsubscribe header."""
    token = suppressions.unsubscribe_token(email, "emagazine")
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


@pytest.fixture
def staff_client(app, client):
    """An administrator's browser (they send the E-magazine), beside ``client`` (the
    readers')."""
    app.test_client_class = IsolatedClient
    staff = app.test_client()
    AuthActions(staff).login(UserFactory(admin=True))
    return staff


@pytest.fixture
def batch_size(app, monkeypatch):
    """Set EMAGAZINE_BATCH_SIZE where batches are planned: start() and resume() run in the
    web (here, the test process); the worker plans only when tick() recovers or starts."""
    def set_size(size: int) -> None:
        monkeypatch.setitem(app.config, "EMAGAZINE_BATCH_SIZE", size)
    return set_size


# -- who gets an issue -------------------------------------------------------------------------


def test_an_unconfirmed_reader_gets_nothing_and_an_expired_link_cannot_confirm(
        celery_mode, celery_worker, smtp_sink, client, staff_client):
    [reader] = _readers(1)
    response = client.post("/emagazine/subscribe",
                           data={"email": "pending@example.org", "language": "en"})
    assert response.status_code == 302
    pending = subscribers.find("pending@example.org")
    # A confirmation link signed 49 hours ago (they last 48), as test_emagazine_public.py does.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp",
                      lambda self: int(time.time()) - 49 * 3600)
        token = subscribers.confirmation_token(pending, subscribers.Preferences())
    response = client.post(f"/emagazine/confirm/{token}")
    assert response.status_code == 400
    assert "This confirmation link has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert subscribers.find("pending@example.org").status == "pending"

    issue = _issue()
    response = staff_client.post(f"/staff/emagazine/{issue.id}/send", data={"confirm": "y"})
    assert response.status_code == 302
    celery_worker.wait_idle()

    assert smtp_sink.recipients() == {reader.email: 1}
    assert set(_deliveries(issue)) == {reader.email}
    assert _fresh(issue).status == "sent"


def test_the_segment_count_is_who_the_worker_sends_to_and_the_archive_has_no_tokens(
        celery_mode, celery_worker, smtp_sink, client, staff_client):
    chosen = {"languages": ["zh"], "countries": ["VN"]}
    inside = (_readers(3, "zh-vn", "zh", ("VN",)) + _readers(2, "zh-all", "zh")  # no country:
              + _readers(1, "zh-vn-th", "zh", ("TH", "VN")))                  # every one
    _readers(2, "zh-th", "zh", ("TH",))  # outside: another country
    _readers(2, "en-vn", "en", ("VN",))  # outside: another language
    pending, = _readers(1, "pending", "zh", ("VN",))  # in the segment, but not confirmed
    gone, = _readers(1, "gone", "zh", ("VN",))  # in the segment, but unsubscribed
    pending.status = "pending"
    db.session.commit()
    suppressions.unsubscribe(gone.email, "emagazine")
    issue = _issue(audience=chosen)
    count = audience.segment_count(chosen)  # what the staff page shows before sending
    assert count == len(inside)

    staff_client.post(f"/staff/emagazine/{issue.id}/send", data={"confirm": "y"})
    celery_worker.wait_idle()

    assert smtp_sink.recipients() == {email: 1 for email in _emails(inside)}
    issue = _fresh(issue)
    assert issue.status == "sent"
    progress = workflow.progress(issue)
    assert progress["sent"] == progress["total"] == count == len(smtp_sink.recipients())
    messages = smtp_sink.messages()
    assert {message["Subject"] for message in messages} == {"十一月通讯"}

    # The archive: the view-in-browser link of the mails leads to the public page, which
    # carries none of the readers' unsubscribe tokens, in either language.
    tokens = [message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1] for message in messages]
    assert len(set(tokens)) == len(inside)
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"http://localhost/emagazine/{issue.slug}?lang=zh" in text  # view in browser
    for language in ("en", "zh"):
        response = client.get(f"/emagazine/{issue.slug}?lang={language}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert issue.edition(language).title in page
        assert "unsubscribe/" not in page
        csrf = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        for token in tokens:
            # The signed payload (the address) and the signature, each on its own.
            for part in (token, *[p for p in token.split(".") if len(p) >= 10]):
                assert part not in page
        # Nor anything else shaped like a signed token, but the page's own CSRF field.
        signed = set(re.findall(r"[\w-]{10,}\.[\w-]{4,}\.[\w-]{10,}", page))
        assert signed <= csrf


def test_a_test_send_goes_out_marked_and_writes_no_ledger(
        app, celery_mode, smtp_sink, staff_client, monkeypatch):
    # The web itself submits test sends (no job): point its transport at the sink.
    for key, value in (("MAIL_TRANSPORT", "smtp"), ("SMTP_HOST", "127.0.0.1"),
                       ("SMTP_PORT", smtp_sink.port)):
        monkeypatch.setitem(app.config, key, value)
    [reader] = _readers(1)
    issue = _issue()

    response = staff_client.post(f"/staff/emagazine/{issue.id}/test", data={
        "addresses": "editor@example.org\nchief@example.org", "language": "zh"})

    assert response.status_code == 302
    assert smtp_sink.recipients() == {"editor@example.org": 1, "chief@example.org": 1}
    assert {message["Subject"] for message in smtp_sink.messages()} == {"[TEST] 十一月通讯"}
    assert db.session.scalar(select(func.count()).select_from(IssueDelivery)) == 0
    issue = _fresh(issue)
    assert issue.status == "draft" and workflow.progress(issue)["sent"] == 0
    assert reader.email not in smtp_sink.recipients()


# -- crash safety --------------------------------------------------------------------------------


def test_a_send_killed_mid_way_resumes_with_everyone_sent_exactly_once(
        app, celery_mode, celery_worker, smtp_sink, batch_size):
    readers = _readers(30)
    batch_size(10)  # three batches: two run at once (two worker processes), one waits
    issue = _issue()
    # Once 8 messages are in, every further one is held unanswered: each of the two running
    # batches is then stuck inside an SMTP submit, its recipients claimed and committed.
    # The kill lands there, before anything is recorded or acknowledged (see test_workers.py).
    smtp_sink.hold_after(8)
    workflow.start(issue)
    assert _eventually(lambda: smtp_sink.held == 2), celery_worker.log()

    celery_worker.kill()  # SIGKILL to the main process and its pool children at once
    assert smtp_sink.wait_abandoned(2, timeout=10)
    smtp_sink.release()

    ledger = _deliveries(issue)
    sent = sorted(email for email, d in ledger.items() if d.status == "sent")
    stuck = sorted(email for email, d in ledger.items() if d.status == "claimed")
    assert len(sent) == 8 and len(stuck) == 12  # the two running batches of ten
    assert set(_emails(readers[20:])).isdisjoint(ledger)  # the third never started
    assert smtp_sink.recipients() == {email: 1 for email in sent}
    # The killed batches stay unacknowledged in Redis until the broker's visibility timeout
    # (an hour): recovery is up to tick(), not to a redelivery.  The waiting batch is still
    # queued, and the restarted worker runs it.

    celery_worker.start()
    celery_worker.wait_idle()
    assert smtp_sink.recipients() == {email: 1 for email in sent + _emails(readers[20:])}
    # A tick now leaves the fresh claims alone: for all it knows their worker is alive.
    _fire_tick(celery_worker)
    assert len(smtp_sink.recipients()) == 18
    assert _fresh(issue).status == "sending"

    # MAIL_CLAIM_TIMEOUT (10 minutes) later, the claims count as abandoned.  Rather than wait,
    # or start the worker with a short timeout (which would also make the claims of live
    # workers look abandoned), move the stuck claims into the past: the worker compares
    # claimed_at with its own clock, exactly as it would ten minutes later.
    timeout = app.config["MAIL_CLAIM_TIMEOUT"]
    db.session.execute(update(IssueDelivery).where(IssueDelivery.issue_id == issue.id,
                                                   IssueDelivery.status == "claimed")
                       .values(claimed_at=utcnow() - timedelta(seconds=timeout + 60)))
    db.session.commit()
    _fire_tick(celery_worker)

    assert smtp_sink.recipients() == {email: 1 for email in _emails(readers)}
    ledger = _deliveries(issue)
    assert {d.status for d in ledger.values()} == {"sent"} and len(ledger) == 30
    assert {ledger[email].attempts for email in stuck} == {2}  # the claim, then the take-over
    issue = _fresh(issue)
    assert issue.status == "sent" and workflow.progress(issue)["sent"] == 30


def test_batches_lost_with_the_broker_are_planned_again_once_nothing_moved(
        app, celery_mode, celery_worker, private_redis, smtp_sink, batch_size):
    readers = _readers(30)
    batch_size(10)
    issue = _issue()
    smtp_sink.hold_after(8)  # as above: both running batches stuck inside an SMTP submit
    workflow.start(issue)
    assert _eventually(lambda: smtp_sink.held == 2), celery_worker.log()

    # The host goes down: the worker is killed, and Redis (which persists nothing here) comes
    # back empty - the waiting batch is gone, so nobody will ever run it.
    celery_worker.kill()
    private_redis.stop()
    private_redis.start()
    assert smtp_sink.wait_abandoned(2, timeout=10)
    smtp_sink.release()
    celery_worker.start()

    # To tick(), recipients without a delivery look the same as a batch merely queued behind
    # others: with claims this fresh it plans nobody again, and takes over no claim.
    _fire_tick(celery_worker)
    assert len(smtp_sink.recipients()) == 8
    assert set(_emails(readers[20:])).isdisjoint(_deliveries(issue))

    # Ten minutes on, nothing has moved (MAIL_CLAIM_TIMEOUT): move every claim of the issue
    # into the past, as in the test above, rather than wait.
    timeout = app.config["MAIL_CLAIM_TIMEOUT"]
    db.session.execute(update(IssueDelivery).where(IssueDelivery.issue_id == issue.id)
                       .values(claimed_at=utcnow() - timedelta(seconds=timeout + 60)))
    db.session.commit()
    _fire_tick(celery_worker)  # takes over the 12 stuck claims and plans the 10 never reached

    assert smtp_sink.recipients() == {email: 1 for email in _emails(readers)}
    ledger = _deliveries(issue)
    assert {d.status for d in ledger.values()} == {"sent"} and len(ledger) == 30
    assert sorted(d.attempts for d in ledger.values()) == [1] * 18 + [2] * 12
    assert _fresh(issue).status == "sent"


# -- pause, resume and unsubscribing -----------------------------------------------------------


def test_pause_stops_sending_and_resume_sends_the_rest_exactly_once(
        celery_mode, celery_worker, smtp_sink, client, staff_client):
    readers = _readers(30)
    issue = _issue()
    smtp_sink.delay = 0.1  # three seconds for the whole issue: time to pause mid-way
    staff_client.post(f"/staff/emagazine/{issue.id}/send", data={"confirm": "y"})
    assert smtp_sink.wait_for(2, timeout=60), celery_worker.log()

    response = staff_client.post(f"/staff/emagazine/{issue.id}/pause")
    assert response.status_code == 302
    celery_worker.wait_idle()  # the batch noticed, released its claims and returned
    stopped_at = smtp_sink.count
    time.sleep(1)
    assert smtp_sink.count == stopped_at  # nothing more goes out while paused
    issue = _fresh(issue)
    progress = workflow.progress(issue)
    assert issue.status == "paused" and progress["status"] == "paused"
    assert progress["sent"] == stopped_at < 30 and progress["in_flight"] == 0
    assert progress["remaining"] == 30 - stopped_at > 0

    # While paused, a reader not reached yet leaves: resuming must not wait for them.
    not_reached = [email for email in _emails(readers) if email not in smtp_sink.recipients()]
    leaving = not_reached[-1]
    _unsubscribe(client, leaving)

    smtp_sink.delay = 0.0
    response = staff_client.post(f"/staff/emagazine/{issue.id}/resume")
    assert response.status_code == 302
    celery_worker.wait_idle()

    assert smtp_sink.recipients() == {email: 1 for email in _emails(readers)
                                      if email != leaving}
    issue = _fresh(issue)
    assert issue.status == "sent"
    assert workflow.progress(issue)["sent"] == 29
    assert leaving not in _deliveries(issue) or _deliveries(issue)[leaving].status == \
        "suppressed"


def test_unsubscribing_mid_send_stops_the_later_batches(
        celery_mode, celery_worker, smtp_sink, client, batch_size):
    readers = _readers(60)
    batch_size(25)  # A = readers 0-24 and B = 25-49 run at once; C = 50-59 waits
    issue = _issue()
    smtp_sink.hold_after(4)  # A and B each stuck in their first 20 (bulk_send.CHECK_EVERY)
    workflow.start(issue)
    assert _eventually(lambda: smtp_sink.held == 2), celery_worker.log()

    # Two readers click the one-click link meanwhile: one further on in batch A (claimed,
    # not sent yet) and one in batch C, which has not started.
    in_a, in_c = readers[22].email, readers[59].email
    _unsubscribe(client, in_a)
    _unsubscribe(client, in_c)
    smtp_sink.release()
    celery_worker.wait_idle()

    assert smtp_sink.recipients() == {email: 1 for email in _emails(readers)
                                      if email not in (in_a, in_c)}
    ledger = _deliveries(issue)
    # Both skipped: in_a at its chunk's look at the suppressions, in_c when batch C found
    # them gone from the audience.  The issue waits for neither of them.
    assert ledger[in_a].status == ledger[in_c].status == "suppressed"
    issue = _fresh(issue)
    assert issue.status == "sent"
    progress = workflow.progress(issue)
    assert (progress["sent"], progress["skipped"], progress["remaining"]) == (58, 2, 0)
    db.session.rollback()
    assert db.session.scalars(select(Subscriber.status).where(
        Subscriber.email.in_([in_a, in_c]))).all() == ["unsubscribed"] * 2


# -- schedules -----------------------------------------------------------------------------------


def test_a_stale_schedule_does_not_fire_but_a_due_one_does(
        celery_mode, celery_worker, smtp_sink):
    readers = _readers(3)
    stale = _issue("october-2026", titles=("October news", "十月通讯"))
    due = _issue("november-2026")
    workflow.schedule(stale, utcnow() - timedelta(days=2))  # the site was down meanwhile
    workflow.schedule(due, utcnow() - timedelta(minutes=1))  # beat's next tick: on time

    _fire_tick(celery_worker)

    assert smtp_sink.recipients() == {email: 1 for email in _emails(readers)}
    assert {message["Subject"] for message in smtp_sink.messages()} == {"November news"}
    assert _fresh(due).status == "sent"
    stale = _fresh(stale)
    assert stale.status == "scheduled" and workflow.is_overdue(stale)
    assert _deliveries(stale) == {}
