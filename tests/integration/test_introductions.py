"""Introductions (issue 12): a request from a match, both sides opting in, the conversation,
the pipeline with its timeline, and what a decline teaches the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.discovery import indexing
from marketplace.extensions import db
from marketplace.introductions import notices, pipeline, upkeep
from marketplace.models import Introduction, Match
from marketplace.models._time import utcnow
from marketplace.models.states import IntroductionStage, MatchState
from marketplace.outbox import relay
from tests.factories import NeedFactory, SolutionFactory, UserFactory


@pytest.fixture
def pair():
    """A supplier's published solution, a buyer's published need, and their match."""
    supplier = UserFactory(email="li@yixing.example", name="Li Wei")
    buyer = UserFactory(buyer=True, email="mai@danang.example", name="Mai Tran")
    solution = SolutionFactory(organization=supplier.organization, published=True,
                               title="Membrane bioreactor")
    need = NeedFactory(organization=buyer.organization, published=True,
                       title="Wastewater for a hospital")
    match = Match(need=need, solution=solution, score=1.0, evidence=1.0, delivered=True,
                  reasons=[{"kind": "terms", "detail": {"terms": ["membrane"]}}])
    db.session.add(match)
    db.session.commit()
    return {"supplier": supplier, "buyer": buyer, "solution": solution, "need": need,
            "match": match}


def _request(client, auth, pair, message="We run a 300-bed hospital in Da Nang.", **extra):
    auth.login(pair["buyer"])
    return client.post(f"/introductions/new/solutions/{pair['solution'].id}",
                       data={"own_listing": pair["need"].id, "message": message, **extra})


def _introduction() -> Introduction:
    db.session.expire_all()
    return db.session.scalar(select(Introduction))


def test_a_request_reaches_the_other_side_without_contact_details(client, auth, pair, outbox):
    response = _request(client, auth, pair, wishes=["call", "pilot"])

    introduction = _introduction()
    assert response.status_code == 302
    assert introduction.stage == IntroductionStage.NEW and introduction.wishes == ["call", "pilot"]
    assert introduction.match_id == pair["match"].id
    mail = outbox.last()
    assert mail["To"] == "li@yixing.example"
    assert "We run a 300-bed hospital" in mail.get_body(preferencelist=("plain",)).get_content()

    auth.logout()
    auth.login(pair["supplier"])
    page = client.get(f"/introductions/{introduction.id}").get_data(as_text=True)
    assert "We run a 300-bed hospital" in page and "membrane" in page
    assert "mai@danang.example" not in page  # hidden until accepted


def test_accepting_shows_both_contacts_and_tells_the_sender(client, auth, pair, outbox):
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"])

    response = client.post(f"/introductions/{introduction.id}/accept",
                           data={"version": introduction.version})

    assert response.status_code == 302
    introduction = _introduction()
    assert introduction.stage == IntroductionStage.CONTACTED
    assert introduction.recipient_contact_id == pair["supplier"].id
    assert outbox.last()["To"] == "mai@danang.example"
    page = client.get(f"/introductions/{introduction.id}").get_data(as_text=True)
    assert "mai@danang.example" in page and "li@yixing.example" in page


def test_a_decline_needs_a_reason_the_sender_then_sees(client, auth, pair, outbox):
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"])

    empty = client.post(f"/introductions/{introduction.id}/decline",
                        data={"version": introduction.version, "reason": "other"})
    assert empty.status_code == 409  # "other" without a word: refused, nothing changed
    assert _introduction().stage == IntroductionStage.NEW

    client.post(f"/introductions/{introduction.id}/decline",
                data={"version": introduction.version, "reason": "too_early"})

    introduction = _introduction()
    assert introduction.stage == IntroductionStage.DECLINED
    assert introduction.decline_reason == "too_early" and introduction.open_pair is None
    body = outbox.last().get_body(preferencelist=("plain",)).get_content()
    assert "Too early stage (TRL)" in body
    auth.logout()
    auth.login(pair["buyer"])
    assert "Too early stage (TRL)" in client.get(
        f"/introductions/{introduction.id}").get_data(as_text=True)


def test_not_relevant_removes_the_pair_from_both_sides_matches(client, auth, pair):
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"])

    client.post(f"/introductions/{introduction.id}/decline",
                data={"version": introduction.version, "reason": "not_relevant"})

    match = db.session.get(Match, pair["match"].id)
    db.session.refresh(match)
    assert match.buyer_state == match.supplier_state == MatchState.DISMISSED
    assert match.buyer_dismiss_reason == "not_relevant"


def test_one_open_request_per_pair_and_never_to_ones_own(client, auth, pair):
    assert _request(client, auth, pair).status_code == 302
    again = _request(client, auth, pair, message="Again")
    assert again.status_code == 400
    assert "already an open request" in again.get_data(as_text=True)

    own = SolutionFactory(organization=pair["buyer"].organization, published=True)
    assert client.get(f"/introductions/new/solutions/{own.id}").status_code == 200
    refused = client.post(f"/introductions/new/solutions/{own.id}",
                          data={"own_listing": pair["need"].id, "message": "Hi"})
    assert refused.status_code == 400
    assert "your own organisation" in refused.get_data(as_text=True)


def test_a_message_that_is_too_long_is_refused_and_kept(client, auth, pair):
    text = "x" * 2001
    response = _request(client, auth, pair, message=text)
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
    assert _introduction() is None


def test_messages_go_to_the_other_side_by_mail(client, auth, pair, outbox):
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"])
    refused = client.post(f"/introductions/{introduction.id}/messages", data={"body": "Hi"})
    assert refused.status_code == 400  # not accepted yet: no conversation
    client.post(f"/introductions/{introduction.id}/accept",
                data={"version": introduction.version})

    client.post(f"/introductions/{introduction.id}/messages",
                data={"body": "Can we visit on 12 January?\n<b>not bold</b>"})

    mail = outbox.last()
    assert mail["To"] == "mai@danang.example"
    assert "Can we visit on 12 January?" in mail.get_body(preferencelist=("plain",)).get_content()
    page = client.get(f"/introductions/{introduction.id}").get_data(as_text=True)
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page  # plain text, escaped


def _accepted(client, auth, pair) -> Introduction:
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"])
    client.post(f"/introductions/{introduction.id}/accept",
                data={"version": introduction.version})
    return _introduction()


def test_either_side_moves_it_forward_and_each_step_is_kept(client, auth, pair):
    introduction = _accepted(client, auth, pair)
    for stage in ("meeting", "nda", "pilot"):
        response = client.post(f"/introductions/{introduction.id}/move",
                               data={"version": introduction.version, "stage": stage})
        assert response.status_code == 302, stage
        introduction = _introduction()
    auth.logout()
    auth.login(pair["buyer"])  # the other side moves it too
    client.post(f"/introductions/{introduction.id}/move",
                data={"version": introduction.version, "stage": "contract", "note": "Signed"})

    introduction = _introduction()
    assert introduction.stage == IntroductionStage.CONTRACT
    assert [s.stage for s in introduction.steps] == ["new", "contacted", "meeting", "nda",
                                                     "pilot", "contract"]
    assert introduction.steps[-1].note == "Signed"
    assert introduction.steps[-1].actor_id == pair["buyer"].id


@pytest.mark.parametrize("stage", ["new", "contacted", "declined", "bogus"])
def test_an_illegal_move_answers_409(client, auth, pair, stage):
    introduction = _accepted(client, auth, pair)
    client.post(f"/introductions/{introduction.id}/move",
                data={"version": introduction.version, "stage": "meeting"})
    introduction = _introduction()

    response = client.post(f"/introductions/{introduction.id}/move",
                           data={"version": introduction.version, "stage": stage})

    assert response.status_code == 409
    assert _introduction().stage == IntroductionStage.MEETING


def test_the_sender_cannot_accept_their_own_request(client, auth, pair):
    _request(client, auth, pair)
    introduction = _introduction()
    response = client.post(f"/introductions/{introduction.id}/accept",
                           data={"version": introduction.version})
    assert response.status_code == 409
    assert _introduction().stage == IntroductionStage.NEW


def test_a_move_from_an_old_page_is_refused_with_a_clear_message(client, auth, pair):
    introduction = _accepted(client, auth, pair)
    old = introduction.version
    client.post(f"/introductions/{introduction.id}/move",
                data={"version": old, "stage": "meeting"})

    response = client.post(f"/introductions/{introduction.id}/move",
                           data={"version": old, "stage": "nda"})

    assert response.status_code == 409
    assert "Someone else changed this introduction" in response.get_data(as_text=True)
    assert _introduction().stage == IntroductionStage.MEETING


def test_of_two_moves_at_once_one_wins(app, pair):
    """The second mover read the same version, but the other move committed in between: the
    version check in SQL refuses it whatever it read."""
    introduction = Introduction(
        need=pair["need"], solution=pair["solution"],
        sender_org_id=pair["buyer"].organization_id,
        recipient_org_id=pair["supplier"].organization_id, sender=pair["buyer"],
        message="Hello", stage=IntroductionStage.CONTACTED,
        accepted_at=pair["need"].published_at)
    db.session.add(introduction)
    db.session.commit()
    seen = introduction.version
    # The other process's move, committed after this one loaded the card.
    db.session.execute(update(Introduction).where(Introduction.id == introduction.id)
                       .values(version=seen + 1, stage=IntroductionStage.MEETING)
                       .execution_options(synchronize_session=False))

    with pytest.raises(pipeline.MovedMeanwhile):
        pipeline.move(introduction, pair["supplier"], IntroductionStage.MEETING, seen)


def test_the_daily_limit_per_organisation(app, client, auth, pair, monkeypatch):
    monkeypatch.setitem(app.config, "INTRODUCTION_RATE_LIMIT", "2 per day")
    auth.login(pair["buyer"])
    for number in range(2):
        other = SolutionFactory(published=True)
        response = client.post(f"/introductions/new/solutions/{other.id}",
                               data={"own_listing": pair["need"].id, "message": "Hello"})
        assert response.status_code == 302, number
    refused_text = client.post(f"/introductions/new/solutions/{pair['solution'].id}",
                               data={"own_listing": pair["need"].id, "message": "Hello"})

    assert refused_text.status_code == 429
    assert "as many requests as it may today" in refused_text.get_data(as_text=True)


def test_the_board_shows_each_side_its_introductions(client, auth, pair):
    introduction = _accepted(client, auth, pair)
    outsider = UserFactory(buyer=True)

    for user in (pair["supplier"], pair["buyer"]):
        auth.logout()
        auth.login(user)
        page = client.get("/introductions").get_data(as_text=True)
        assert f"/introductions/{introduction.id}" in page
    auth.logout()
    auth.login(outsider)
    assert f"/introductions/{introduction.id}" not in client.get("/introductions").get_data(
        as_text=True)
    assert client.get(f"/introductions/{introduction.id}").status_code == 404


@pytest.mark.parametrize("action", ["new", "accept", "decline", "move", "messages", "help"])
def test_every_introduction_change_needs_the_csrf_token(app, client, auth, pair, action):
    _request(client, auth, pair)
    introduction = _introduction()
    auth.logout()
    auth.login(pair["supplier"] if action != "new" else pair["buyer"])
    path = (f"/introductions/new/solutions/{pair['solution'].id}" if action == "new"
            else f"/introductions/{introduction.id}/{action}")
    data = {"version": introduction.version, "reason": "timing", "stage": "meeting",
            "body": "Hello", "own_listing": pair["need"].id, "message": "Hello"}
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(path, data=data)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 400
    introduction = _introduction()
    assert introduction.stage == IntroductionStage.NEW and not introduction.messages
    assert introduction.help_requested_at is None
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 1


@pytest.mark.parametrize("action", ["nudge", "propose"])
def test_staff_changes_need_the_csrf_token(app, client, auth, pair, outbox, action):
    _request(client, auth, pair)
    introduction = _introduction()
    mails = len(outbox.messages())
    auth.logout()
    auth.login(UserFactory(staff=True))
    path = ("/staff/introductions/propose" if action == "propose"
            else f"/staff/introductions/{introduction.id}/nudge")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(path, data={"need_id": pair["need"].id, "message": "Hi",
                                           "solution_id": SolutionFactory(published=True).id})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 400
    assert len(outbox.messages()) == mails
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 1


def _upkeep(now):
    """The job, as a worker runs it: its events are published when its context ends."""
    result = upkeep.run(now=now)
    relay.publish_committed()
    return result


def test_an_unanswered_request_is_reminded_once_then_expires(client, auth, pair, outbox):
    _request(client, auth, pair)
    sent_at = _introduction().created_at

    assert _upkeep(sent_at + timedelta(days=6)) == (0, 0)
    assert _upkeep(sent_at + timedelta(days=8)) == (1, 0)
    assert outbox.last()["To"] == "li@yixing.example" and "Reminder" in outbox.last()["Subject"]
    assert _upkeep(sent_at + timedelta(days=9)) == (0, 0)  # once only

    assert _upkeep(sent_at + timedelta(days=31)) == (0, 1)
    introduction = _introduction()
    assert introduction.stage == IntroductionStage.EXPIRED and introduction.open_pair is None
    assert [s.stage for s in introduction.steps] == ["new", "expired"]
    assert outbox.last()["To"] == "mai@danang.example"
    assert _request(client, auth, pair, message="Trying again").status_code == 302


def test_my_organisation_shows_what_waits_for_an_answer(client, auth, pair):
    _request(client, auth, pair)
    auth.logout()
    auth.login(pair["supplier"])

    page = client.get("/my").get_data(as_text=True)

    assert "1 request waiting for your answer" in page
    assert pair["buyer"].organization.name in page and "0 days old" in page
    assert "Requested 1" in page
    assert "1 new match to look at" in page


def test_staff_propose_an_introduction_marked_as_the_centers(client, auth, pair, outbox):
    auth.login(UserFactory(staff=True))
    response = client.post("/staff/introductions/propose", data={
        "need_id": pair["need"].id, "solution_id": pair["solution"].id,
        "message": "You two should talk about the hospital's wastewater."})

    assert response.status_code == 302
    introduction = _introduction()
    assert introduction.proposed_by_id is not None and introduction.sender_id == pair["buyer"].id
    assert {m["To"] for m in outbox.messages()} == {"li@yixing.example", "mai@danang.example"}
    auth.logout()
    auth.login(pair["supplier"])
    page = client.get(f"/introductions/{introduction.id}").get_data(as_text=True)
    assert "Suggested by the China-ASEAN Environmental Cooperation Center" in page


def test_staff_see_the_timeline_but_messages_only_once_a_side_asks(client, auth, pair, outbox):
    introduction = _accepted(client, auth, pair)
    client.post(f"/introductions/{introduction.id}/messages", data={"body": "Our price list"})
    staff = UserFactory(staff=True)
    auth.logout()
    auth.login(staff)
    page = client.get(f"/staff/introductions/{introduction.id}").get_data(as_text=True)
    assert "Contacted" in page and "Our price list" not in page
    listing = client.get("/staff/introductions?stage=contacted&quiet=0").get_data(as_text=True)
    assert f"/staff/introductions/{introduction.id}" in listing
    assert client.get("/staff/introductions?stage=bogus").status_code == 400

    before = len(outbox.messages())
    assert client.post(f"/staff/introductions/{introduction.id}/nudge").status_code == 302
    assert len(outbox.messages()) == before + 2  # both sides: it is past the request

    auth.logout()
    auth.login(pair["buyer"])
    client.post(f"/introductions/{introduction.id}/help")
    auth.logout()
    auth.login(staff)
    assert "Our price list" in client.get(
        f"/staff/introductions/{introduction.id}").get_data(as_text=True)


def test_a_reader_on_daily_notice_gets_one_summary_instead(client, auth, pair, outbox):
    introduction = _accepted(client, auth, pair)  # signed in as the supplier
    auth.logout()
    auth.login(pair["buyer"])
    client.post("/my/notifications", data={"frequency": "daily", "need_matches": "y",
                                           "introduction_notice": "daily"})
    db.session.refresh(pair["buyer"])
    assert pair["buyer"].introduction_notice == "daily"
    auth.logout()
    auth.login(pair["supplier"])
    before = len(outbox.messages())
    for text in ("First question", "Second question"):
        client.post(f"/introductions/{introduction.id}/messages", data={"body": text})
    assert len(outbox.messages()) == before  # nothing at once

    assert notices.send_daily_summaries(now=utcnow() + timedelta(minutes=1)) == 1
    summary = outbox.last()
    body = summary.get_body(preferencelist=("plain",)).get_content()
    assert summary["To"] == "mai@danang.example"
    assert "First question" in body and "Second question" in body
    assert notices.send_daily_summaries(now=utcnow() + timedelta(hours=2)) == 0  # a day apart


def test_every_listing_page_and_search_result_offers_the_way_in(client, auth, pair):
    auth.login(pair["buyer"])
    link = f"/introductions/new/solutions/{pair['solution'].id}"
    assert link in client.get(f"/solutions/{pair['solution'].id}").get_data(as_text=True)
    indexing.rebuild_index("solution")
    assert link in client.get("/search?q=Membrane+bioreactor").get_data(as_text=True)
    assert link in client.get(f"/needs/{pair['need'].id}/matches").get_data(as_text=True)
    # Never towards one's own listing.
    own = f"/introductions/new/needs/{pair['need'].id}"
    assert own not in client.get(f"/needs/{pair['need'].id}").get_data(as_text=True)


def test_the_page_moves_it_with_a_note(client, auth, pair):
    introduction = _accepted(client, auth, pair)
    page = client.get(f"/introductions/{introduction.id}").get_data(as_text=True)
    assert 'name="stage" value="meeting"' in page and 'name="note"' in page

    client.post(f"/introductions/{introduction.id}/move",
                data={"version": introduction.version, "stage": "meeting",
                      "note": "Site visit in Hue on 14 January"})

    step = _introduction().steps[-1]
    assert step.stage == "meeting" and step.note == "Site visit in Hue on 14 January"
    assert "Site visit in Hue on 14 January" in client.get(
        f"/introductions/{introduction.id}").get_data(as_text=True)
