"""The owner's matches page: delivered matches first, possible ones below the bar, and
dismissing with an optional reason (issue 10, items 3 and 5)."""

import re

import pytest
from sqlalchemy import select

from marketplace.discovery import matching
from marketplace.extensions import db
from marketplace.models import Match
from marketplace.models.discovery import DISMISS_REASONS
from marketplace.outbox import relay
from tests.factories import MatchFactory, NeedFactory, SolutionFactory, UserFactory

POSSIBLE_LINE = "below the bar for delivery, so we do not e-mail you about them"
NO_DELIVERED = "No match clears the bar yet."


@pytest.fixture
def buyer():
    return UserFactory(buyer=True)


@pytest.fixture
def need(buyer):
    return NeedFactory(organization=buyer.organization, published=True)


def _match(need, title, **columns):
    return MatchFactory(need=need, solution=SolutionFactory(published=True, title=title),
                        **columns)


def _page(client, need, **query):
    response = client.get(f"/needs/{need.id}/matches", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _reload(match) -> Match:
    db.session.expire_all()
    return db.session.get(Match, match.id)


def test_delivered_matches_come_first_best_evidence_first(client, auth, buyer, need):
    _match(need, "Good digester", delivered=True, evidence=1.5, score=0.1)
    _match(need, "Best digester", delivered=True, evidence=2.0, score=0.2)
    _match(need, "Fair digester", delivered=True, evidence=1.5, score=0.3)  # tie: by score
    _match(need, "Weak digester", delivered=False, evidence=0.4, score=0.9)
    auth.login(buyer)

    page = _page(client, need)

    order = [page.index(title) for title in
             ("Best digester", "Fair digester", "Good digester", "Possible matches (1)",
              "Weak digester")]
    assert order == sorted(order)
    assert POSSIBLE_LINE in page
    assert NO_DELIVERED not in page


def test_only_possible_matches_say_none_clears_the_bar(client, auth, buyer, need):
    _match(need, "Weak digester", delivered=False, evidence=0.4)
    auth.login(buyer)

    page = _page(client, need)

    assert NO_DELIVERED in page
    assert page.index(NO_DELIVERED) < page.index(POSSIBLE_LINE) < page.index("Weak digester")
    assert "<details" in page  # folded away until asked for


def test_no_matches_at_all(client, auth, buyer, need):
    auth.login(buyer)

    page = _page(client, need)

    assert NO_DELIVERED in page
    assert POSSIBLE_LINE not in page


def test_a_draft_listing_says_matching_starts_at_publication(client, auth, buyer):
    draft = NeedFactory(organization=buyer.organization)
    auth.login(buyer)

    page = _page(client, draft)

    assert "once this listing is published" in page
    assert NO_DELIVERED not in page


def test_the_supplier_side_has_the_same_sections(client, auth):
    supplier = UserFactory()
    solution = SolutionFactory(organization=supplier.organization, published=True)
    MatchFactory(solution=solution, need=NeedFactory(published=True, title="Delivered need"),
                 delivered=True, evidence=1.0)
    MatchFactory(solution=solution, need=NeedFactory(published=True, title="Possible need"))
    auth.login(supplier)

    page = client.get(f"/solutions/{solution.id}/matches").get_data(as_text=True)

    assert page.index("Delivered need") < page.index(POSSIBLE_LINE) < page.index("Possible need")


def test_each_match_has_a_labelled_dismiss_form_with_every_reason(client, auth, buyer, need):
    match = _match(need, "Weak digester")
    auth.login(buyer)

    page = _page(client, need)

    form = re.search(rf'<form method="post" action="/matches/{match.id}/dismissed".*?</form>',
                     page, re.S).group(0)
    assert f'<label for="dismiss-reason-{match.id}">Reason (optional)</label>' in form
    assert f'id="dismiss-reason-{match.id}" name="reason"' in form
    for code, label in [("not_relevant", "Not relevant"), ("wrong_scale", "Wrong scale"),
                        ("wrong_country", "Wrong country"), ("already_known", "Already known"),
                        ("other", "Other")]:
        assert f'<option value="{code}">{label}</option>' in form
    # The first option, so a browser submits no reason unless one is chosen.
    assert re.search(r'<select[^>]*><option value="">', form)


@pytest.mark.parametrize("reason", DISMISS_REASONS)
def test_a_buyer_dismisses_with_a_reason(client, auth, buyer, need, reason):
    match = _match(need, "Weak digester", delivered=True, evidence=1.0)
    auth.login(buyer)

    response = client.post(f"/matches/{match.id}/dismissed", data={"reason": reason})

    assert response.status_code == 302
    row = _reload(match)
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("dismissed", reason)
    assert (row.supplier_state, row.supplier_dismiss_reason) == ("new", None)
    assert "Weak digester" not in _page(client, need)
    assert "Weak digester" in _page(client, need, show="dismissed")


def test_a_supplier_dismisses_on_its_own_side(client, auth):
    supplier = UserFactory()
    solution = SolutionFactory(organization=supplier.organization, published=True)
    match = MatchFactory(solution=solution)
    auth.login(supplier)

    client.post(f"/matches/{match.id}/dismissed", data={"reason": "wrong_scale"})

    row = _reload(match)
    assert (row.supplier_state, row.supplier_dismiss_reason) == ("dismissed", "wrong_scale")
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("new", None)
    dismissed = client.get(f"/solutions/{solution.id}/matches?show=dismissed")
    assert "Your reason: Wrong scale" in dismissed.get_data(as_text=True)


@pytest.mark.parametrize("data", [{}, {"reason": ""}], ids=["absent", "empty"])
def test_no_reason_is_fine(client, auth, buyer, need, data):
    match = _match(need, "Weak digester")
    auth.login(buyer)

    assert client.post(f"/matches/{match.id}/dismissed", data=data).status_code == 302

    row = _reload(match)
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("dismissed", None)
    assert "Your reason" not in _page(client, need, show="dismissed")


@pytest.mark.parametrize("reason", ["bogus", "Not relevant", "x" * 500, "dismissed"])
def test_an_unknown_reason_is_a_clear_400(client, auth, buyer, need, reason):
    match = _match(need, "Weak digester")
    auth.login(buyer)

    response = client.post(f"/matches/{match.id}/dismissed", data={"reason": reason})

    assert response.status_code == 400
    assert "Choose a reason from the list, or none." in response.get_data(as_text=True)
    row = _reload(match)
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("new", None)


def test_restoring_clears_the_reason(client, auth, buyer, need):
    match = _match(need, "Weak digester", delivered=True, evidence=1.0)
    auth.login(buyer)
    client.post(f"/matches/{match.id}/dismissed", data={"reason": "already_known"})

    response = client.post(f"/matches/{match.id}/new", follow_redirects=True)

    assert "Restored." in response.get_data(as_text=True)
    row = _reload(match)
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("new", None)
    assert "Weak digester" in _page(client, need)


def test_marking_interesting_says_only_what_happened(client, auth, buyer, need):
    match = _match(need, "Weak digester")
    auth.login(buyer)

    page = client.post(f"/matches/{match.id}/interesting",
                       follow_redirects=True).get_data(as_text=True)

    assert "Marked as interesting." in page
    assert "broker" not in page  # no staff page shows interesting matches yet (issue 12)
    assert _reload(match).buyer_state == "interesting"


@pytest.mark.parametrize("state", ["dismissed", "new", "interesting"])
def test_another_organisation_cannot_judge_the_match(client, auth, need, state):
    match = _match(need, "Weak digester")
    auth.login(UserFactory(buyer=True))

    response = client.post(f"/matches/{match.id}/{state}", data={"reason": "other"})

    assert response.status_code == 403
    row = _reload(match)
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("new", None)
    assert client.get(f"/needs/{need.id}/matches").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, need):
    match = _match(need, "Weak digester")

    for response in (client.get(f"/needs/{need.id}/matches"),
                     client.post(f"/matches/{match.id}/dismissed", data={"reason": "other"})):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert _reload(match).buyer_state == "new"


