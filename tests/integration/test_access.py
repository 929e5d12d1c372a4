"""Every role against every route, including the refusals.

Owners are a supplier (solutions) and a buyer (needs); "other" users belong to another
organisation with the same role.  Drafts of others are 404 (their existence is not revealed);
listings others may see but not change are 403.
"""

from datetime import date, time

import pytest

from marketplace.calendar import meetings
from marketplace.extensions import db
from marketplace.models import (
    Event,
    EventRegistration,
    Introduction,
    Issue,
    IssueEdition,
    IssueSection,
    Match,
    Meeting,
    MeetingRequest,
)
from tests.factories import NeedFactory, OrganizationFactory, SolutionFactory, UserFactory

LOGIN = "login"  # anonymous users are sent to the sign-in page


@pytest.fixture
def world():
    supplier = UserFactory(email="owner-supplier@example.org")
    other_supplier = UserFactory(email="other-supplier@example.org")
    buyer = UserFactory(buyer=True, email="owner-buyer@example.org")
    other_buyer = UserFactory(buyer=True, email="other-buyer@example.org")
    staff = UserFactory(staff=True, email="staff@example.org")
    admin = UserFactory(admin=True, email="admin@example.org")
    published_solution = SolutionFactory(organization=supplier.organization, published=True)
    published_need = NeedFactory(organization=buyer.organization, published=True)
    match = Match(need=published_need, solution=published_solution, score=1.0,
                  evidence=1.0, delivered=True, reasons=[])
    db.session.add(match)
    introduction = Introduction(need=published_need, solution=published_solution, match=match,
                                sender_org_id=buyer.organization_id,
                                recipient_org_id=supplier.organization_id, sender=buyer,
                                message="Hello", open_pair="access")
    db.session.add(introduction)
    db.session.commit()
    return {
        "match": match,
        "introduction": introduction,
        "users": {"anonymous": None, "supplier": supplier, "other_supplier": other_supplier,
                  "buyer": buyer, "other_buyer": other_buyer, "staff": staff,
                  "admin": admin},
        "draft_solution": SolutionFactory(organization=supplier.organization),
        "published_solution": published_solution,
        "pending_solution": SolutionFactory(organization=supplier.organization, pending=True),
        "draft_need": NeedFactory(organization=buyer.organization),
        "published_need": published_need,
        "pending_need": NeedFactory(organization=buyer.organization, pending=True),
        "org": OrganizationFactory(),
        **_issue_with_section(),
        "event": _event(),
        **_b2b_day(supplier, buyer, other_buyer, published_need, published_solution),
    }


def _event():
    event = Event(title="Water forum", kind="forum", base="yixing", starts_on=date(2099, 1, 1))
    db.session.add(event)
    db.session.commit()
    return event


def _b2b_day(supplier, buyer, other_buyer, need, solution):
    """An event with B2B meetings: the supplier, the buyer and the other buyer have places;
    the buyer's accepted request to the supplier is a published meeting, the other buyer's
    request to the supplier waits for an answer."""
    event = Event(title="B2B day", kind="b2b", base="yixing", starts_on=date(2099, 1, 1))
    db.session.add(event)
    db.session.flush()
    [slot, _] = meetings.set_up(event, day=event.starts_on, first=time(9), count=2, minutes=25,
                                gap=5, tables=2, cap=4)
    places = {user: EventRegistration(event=event, user=user, organization_id=user.organization_id)
              for user in (supplier, buyer, other_buyer)}
    db.session.add_all(places.values())
    db.session.flush()
    accepted = MeetingRequest(event=event, requester=places[buyer], recipient=places[supplier],
                              pair="a", need=need, solution=solution, reason="Meet?",
                              status="accepted")
    other_need = NeedFactory(organization=other_buyer.organization, published=True)
    waiting = MeetingRequest(event=event, requester=places[other_buyer],
                             recipient=places[supplier], pair="b", need=other_need,
                             solution=solution, reason="Meet us too?")
    meeting = Meeting(event=event, request=accepted, slot_id=slot.id, table=1)
    event.schedule_state = "preliminary"
    db.session.add_all([accepted, waiting, meeting])
    db.session.commit()
    return {"b2b": event, "buyer_place": places[buyer], "waiting_request": waiting,
            "meeting": meeting}


