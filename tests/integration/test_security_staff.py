"""Issue 9, item 11: staff versus admin.

Admins alone read the mail outbox (and even they never see a working reset or verification
link), send the E-magazine to its audience and manage staff accounts; an audit log records
who did what.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace import audit
from marketplace.demo.world import DemoWorld
from marketplace.extensions import db
from marketplace.mailing import transport
from marketplace.mailing.redaction import PLACEHOLDER
from marketplace.models import (
    AuditAction,
    AuditEntry,
    Event,
    Issue,
    IssueEdition,
    Subscriber,
    User,
)
from marketplace.models._time import utcnow
from tests.factories import NeedFactory, OrganizationFactory, SolutionFactory, UserFactory


@pytest.fixture
def staff():
    return UserFactory(staff=True, email="staff@example.org")


@pytest.fixture
def admin():
    return UserFactory(admin=True, email="admin@example.org")


# -- the mail outbox ------------------------------------------------------------------------

TOKEN = "SECRETtoken.abc-123_x"


def _token_mail(app, outbox, name="reset_password", endpoint="auth.reset_password") -> str:
    """A real reset (or verification) mail in the outbox, with TOKEN in its link; its id."""
    user = UserFactory(email="victim@example.org")
    with app.test_request_context():
        link = url_for(endpoint, token=TOKEN, _external=True)
        transport.send_email(name, user.email, "en", user=user, link=link)
    return next(outbox.folder.glob("*.eml")).stem


def test_staff_cannot_read_the_outbox(app, client, auth, outbox, staff):
    message_id = _token_mail(app, outbox)
    auth.login(staff)
    assert client.get("/staff/outbox").status_code == 403
    assert client.get(f"/staff/outbox/{message_id}").status_code == 403


def test_anonymous_is_sent_to_login_from_the_outbox(app, client, outbox):
    message_id = _token_mail(app, outbox)
    for path in ("/staff/outbox", f"/staff/outbox/{message_id}"):
        assert "/login" in client.get(path).headers["Location"]


@pytest.mark.parametrize(("name", "endpoint", "path"), [
    ("reset_password", "auth.reset_password", "/password/reset/"),
    ("verify_email", "auth.verify_email", "/verify/"),
])
def test_admin_sees_token_links_redacted(app, client, auth, outbox, admin, name, endpoint,
                                         path):
    message_id = _token_mail(app, outbox, name, endpoint)
    assert TOKEN in outbox.last().as_string()  # the real mail keeps its working link
    auth.login(admin)
    listing = client.get("/staff/outbox")
    page = client.get(f"/staff/outbox/{message_id}").get_data(as_text=True)

    assert listing.status_code == 200 and "victim@example.org" in listing.get_data(as_text=True)
    assert TOKEN not in page
    # Both parts are shown, each with the placeholder where the token was.
    text_part = page.split('<pre class="mail-text">')[1]
    html_part = page.split("srcdoc=")[1].split("</iframe>")[0]
    assert path + PLACEHOLDER in text_part
    assert path + PLACEHOLDER in html_part


# -- the E-magazine: staff compose and test, admins send -----------------------------------

@pytest.fixture
def issue():
    subscriber = Subscriber(email="reader@example.org", language="en", status="confirmed",
                            confirmed_at=utcnow())
    issue = Issue(slug="security-issue", audience={}, editions=[
        IssueEdition(language="en", title="November news", intro="Hello."),
        IssueEdition(language="zh", title="十一月通讯", intro="你好。")])
    db.session.add_all([subscriber, issue])
    db.session.commit()
    return issue


def _status_of(issue) -> str:
    db.session.expire_all()
    return db.session.get(Issue, issue.id).status


def _later() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def test_staff_cannot_send_schedule_or_resume(client, auth, outbox, staff, issue):
    auth.login(staff)
    assert client.post(f"/staff/emagazine/{issue.id}/send",
                       data={"confirm": "y"}).status_code == 403
    assert client.post(f"/staff/emagazine/{issue.id}/schedule",
                       data={"when": _later()}).status_code == 403
    assert _status_of(issue) == "draft"
    issue.status = "paused"
    db.session.commit()
    assert client.post(f"/staff/emagazine/{issue.id}/resume").status_code == 403
    assert _status_of(issue) == "paused"
    assert not [m for m in outbox.messages() if m["To"] == "reader@example.org"]


def test_staff_see_no_send_buttons_but_admins_do(client, auth, staff, admin, issue):
    auth.login(staff)
    page = client.get(f"/staff/emagazine/{issue.id}").get_data(as_text=True)
    assert f"/staff/emagazine/{issue.id}/send" not in page
    assert f"/staff/emagazine/{issue.id}/schedule" not in page
    assert f"/staff/emagazine/{issue.id}/test" in page  # they still test
    auth.logout()
    auth.login(admin)
    page = client.get(f"/staff/emagazine/{issue.id}").get_data(as_text=True)
    assert f"/staff/emagazine/{issue.id}/send" in page
    assert f"/staff/emagazine/{issue.id}/schedule" in page


def test_staff_test_send_only_to_themselves(client, auth, outbox, staff, issue):
    auth.login(staff)
    refused = client.post(f"/staff/emagazine/{issue.id}/test",
                          data={"addresses": "list@example.org", "language": "en"})
    assert refused.status_code == 403
    assert "list@example.org" in refused.get_data(as_text=True)  # what was typed is kept
    assert outbox.messages() == []

    response = client.post(f"/staff/emagazine/{issue.id}/test",
                           data={"addresses": "Staff@example.org", "language": "en"})
    assert response.status_code == 302
    assert [m["To"] for m in outbox.messages()] == ["Staff@example.org"]


def test_staff_cannot_edit_an_issue_an_admin_scheduled(client, auth, staff, issue):
    issue.status, issue.scheduled_at = "scheduled", utcnow() + timedelta(days=1)
    db.session.commit()
    auth.login(staff)
    client.post(f"/staff/emagazine/{issue.id}/audience", data={"languages": ["zh"]})
    client.post(f"/staff/emagazine/{issue.id}/editions/en",
                data={"ed-en-title": "Changed", "ed-en-intro": ""})
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert issue.audience == {} and issue.edition("en").title == "November news"
    # Stopping is allowed: back to draft, where staff edit and an admin schedules again.
    assert client.post(f"/staff/emagazine/{issue.id}/unschedule").status_code == 302
    assert _status_of(issue) == "draft"


def test_admin_sends_and_every_step_is_audited(client, auth, outbox, admin, issue):
    auth.login(admin)
    client.post(f"/staff/emagazine/{issue.id}/test",
                data={"addresses": "chief@example.org", "language": "zh"})
    client.post(f"/staff/emagazine/{issue.id}/schedule", data={"when": _later()})
    client.post(f"/staff/emagazine/{issue.id}/unschedule")
    client.post(f"/staff/emagazine/{issue.id}/send", data={"confirm": "y"})
    assert [m for m in outbox.messages() if m["To"] == "reader@example.org"]

    entries = _entries()
    assert [e.action for e in entries] == [
        AuditAction.ISSUE_TEST_SENT, AuditAction.ISSUE_SCHEDULED,
        AuditAction.ISSUE_UNSCHEDULED, AuditAction.ISSUE_SENT]
    assert {(e.actor_id, e.target_type, e.target_id) for e in entries} == {
        (admin.id, "issue", issue.id)}
    assert entries[0].detail["to"] == ["chief@example.org"]
    assert entries[3].detail["recipients"] == 1


def test_pause_and_resume_are_audited(client, auth, staff, admin, issue):
    issue.status = "sending"
    db.session.commit()
    auth.login(staff)  # anyone may stop a send
    client.post(f"/staff/emagazine/{issue.id}/pause")
    auth.logout()
    auth.login(admin)
    client.post(f"/staff/emagazine/{issue.id}/resume")
    assert [(e.action, e.actor_id) for e in _entries()] == [
        (AuditAction.ISSUE_PAUSED, staff.id), (AuditAction.ISSUE_RESUMED, admin.id)]


def test_a_refused_step_leaves_no_audit_entry(client, auth, admin, issue):
    auth.login(admin)
    client.post(f"/staff/emagazine/{issue.id}/pause")  # a draft is not sending
    assert _entries() == []


def _entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# -- moderation, verification and the calendar are audited --------------------------------

def test_moderation_decisions_are_audited(client, auth, staff):
    approved, rejected = SolutionFactory(pending=True), NeedFactory(pending=True)
    auth.login(staff)
    client.post(f"/staff/review/solution/{approved.id}",
                data={"approve-note": "Fine.", "approve-submit": "y"})
    client.post(f"/staff/review/need/{rejected.id}",
                data={"reject-reason": "No budget given.", "reject-submit": "y"})
    entries = _entries()
    assert [(e.action, e.target_type, e.target_id, e.actor_id) for e in entries] == [
        (AuditAction.LISTING_APPROVED, "solution", approved.id, staff.id),
        (AuditAction.LISTING_REJECTED, "need", rejected.id, staff.id)]
    assert entries[0].detail["note"] == "Fine."
    assert entries[1].detail["reason"] == "No budget given."


def test_verifications_are_audited(client, auth, staff):
    org = OrganizationFactory(name="Yixing Water")
    auth.login(staff)
    client.post(f"/staff/organizations/{org.id}/verify")
    client.post(f"/staff/organizations/{org.id}/unverify")
    assert [(e.action, e.target_type, e.target_id, e.detail["name"]) for e in _entries()] == [
        (AuditAction.ORGANIZATION_VERIFIED, "organization", org.id, "Yixing Water"),
        (AuditAction.ORGANIZATION_UNVERIFIED, "organization", org.id, "Yixing Water")]


def test_calendar_changes_are_audited(client, auth, staff):
    auth.login(staff)
    event = {"title": "Water forum", "kind": "forum", "base": "yixing",
             "starts_on": "2099-05-10", "ends_on": "", "location": "", "url": "",
             "description": ""}
    assert client.post("/staff/events/new", data=event).status_code == 302
    event_id = db.session.scalar(select(Event.id))
    client.post(f"/staff/events/{event_id}/edit", data={**event, "title": "Waste forum"})
    client.post(f"/staff/events/{event_id}/delete")
    assert [(e.action, e.target_id, e.detail["title"]) for e in _entries()] == [
        (AuditAction.EVENT_CREATED, event_id, "Water forum"),
        (AuditAction.EVENT_UPDATED, event_id, "Waste forum"),
        (AuditAction.EVENT_DELETED, event_id, "Waste forum")]


# -- staff accounts --------------------------------------------------------------------------

def _role_of(email: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(User.role).where(User.email == email))


def test_admin_grants_promotes_and_revokes_staff(client, auth, admin):
    user = UserFactory(email="newcomer@example.org")
    auth.login(admin)
    page = client.get("/staff/people").get_data(as_text=True)
    assert "admin@example.org" in page and "newcomer@example.org" not in page

    for role in ("staff", "admin", "supplier"):
        response = client.post("/staff/people",
                               data={"email": "Newcomer@Example.org", "role": role})
        assert response.status_code == 302
        assert _role_of("newcomer@example.org") == role

    assert [(e.action, e.target_type, e.target_id, e.detail["before"], e.detail["after"])
            for e in _entries()] == [
        (AuditAction.ROLE_CHANGED, "user", user.id, "supplier", "staff"),
        (AuditAction.ROLE_CHANGED, "user", user.id, "staff", "admin"),
        (AuditAction.ROLE_CHANGED, "user", user.id, "admin", "supplier")]


def test_the_last_admin_cannot_demote_themselves(client, auth, admin):
    auth.login(admin)
    response = client.post("/staff/people", data={"email": admin.email, "role": "staff"})
    assert response.status_code == 400
    assert "last administrator" in response.get_data(as_text=True)
    assert _role_of(admin.email) == "admin"
    # With a second administrator, stepping down is fine.
    UserFactory(admin=True, email="second@example.org")
    assert client.post("/staff/people",
                       data={"email": admin.email, "role": "staff"}).status_code == 302
    assert _role_of(admin.email) == "staff"


def test_an_unknown_address_is_refused_and_kept(client, auth, admin):
    auth.login(admin)
    response = client.post("/staff/people", data={"email": "nobody@example.org",
                                                  "role": "staff"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "No account has this e-mail address." in page
    assert 'value="nobody@example.org"' in page
    assert client.post("/staff/people", data={"email": "admin@example.org",
                                              "role": "emperor"}).status_code == 400
    assert _entries() == []


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/staff/people"), ("POST", "/staff/people"), ("GET", "/staff/audit")])
def test_admin_pages_refuse_staff_and_anonymous(client, auth, staff, method, path):
    target = UserFactory(email="target@example.org")
    data = {"email": target.email, "role": "admin"}
    assert "/login" in client.open(path, method=method, data=data).headers["Location"]
    auth.login(staff)
    assert client.open(path, method=method, data=data).status_code == 403
    assert _role_of(target.email) == "supplier"


def test_role_changes_need_the_csrf_token(app, client, auth, admin):
    UserFactory(email="target@example.org")
    auth.login(admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/staff/people", data={"email": "target@example.org",
                                                      "role": "admin"})
        assert response.status_code == 400
        # The page's own token makes the same request work.
        page = client.get("/staff/people").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert client.post("/staff/people", data={
            "email": "target@example.org", "role": "admin",
            "csrf_token": token.group(1)}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _role_of("target@example.org") == "admin"


def test_staff_see_no_admin_links(client, auth, staff, admin):
    auth.login(staff)
    page = client.get("/staff/").get_data(as_text=True)
    for path in ("/staff/outbox", "/staff/people", "/staff/audit"):
        assert f'href="{path}"' not in page
    auth.logout()
    auth.login(admin)
    page = client.get("/staff/").get_data(as_text=True)
    for path in ("/staff/outbox", "/staff/people", "/staff/audit"):
        assert f'href="{path}"' in page


# -- the audit log page ----------------------------------------------------------------------

def test_admin_reads_the_audit_log_newest_first_and_filtered(client, auth, staff, admin):
    org = OrganizationFactory(name="Wuzhou Recycling")
    auth.login(staff)
    client.post(f"/staff/organizations/{org.id}/verify")
    client.post(f"/staff/organizations/{org.id}/unverify")
    auth.logout()
    auth.login(admin)

    page = client.get("/staff/audit").get_data(as_text=True).split("<tbody>")[1]
    assert page.index("Organisation verification withdrawn") < page.index(
        "Organisation verified")
    assert "staff@example.org" in page and "Wuzhou Recycling" in page

    only = client.get("/staff/audit?action=organization.verified").get_data(as_text=True)
    assert "Organisation verified" in only.split("<tbody>")[1]
    assert "Organisation verification withdrawn" not in only.split("<tbody>")[1]
    assert client.get("/staff/audit?action=nonsense").status_code == 400


def test_the_audit_log_is_paginated(client, auth, admin):
    org = OrganizationFactory()
    for _ in range(51):
        audit.record(admin, AuditAction.ORGANIZATION_VERIFIED, org, name=org.name)
    db.session.commit()
    auth.login(admin)
    first = client.get("/staff/audit").get_data(as_text=True)
    second = client.get("/staff/audit?page=2").get_data(as_text=True)
    assert first.count("<tr><td>") == 50 and second.count("<tr><td>") == 1
    assert "page=2" in first


def test_the_demo_world_has_an_admin_and_plain_staff(app):
    world = DemoWorld()
    world.organisations()
    logins = dict(world.people()[:2])
    roles = {u.email: u.role for u in db.session.new if isinstance(u, User)}
    db.session.rollback()
    assert roles[logins["staff"]] == "staff" and roles[logins["admin"]] == "admin"
