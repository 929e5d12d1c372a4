"""The life of a listing: draft, review, publication, edits, archive, renewal and expiry."""

from datetime import timedelta

from marketplace.extensions import db
from marketplace.models import ModerationDecision
from marketplace.models._time import utcnow
from tests.factories import NeedFactory, SolutionFactory, UserFactory


def _refresh(*objects):
    for obj in objects:
        db.session.refresh(obj)


def test_submit_approve_publish(client, auth):
    owner = UserFactory()
    staff = UserFactory(staff=True)
    solution = SolutionFactory(organization=owner.organization)

    auth.login(owner)
    client.post(f"/solutions/{solution.id}/submit")
    _refresh(solution)
    assert solution.status == "pending"
    assert client.get(f"/solutions/{solution.id}").status_code == 200
    auth.logout()
    assert client.get(f"/solutions/{solution.id}").status_code == 404

    auth.login(staff)
    assert solution.title in client.get("/staff/").get_data(as_text=True)
    response = client.post(f"/staff/review/solution/{solution.id}",
                           data={"approve-note": "Clear and complete.", "approve-submit": "1"})
    assert response.status_code == 302
    auth.logout()

    _refresh(solution)
    assert solution.status == "published"
    assert solution.review_note == "Clear and complete."
    assert solution.expires_at > utcnow() + timedelta(days=360)
    page = client.get(f"/solutions/{solution.id}")
    assert page.status_code == 200
    assert solution.title in client.get("/solutions").get_data(as_text=True)
    actions = [d.action for d in db.session.query(ModerationDecision).order_by("id")]
    assert actions == ["submitted", "approved"]


def test_submitting_needs_a_confirmed_email(client, auth):
    owner = UserFactory(unverified=True)
    solution = SolutionFactory(organization=owner.organization)
    auth.login(owner)

    response = client.post(f"/solutions/{solution.id}/submit", follow_redirects=True)

    assert "Confirm your e-mail address before submitting" in response.get_data(as_text=True)
    _refresh(solution)
    assert solution.status == "draft"


def test_reject_needs_a_reason_which_the_owner_sees(client, auth):
    owner = UserFactory(buyer=True)
    staff = UserFactory(staff=True)
    need = NeedFactory(organization=owner.organization, pending=True)
    auth.login(staff)

    empty = client.post(f"/staff/review/need/{need.id}",
                        data={"reject-reason": "  ", "reject-submit": "1"})
    assert empty.status_code == 400
    assert "Say why, so the owner can fix it." in empty.get_data(as_text=True)
    _refresh(need)
    assert need.status == "pending"

    client.post(f"/staff/review/need/{need.id}",
                data={"reject-reason": "Please give the daily flow.", "reject-submit": "1"})
    _refresh(need)
    assert (need.status, need.review_note) == ("draft", "Please give the daily flow.")
    auth.logout()

    auth.login(owner)
    assert "Please give the daily flow." in client.get("/my").get_data(as_text=True)
    assert "Please give the daily flow." in client.get(f"/needs/{need.id}").get_data(as_text=True)


def test_staff_cannot_approve_a_draft(client, auth):
    solution = SolutionFactory()
    auth.login(UserFactory(staff=True))

    response = client.post(f"/staff/review/solution/{solution.id}",
                           data={"approve-submit": "1"}, follow_redirects=True)

    assert "Only listings pending review can be approved." in response.get_data(as_text=True)
    _refresh(solution)
    assert solution.status == "draft"


def test_editing_a_published_listing_sends_it_back_to_review(client, auth):
    owner = UserFactory()
    solution = SolutionFactory(organization=owner.organization, published=True)
    auth.login(owner)
    form = client.get(f"/solutions/{solution.id}/edit").get_data(as_text=True)
    assert "Saving changes sends it back to staff for review" in form

    response = client.post(f"/solutions/{solution.id}/edit", data={
        "title": "MBR plant, now with remote monitoring", "summary": "Compact MBR plant.",
        "sectors": ["WAT.MUN"], "trl": "8", "countries_served": ["VN"],
    }, follow_redirects=True)

    assert "it is back in review" in response.get_data(as_text=True)
    _refresh(solution)
    assert solution.status == "pending"
    assert solution.title == "MBR plant, now with remote monitoring"
    auth.logout()
    assert client.get(f"/solutions/{solution.id}").status_code == 404


def test_archive_and_renew(client, auth):
    owner = UserFactory()
    solution = SolutionFactory(organization=owner.organization, published=True,
                               expires_at=utcnow() - timedelta(days=1))
    auth.login(owner)
    assert "Expired" in client.get(f"/solutions/{solution.id}").get_data(as_text=True)

    client.post(f"/solutions/{solution.id}/renew")
    _refresh(solution)
    assert solution.is_live

    client.post(f"/solutions/{solution.id}/archive")
    _refresh(solution)
    assert solution.status == "archived"
    again = client.post(f"/solutions/{solution.id}/archive", follow_redirects=True)
    assert "already archived" in again.get_data(as_text=True)
    edit = client.get(f"/solutions/{solution.id}/edit", follow_redirects=True)
    assert "Archived listings cannot be edited." in edit.get_data(as_text=True)


def test_expired_listings_are_hidden_and_marked_by_the_command(client, runner):
    stale = SolutionFactory(published=True, expires_at=utcnow() - timedelta(minutes=1))
    fresh = SolutionFactory(published=True)

    browse = client.get("/solutions").get_data(as_text=True)
    assert fresh.title in browse and stale.title not in browse
    assert client.get(f"/solutions/{stale.id}").status_code == 404

    result = runner.invoke(args=["listings", "expire"])
    assert "1 listing(s) expired." in result.output
    _refresh(stale, fresh)
    assert (stale.status, fresh.status) == ("expired", "published")


def test_staff_verify_an_organisation(client, auth):
    supplier = UserFactory()
    staff = UserFactory(staff=True)
    auth.login(staff)
    assert supplier.organization.name in client.get("/staff/organizations").get_data(as_text=True)

    client.post(f"/staff/organizations/{supplier.organization_id}/verify")
    client.get("/")  # shows (and so clears) the flash message, which names the organisation

    org = supplier.organization
    _refresh(org)
    assert org.is_verified and org.verified_by_id == staff.id
    assert org.name not in client.get("/staff/organizations").get_data(as_text=True)
    client.post(f"/staff/organizations/{org.id}/unverify")
    _refresh(org)
    assert not org.is_verified


def test_changing_the_organisation_identity_drops_verification(client, auth):
    user = UserFactory(organization__verified=True)
    auth.login(user)

    client.post("/my/organization", data={"name": "A new name", "kind": "enterprise",
                                          "country": "CN", "city": "Wuzhou", "base": "wuzhou"})

    org = user.organization
    _refresh(org)
    assert (org.name, org.base, org.is_verified) == ("A new name", "wuzhou", False)