def _issue_with_section():
    issue = Issue(slug="access-test", audience={}, editions=[
        IssueEdition(language="en", title="Issue", sections=[
            IssueSection(kind="manual", heading="Section", body="")]),
        IssueEdition(language="zh", title="刊")])
    db.session.add(issue)
    db.session.commit()
    return {"issue": issue, "section": issue.editions[0].sections[0]}


def _status(client, auth, world, who, method, path):
    user = world["users"][who]
    if user is not None:
        auth.login(user)
    response = client.open(path, method=method)
    if response.status_code == 302 and "/login" in response.headers["Location"]:
        return LOGIN
    return response.status_code


# (method, path template, {actor: expected status}).  A 302 is a success that redirects.
MATRIX = [
    ("GET", "/", dict(anonymous=200, supplier=200, other_supplier=200, buyer=200, staff=200)),
    ("GET", "/solutions", dict(anonymous=200, buyer=200, staff=200)),
    ("GET", "/needs", dict(anonymous=200, supplier=200, staff=200)),
    ("GET", "/solutions/{published_solution}",
     dict(anonymous=200, supplier=200, other_supplier=200, buyer=200, staff=200)),
    ("GET", "/solutions/{draft_solution}",
     dict(anonymous=404, supplier=200, other_supplier=404, buyer=404, staff=200)),
    ("GET", "/solutions/{pending_solution}",
     dict(anonymous=404, supplier=200, other_supplier=404, buyer=404, staff=200)),
    ("GET", "/needs/{draft_need}",
     dict(anonymous=404, buyer=200, other_buyer=404, supplier=404, staff=200)),
    ("GET", "/needs/{published_need}", dict(anonymous=200, supplier=200, other_buyer=200)),
    ("GET", "/organizations/{org}", dict(anonymous=200, supplier=200)),
    ("GET", "/my", dict(anonymous=LOGIN, supplier=200, buyer=200, staff=403)),
    ("GET", "/my/organization", dict(anonymous=LOGIN, supplier=200, buyer=200, staff=403)),
    ("GET", "/account", dict(anonymous=LOGIN, supplier=200, staff=200)),
    ("GET", "/solutions/new",
     dict(anonymous=LOGIN, supplier=200, other_supplier=200, buyer=403, staff=403)),
    ("POST", "/solutions/new", dict(anonymous=LOGIN, buyer=403, staff=403)),
    ("GET", "/needs/new", dict(anonymous=LOGIN, buyer=200, supplier=403, staff=403)),
    ("POST", "/needs/new", dict(anonymous=LOGIN, supplier=403, staff=403)),
    ("GET", "/solutions/{draft_solution}/edit",
     dict(anonymous=LOGIN, supplier=200, other_supplier=404, buyer=404, staff=403)),
    ("POST", "/solutions/{draft_solution}/edit",
     dict(anonymous=LOGIN, other_supplier=404, buyer=404, staff=403)),
    ("GET", "/solutions/{published_solution}/edit",
     dict(anonymous=LOGIN, supplier=200, other_supplier=403, buyer=403, staff=403)),
    ("POST", "/solutions/{published_solution}/edit",
     dict(anonymous=LOGIN, other_supplier=403, buyer=403, staff=403)),
    ("GET", "/needs/{published_need}/edit",
     dict(anonymous=LOGIN, buyer=200, other_buyer=403, supplier=403, staff=403)),
    ("POST", "/needs/{draft_need}/edit", dict(anonymous=LOGIN, other_buyer=404, supplier=404)),
    ("POST", "/solutions/{draft_solution}/submit",
     dict(anonymous=LOGIN, supplier=302, other_supplier=404, buyer=404, staff=403)),
    ("POST", "/solutions/{published_solution}/archive",
     dict(anonymous=LOGIN, supplier=302, other_supplier=403, buyer=403, staff=403)),
    ("POST", "/solutions/{published_solution}/renew",
     dict(anonymous=LOGIN, supplier=302, other_supplier=403, staff=403)),
    ("POST", "/needs/{draft_need}/submit",
     dict(anonymous=LOGIN, buyer=302, other_buyer=404, supplier=404, staff=403)),
    ("POST", "/needs/{published_need}/archive",
     dict(anonymous=LOGIN, buyer=302, other_buyer=403, supplier=403)),
    ("GET", "/staff/", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("GET", "/staff/review/solution/{pending_solution}",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("POST", "/staff/review/solution/{pending_solution}",
     dict(anonymous=LOGIN, supplier=403, buyer=403)),
    ("GET", "/staff/review/need/{pending_need}", dict(anonymous=LOGIN, buyer=403, staff=200)),
    ("GET", "/staff/organizations", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("POST", "/staff/organizations/{org}/verify",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=302)),
    ("POST", "/staff/organizations/{org}/unverify", dict(anonymous=LOGIN, supplier=403, staff=302)),
    # The outbox holds reset links: admins alone (issue 9, item 11).
    ("GET", "/staff/outbox",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=403, admin=200)),
    ("GET", "/staff/outbox/nothing-here",
     dict(anonymous=LOGIN, supplier=403, staff=403, admin=404)),
    ("GET", "/staff/people", dict(anonymous=LOGIN, supplier=403, staff=403, admin=200)),
    ("POST", "/staff/people", dict(anonymous=LOGIN, buyer=403, staff=403, admin=400)),  # empty
    ("GET", "/staff/audit", dict(anonymous=LOGIN, supplier=403, staff=403, admin=200)),
    ("GET", "/staff/emagazine/", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("POST", "/staff/emagazine/new", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),
    ("GET", "/staff/emagazine/{issue}", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("GET", "/staff/emagazine/audience-count", dict(anonymous=LOGIN, buyer=403, staff=200)),
    ("POST", "/staff/emagazine/{issue}/audience", dict(anonymous=LOGIN, supplier=403,
                                                        staff=302)),
    ("POST", "/staff/emagazine/{issue}/editions/en", dict(anonymous=LOGIN, buyer=403,
                                                           staff=400)),
    ("POST", "/staff/emagazine/{issue}/editions/en/sections",
     dict(anonymous=LOGIN, supplier=403, staff=400)),
    ("POST", "/staff/emagazine/{issue}/sections/{section}", dict(anonymous=LOGIN, buyer=403,
                                                                  staff=400)),
    ("POST", "/staff/emagazine/{issue}/sections/{section}/refill",
     dict(anonymous=LOGIN, supplier=403, staff=302)),
    ("POST", "/staff/emagazine/{issue}/sections/{section}/delete",
     dict(anonymous=LOGIN, supplier=403, staff=302)),
    ("GET", "/staff/emagazine/{issue}/preview", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("POST", "/staff/emagazine/{issue}/test", dict(anonymous=LOGIN, buyer=403, staff=400)),
    # Mass sends are an administrator's (issue 9, item 11).
    ("POST", "/staff/emagazine/{issue}/schedule", dict(anonymous=LOGIN, supplier=403,
                                                        staff=403, admin=400)),
    ("POST", "/staff/emagazine/{issue}/unschedule", dict(anonymous=LOGIN, supplier=403,
                                                          staff=302)),
    ("POST", "/staff/emagazine/{issue}/send",
     dict(anonymous=LOGIN, supplier=403, staff=403, admin=400)),
    ("POST", "/staff/emagazine/{issue}/pause", dict(anonymous=LOGIN, supplier=403, staff=302)),
    ("POST", "/staff/emagazine/{issue}/resume",
     dict(anonymous=LOGIN, buyer=403, staff=403, admin=302)),
    ("GET", "/staff/emagazine/{issue}/progress", dict(anonymous=LOGIN, supplier=403,
                                                       staff=200)),
    ("POST", "/verify/resend", dict(anonymous=LOGIN, supplier=302)),
    ("GET", "/search", dict(anonymous=200, supplier=200, staff=200)),
    ("GET", "/search?kind=need&q=water", dict(anonymous=200, buyer=200)),
    ("POST", "/search/save", dict(anonymous=LOGIN, supplier=302, buyer=302)),
    ("GET", "/solutions/{published_solution}/matches",
     dict(anonymous=LOGIN, supplier=200, other_supplier=403, buyer=403, staff=403)),
    ("GET", "/solutions/{draft_solution}/matches", dict(other_supplier=404, supplier=200)),
    ("GET", "/needs/{published_need}/matches",
     dict(anonymous=LOGIN, buyer=200, other_buyer=403, supplier=403)),
    ("POST", "/matches/{match}/interesting",
     dict(anonymous=LOGIN, supplier=302, buyer=302, other_supplier=403, other_buyer=403,
          staff=403)),
    ("POST", "/matches/{match}/dismissed",
     dict(anonymous=LOGIN, buyer=302, supplier=302, other_buyer=403, other_supplier=403,
          staff=403)),
    ("POST", "/matches/{match}/new",
     dict(anonymous=LOGIN, buyer=302, supplier=302, other_buyer=403, other_supplier=403,
          staff=403, admin=403)),
    ("GET", "/my/notifications",
     dict(anonymous=LOGIN, supplier=200, buyer=200, staff=200)),
    ("POST", "/my/notifications", dict(anonymous=LOGIN)),
    ("GET", "/my/saved-searches", dict(anonymous=LOGIN, supplier=200, buyer=200, staff=200)),
    # Nobody's saved search: a 404 for everyone signed in (owners are tested with the page).
    ("POST", "/my/saved-searches/999999/delete", dict(anonymous=LOGIN, supplier=404, staff=404)),
    ("GET", "/emagazine", dict(anonymous=200, supplier=200, buyer=200, staff=200)),
    ("GET", "/emagazine/feed.atom", dict(anonymous=200, supplier=200, staff=200)),
    # The world's issue is a draft: not public, not even to staff (they preview it there).
    ("GET", "/emagazine/access-test", dict(anonymous=404, supplier=404, staff=404)),
    ("GET", "/emagazine/subscribe", dict(anonymous=200, supplier=200, buyer=200, staff=200)),
    ("POST", "/emagazine/subscribe", dict(anonymous=400, supplier=400)),  # empty form
    ("GET", "/my/emagazine", dict(anonymous=LOGIN, supplier=200, buyer=200, staff=200)),
    ("POST", "/my/emagazine", dict(anonymous=LOGIN, supplier=400)),  # no language given
    ("GET", "/staff/events", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("GET", "/staff/events/new", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("POST", "/staff/events/new", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),
    ("GET", "/staff/events/{event}/edit", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("POST", "/staff/events/{event}/edit", dict(anonymous=LOGIN, supplier=403, buyer=403)),
    ("POST", "/staff/events/{event}/delete",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=302)),
    # Introductions: the two sides only; to anyone else one does not exist (404).
    ("GET", "/introductions",
     dict(anonymous=LOGIN, supplier=200, buyer=200, other_supplier=200, staff=403)),
    ("GET", "/introductions/new/solutions/{published_solution}",
     dict(anonymous=LOGIN, buyer=200, other_buyer=200, supplier=200, staff=403)),
    ("POST", "/introductions/new/solutions/{published_solution}",
     dict(anonymous=LOGIN, buyer=400, supplier=400, staff=403)),  # empty form
    ("GET", "/introductions/new/needs/{draft_need}", dict(supplier=404, buyer=200)),
    ("GET", "/introductions/{introduction}",
     dict(anonymous=LOGIN, supplier=200, buyer=200, other_supplier=404, other_buyer=404,
          staff=403, admin=403)),
    ("POST", "/introductions/{introduction}/accept",
     dict(anonymous=LOGIN, supplier=400, other_supplier=404, other_buyer=404, staff=403)),
    ("POST", "/introductions/{introduction}/decline",
     dict(anonymous=LOGIN, supplier=400, other_supplier=404, other_buyer=404, staff=403)),
    ("POST", "/introductions/{introduction}/move",
     dict(anonymous=LOGIN, buyer=400, other_supplier=404, other_buyer=404, staff=403)),
    ("POST", "/introductions/{introduction}/messages",
     dict(anonymous=LOGIN, buyer=400, other_supplier=404, other_buyer=404, staff=403)),
    ("POST", "/introductions/{introduction}/help",
     dict(anonymous=LOGIN, buyer=302, supplier=302, other_supplier=404, staff=403)),
    ("GET", "/staff/introductions", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("GET", "/staff/introductions/{introduction}",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200, admin=200)),
    ("POST", "/staff/introductions/{introduction}/nudge",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=302)),
    ("GET", "/staff/introductions/propose", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("POST", "/staff/introductions/propose",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),  # empty form
    ("GET", "/events", dict(anonymous=200, supplier=200, staff=200)),
    ("GET", "/events/{event}", dict(anonymous=200, buyer=200, staff=200)),
    ("GET", "/events/{event}/event.ics", dict(anonymous=200, supplier=200)),
    ("POST", "/events/{event}/register",
     dict(anonymous=LOGIN, supplier=302, buyer=302, staff=403)),
    ("POST", "/events/{event}/exhibits",
     dict(anonymous=LOGIN, supplier=409, buyer=409, staff=403)),  # not registered
    ("POST", "/events/{event}/cancel",
     dict(anonymous=LOGIN, supplier=409, staff=403)),  # not registered
    # B2B meetings: only participants, each seeing their own; staff run the schedule.
    ("GET", "/events/{event}/meetings", dict(supplier=404)),  # an event without meetings
    ("GET", "/events/{b2b}/meetings",
     dict(anonymous=LOGIN, supplier=200, buyer=200, other_supplier=403, staff=403)),
    ("POST", "/events/{b2b}/meetings/availability",
     dict(anonymous=LOGIN, supplier=302, other_supplier=403, staff=403)),
    ("GET", "/events/{b2b}/participants/{buyer_place}",
     dict(anonymous=LOGIN, supplier=200, other_supplier=403, staff=403)),
    ("POST", "/events/{b2b}/meetings/requests",
     dict(anonymous=LOGIN, supplier=400, other_supplier=403, staff=403)),  # empty form
    ("POST", "/events/{b2b}/meetings/requests/{waiting_request}/accept",
     dict(anonymous=LOGIN, supplier=302, buyer=409, other_buyer=409, other_supplier=403,
          staff=403)),
    ("POST", "/events/{b2b}/meetings/requests/{waiting_request}/decline",
     dict(anonymous=LOGIN, supplier=400, other_supplier=403, staff=403)),  # no reason
    ("GET", "/events/{b2b}/agenda",
     dict(anonymous=LOGIN, supplier=200, buyer=200, other_supplier=403, staff=403)),
    ("GET", "/events/{b2b}/agenda.ics",
     dict(anonymous=LOGIN, supplier=200, other_supplier=403, staff=403)),
    ("GET", "/events/{b2b}/meetings/{meeting}.ics",
     dict(anonymous=LOGIN, supplier=200, buyer=200, other_buyer=404, other_supplier=403,
          staff=403)),
    ("POST", "/events/{b2b}/meetings/{meeting}/outcome",
     dict(anonymous=LOGIN, supplier=400, other_buyer=403, other_supplier=403,
          staff=400)),  # no outcome chosen
    ("POST", "/events/{b2b}/check-in",
     dict(anonymous=LOGIN, supplier=302, other_supplier=403, staff=403)),
    ("GET", "/staff/events/{b2b}/meetings",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("POST", "/staff/events/{b2b}/meetings/setup",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),  # empty form
    ("POST", "/staff/events/{b2b}/meetings/schedule",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=302)),
    ("POST", "/staff/events/{b2b}/meetings/{meeting}/move",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),  # empty form
    ("POST", "/staff/events/{b2b}/meetings/publish",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=400)),  # no state
    ("POST", "/staff/events/{b2b}/registrations/{buyer_place}/check-in",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=302)),
    ("GET", "/staff/events/{b2b}/report", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("GET", "/staff/events/{b2b}/report.csv", dict(anonymous=LOGIN, buyer=403, staff=200)),
    # Reporting (issue 14): the dashboard and every export are for staff; the results, public.
    ("GET", "/staff/dashboard", dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("GET", "/staff/dashboard/events.csv",
     dict(anonymous=LOGIN, supplier=403, buyer=403, staff=200)),
    ("GET", "/staff/dashboard/review.xlsx", dict(anonymous=LOGIN, buyer=403, staff=200)),
    ("GET", "/staff/dashboard/review.pdf", dict(anonymous=LOGIN, supplier=403, staff=200)),
    ("GET", "/staff/dashboard/review.zip", dict(anonymous=LOGIN, buyer=403, staff=200)),
    ("GET", "/results", dict(anonymous=200, supplier=200, buyer=200, staff=200)),
    ("GET", "/healthz", dict(anonymous=200, staff=200)),
    ("GET", "/register", dict(anonymous=200, supplier=302)),
    ("GET", "/login", dict(anonymous=200, buyer=302)),
]

CASES = [
    pytest.param(method, path, who, expected, id=f"{method} {path} as {who}")
    for method, path, expectations in MATRIX
    for who, expected in expectations.items()
]


@pytest.mark.parametrize(("method", "path", "who", "expected"), CASES)
def test_route_access(client, auth, world, method, path, who, expected):
    ids = {key: value.id for key, value in world.items() if key != "users"}
    assert _status(client, auth, world, who, method, path.format(**ids)) == expected


# Routes whose access is proven elsewhere: tokens in links (test_accounts, test_digests), and
# routes that anyone may use by design (language choice, sign-out; sign-out everywhere in
# test_security_accounts).
TESTED_ELSEWHERE = {"auth.verify_email", "auth.reset_password", "auth.forgot_password",
                    "auth.logout", "auth.sign_out_everywhere", "public.set_language", "static",
                    "notifications.unsubscribe", "notifications.unsubscribe_confirm",
                    "emagazine.confirm"}


def test_every_route_is_in_the_matrix(app):
    """A new route must be added to MATRIX, so nobody forgets its permission check."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _ in MATRIX:
        endpoint, _args = adapter.match(path.format_map({k: 1 for k in (
            "draft_solution", "published_solution", "pending_solution", "draft_need",
            "published_need", "pending_need", "org", "match", "issue", "section", "event",
            "introduction", "b2b", "buyer_place", "waiting_request", "meeting")}
        ).split("?")[0], method=method)
        covered.add(endpoint)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - covered - TESTED_ELSEWHERE == set()


def test_other_organisations_cannot_change_a_listing(client, auth, world):
    """The refused requests above must also leave the data untouched."""
    from marketplace.extensions import db

    listing = world["published_solution"]
    auth.login(world["users"]["other_supplier"])
    client.post(f"/solutions/{listing.id}/edit", data={"title": "Hijacked title"})
    client.post(f"/solutions/{listing.id}/archive")

    db.session.refresh(listing)
    assert listing.title != "Hijacked title"
    assert listing.status == "published"