def test_an_unknown_match_is_404(client, auth, buyer):
    auth.login(buyer)

    assert client.post("/matches/999999/dismissed", data={"reason": "other"}).status_code == 404


def test_dismissing_needs_the_csrf_token(app, client, auth, buyer, need):
    match = _match(need, "Weak digester")
    auth.login(buyer)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/matches/{match.id}/dismissed", data={"reason": "other"})
        refused_state = _reload(match).buyer_state
        page = _page(client, need)
        form = re.search(r'action="/matches/\d+/dismissed".*?</form>', page, re.S).group(0)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        accepted = client.post(f"/matches/{match.id}/dismissed",
                               data={"reason": "other", "csrf_token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert refused.status_code == 400
    assert refused_state == "new"
    assert accepted.status_code == 302
    assert _reload(match).buyer_dismiss_reason == "other"


def test_rerunning_the_matcher_keeps_a_dismissal_and_its_reason(client, auth):
    """"A dismissed pair never returns": the matcher's upsert refreshes score and reasons but
    never a side's verdict or reason."""
    from tests.integration.test_search import other_listings

    other_listings()
    buyer, supplier = UserFactory(buyer=True), UserFactory()
    solution = SolutionFactory(organization=supplier.organization, published=True)
    need = NeedFactory(organization=buyer.organization, published=True)
    relay.publish_committed()  # index both and match them, as after publication
    match = db.session.scalar(select(Match).where(Match.need_id == need.id,
                                                  Match.solution_id == solution.id))
    assert match is not None, "the matcher should pair these two listings"
    auth.login(buyer)
    client.post(f"/matches/{match.id}/dismissed", data={"reason": "wrong_scale"})
    auth.logout()
    auth.login(supplier)
    client.post(f"/matches/{match.id}/dismissed", data={"reason": "already_known"})
    db.session.expire_all()
    # The re-run still finds the pair, so the ledger keeps it only through the upsert.
    assert solution.id in [ranked.id for ranked in matching.rank_for(need)]

    matching.match_listing("need", need.id)
    matching.match_listing("solution", solution.id)

    db.session.expire_all()
    row = db.session.scalar(select(Match).where(Match.need_id == need.id,
                                                Match.solution_id == solution.id))
    assert row is not None and row.id == match.id
    assert (row.buyer_state, row.buyer_dismiss_reason) == ("dismissed", "wrong_scale")
    assert (row.supplier_state, row.supplier_dismiss_reason) == ("dismissed", "already_known")
