"""E-magazine issues in embedded mode: staff workflow, audiences, the delivery ledger, pause
and resume, unsubscribing mid-send and stale schedules.  The same code on a real Celery
worker, Redis and SMTP server is in test_workers.py."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.emagazine import audience, rendering, sections, sending, workflow
from marketplace.extensions import db
from marketplace.mailing import bulk_send, suppressions
from marketplace.models import (
    Event,
    Issue,
    IssueDelivery,
    IssueEdition,
    IssueSection,
    Match,
    Subscriber,
)
from marketplace.models._time import utcnow
from tests.factories import NeedFactory, SolutionFactory, UserFactory


def _subscriber(email, language="en", countries=(), sectors=(), status="confirmed", user=None):
    subscriber = Subscriber(email=email, language=language, countries=list(countries),
                            sectors=list(sectors), status=status, user=user,
                            confirmed_at=utcnow() if status == "confirmed" else None)
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


@pytest.fixture
def issue():
    issue = Issue(slug="november-2026", audience={})
    en = IssueEdition(language="en", title="November news", intro="Hello **readers**.")
    zh = IssueEdition(language="zh", title="十一月通讯", intro="你好。")
    en.sections = [IssueSection(kind="manual", heading="From the bases", body="Yixing fair.")]
    issue.editions = [en, zh]
    db.session.add(issue)
    db.session.commit()
    return issue


def _mail_to(outbox, email):
    return [m for m in outbox.messages() if m["To"] == email]


def test_segments_by_language_country_sector_and_role(app):
    buyer = UserFactory(buyer=True)
    _subscriber("a@example.org", "en", ["VN"], ["WAT"])
    _subscriber("b@example.org", "zh", ["TH"], ["AIR.IND"])
    _subscriber("c@example.org", "en")  # no preferences: in every segment
    _subscriber("d@example.org", "en", user=buyer)
    _subscriber("pending@example.org", status="pending")

    def emails(chosen):
        return sorted(r.email for r in audience.recipients(chosen))

    assert emails({}) == ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    assert emails({"languages": ["zh"]}) == ["b@example.org"]
    assert emails({"countries": ["VN"]}) == ["a@example.org", "c@example.org", "d@example.org"]
    assert emails({"sectors": ["WAT.MUN"]}) == ["a@example.org", "c@example.org",
                                                 "d@example.org"]
    assert emails({"roles": ["buyer"]}) == ["d@example.org"]
    assert emails({"roles": ["subscriber"], "languages": ["en"]}) == ["a@example.org",
                                                                        "c@example.org"]


def test_each_reader_gets_their_edition_once_and_counts_match(app, issue, outbox):
    for n in range(3):
        _subscriber(f"en{n}@example.org", "en")
    _subscriber("zh@example.org", "zh")
    _subscriber("vi@example.org", "vi")  # no Vietnamese edition: English
    _subscriber("pending@example.org", status="pending")
    issue.audience = {}
    db.session.commit()
    expected = audience.segment_count(issue.audience)

    workflow.start(issue)  # embedded: the batches run at once

    messages = outbox.messages()
    assert len(messages) == expected == 5
    assert sorted(m["To"] for m in messages) == sorted(
        r.email for r in audience.recipients({}))
    assert _mail_to(outbox, "zh@example.org")[0]["Subject"] == "十一月通讯"
    assert _mail_to(outbox, "vi@example.org")[0]["Subject"] == "November news"
    assert _mail_to(outbox, "pending@example.org") == []
    db.session.refresh(issue)
    assert issue.status == "sent"
    assert workflow.progress(issue)["sent"] == 5


def test_the_email_has_unsubscribe_headers_and_a_browser_link(app, issue, outbox):
    _subscriber("reader@example.org")
    workflow.start(issue)

    message = outbox.last()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"][1:-1]
    assert link.startswith("http://localhost/unsubscribe/")
    assert suppressions.read_unsubscribe_token(link.rsplit("/", 1)[1]) == (
        "reader@example.org", "emagazine")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert link in text
    assert "http://localhost/emagazine/november-2026?lang=en" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>readers</strong>" in html and 'style="' in html


def test_a_test_send_is_marked_and_writes_no_ledger(app, issue, outbox):
    _subscriber("reader@example.org")
    rendering.test_send(issue, ["editor@example.org"], "zh")

    [message] = outbox.messages()
    assert message["Subject"] == "[TEST] 十一月通讯"
    assert db.session.scalar(select(func.count()).select_from(IssueDelivery)) == 0
    assert issue.status == "draft"


def test_pause_stops_a_batch_and_resume_sends_the_rest_once(app, issue, outbox):
    ids = [_subscriber(f"r{n}@example.org").id for n in range(6)]
    issue.status, issue.recipient_count = "sending", 6
    db.session.commit()

    sending.send_batch(issue.id, ids[:2])
    workflow.pause(issue)
    sending.send_batch(issue.id, ids[2:])  # a queued batch runs while paused
    assert len(outbox.messages()) == 2
    assert workflow.progress(issue)["remaining"] == 4

    workflow.resume(issue)

    assert sorted(m["To"] for m in outbox.messages()) == [f"r{n}@example.org"
                                                          for n in range(6)]
    db.session.refresh(issue)
    assert issue.status == "sent"


def test_unsubscribing_mid_send_stops_later_batches(app, issue, outbox, client):
    ids = [_subscriber(f"r{n}@example.org").id for n in range(4)]
    issue.status, issue.recipient_count = "sending", 4
    db.session.commit()
    sending.send_batch(issue.id, ids[:2])

    token = suppressions.unsubscribe_token("r3@example.org", "emagazine")
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    sending.send_batch(issue.id, ids[2:])

    assert sorted(m["To"] for m in outbox.messages()) == ["r0@example.org", "r1@example.org",
                                                          "r2@example.org"]
    assert db.session.scalar(select(Subscriber.status).where(
        Subscriber.email == "r3@example.org")) == "unsubscribed"


def test_bounced_addresses_are_skipped(app, issue, outbox):
    _subscriber("gone@example.org")
    _subscriber("here@example.org")
    suppressions.mark_bounced("gone@example.org", "550 no such user")
    workflow.start(issue)
    assert [m["To"] for m in outbox.messages()] == ["here@example.org"]


def test_a_schedule_fires_on_time_but_a_stale_one_waits_for_staff(app, issue, outbox):
    _subscriber("reader@example.org")
    workflow.schedule(issue, utcnow() + timedelta(minutes=5))
    sending.tick()
    assert outbox.messages() == []  # not yet

    issue.scheduled_at = utcnow() - timedelta(days=2)  # the site was down meanwhile
    db.session.commit()
    sending.tick()
    assert outbox.messages() == []
    assert workflow.is_overdue(issue) and issue.status == "scheduled"

    issue.scheduled_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sending.tick()
    assert len(outbox.messages()) == 1


def test_recovery_plans_the_unreached_even_when_a_take_over_runs_at_once(
        app, issue, outbox, monkeypatch):
    """A killed batch left a stale claim and readers it never reached.  A worker may run the
    take-over the moment tick() queues it, re-claiming the row: the readers never reached
    must still be planned (a race the real-worker test once lost)."""
    stale = _subscriber("stale@example.org")
    _subscriber("unreached@example.org")
    issue.status, issue.started_at, issue.recipient_count = "sending", utcnow(), 2
    db.session.add(IssueDelivery(issue_id=issue.id, subscriber_id=stale.id, email=stale.email,
                                 language="en", status="claimed", attempts=1,
                                 claimed_at=utcnow() - timedelta(hours=1)))
    issue.started_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    def take_over_at_once(self, condition):  # what a quick worker does with the retry job
        db.session.execute(update(IssueDelivery).where(condition)
                           .values(claimed_at=utcnow()))
        db.session.commit()

    monkeypatch.setattr(bulk_send.BulkSend, "requeue_stale", take_over_at_once)
    sending.tick()

    assert "unreached@example.org" in [m["To"] for m in outbox.messages()]


def test_sending_needs_both_editions(app, issue):
    db.session.delete(issue.editions[1])
    db.session.commit()
    with pytest.raises(workflow.WorkflowError):
        workflow.start(issue)


def test_automatic_sections_are_filled_from_the_marketplace(app, issue):
    supplier_solution = SolutionFactory(published=True, title="Membrane bioreactor")
    need = NeedFactory(published=True, title="Sludge treatment for Hue")
    db.session.add(Match(need=need, solution=supplier_solution, score=0.8,
                         evidence=0.8, delivered=True, reasons=[],
                         buyer_state="interesting"))
    db.session.add(Event(title="Yixing EST Fair", kind="exhibition", base="yixing",
                         starts_on=date.today() + timedelta(days=10), location="Yixing"))
    db.session.commit()
    edition = issue.editions[0]
    automatic = {kind: IssueSection(kind=kind, heading=kind) for kind in
                 ("new_solutions", "open_needs", "matches", "events")}
    edition.sections.extend(automatic.values())
    for section in automatic.values():
        sections.fill_section(section)

    assert "[Membrane bioreactor](http://localhost/solutions/" in automatic["new_solutions"].body
    assert "Sludge treatment for Hue" in automatic["open_needs"].body
    assert "Membrane bioreactor" in automatic["matches"].body
    assert "Yixing EST Fair" in automatic["events"].body


# -- the staff pages --------------------------------------------------------------------------

def test_staff_compose_preview_test_and_an_admin_sends(app, client, auth, outbox):
    _subscriber("reader@example.org", "zh")
    auth.login(UserFactory(staff=True, email="editor@example.org"))

    response = client.post("/staff/emagazine/new", data={"title_en": "December issue",
                                                         "title_zh": "十二月刊"})
    issue = db.session.scalar(select(Issue))
    assert response.status_code == 302 and issue.slug == "december-issue"

    client.post(f"/staff/emagazine/{issue.id}/editions/en",
                data={"ed-en-title": "December issue", "ed-en-intro": "Season's greetings"})
    client.post(f"/staff/emagazine/{issue.id}/editions/zh/sections",
                data={"new-zh-kind": "manual", "new-zh-heading": "基地新闻"})
    client.post(f"/staff/emagazine/{issue.id}/audience", data={"languages": ["zh"]})
    page = client.get(f"/staff/emagazine/{issue.id}").get_data(as_text=True)
    assert 'id="recipient-count">1<' in page
    assert client.get("/staff/emagazine/audience-count?languages=en").json == {"count": 0}

    preview = client.get(f"/staff/emagazine/{issue.id}/preview?lang=zh")
    assert preview.status_code == 200 and "基地新闻" in preview.get_data(as_text=True)

    client.post(f"/staff/emagazine/{issue.id}/test",
                data={"addresses": "editor@example.org", "language": "en"})
    assert outbox.last()["Subject"] == "[TEST] December issue"
    # Sending to the audience is an administrator's (issue 9, item 11).
    assert client.post(f"/staff/emagazine/{issue.id}/send",
                       data={"confirm": "y"}).status_code == 403

    auth.logout()
    auth.login(UserFactory(admin=True))
    refused = client.post(f"/staff/emagazine/{issue.id}/send", data={})
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    client.post(f"/staff/emagazine/{issue.id}/send", data={"confirm": "y"})

    assert _mail_to(outbox, "reader@example.org")[0]["Subject"] == "十二月刊"
    assert client.get(f"/staff/emagazine/{issue.id}/progress").json["sent"] == 1
    db.session.refresh(issue)
    assert issue.status == "sent"


def test_bad_input_is_refused_and_kept(app, client, auth, issue):
    auth.login(UserFactory(admin=True))
    response = client.post(f"/staff/emagazine/{issue.id}/test",
                           data={"addresses": "editor@example.org\nnot-an-address",
                                 "language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not an e-mail address: not-an-address" in page
    assert "editor@example.org" in page  # what was typed is still there

    response = client.post(f"/staff/emagazine/{issue.id}/schedule", data={"when": "soon"})
    assert response.status_code == 400
    response = client.post(f"/staff/emagazine/{issue.id}/editions/en",
                           data={"ed-en-title": "", "ed-en-intro": "kept text"})
    assert response.status_code == 400 and "kept text" in response.get_data(as_text=True)


def test_a_sent_issue_can_no_longer_change(app, client, auth, issue):
    issue.status = "sent"
    db.session.commit()
    auth.login(UserFactory(staff=True))
    client.post(f"/staff/emagazine/{issue.id}/editions/en",
                data={"ed-en-title": "Changed", "ed-en-intro": ""})
    db.session.refresh(issue)
    assert issue.edition("en").title == "November news"


def test_schedule_from_the_page(app, client, auth, issue):
    auth.login(UserFactory(admin=True))
    when = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/staff/emagazine/{issue.id}/schedule", data={"when": when})
    db.session.refresh(issue)
    assert issue.status == "scheduled"
    assert issue.scheduled_at.strftime("%Y-%m-%dT%H:%M") == when
