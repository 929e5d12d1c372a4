"""B2B meetings at an event (issue 13, items 2-5), on both databases: availability,
suggestions (delivered matches only; never dismissed or declined pairs), requests and
answers, the scheduler, publishing and change notices with their .ics, check-in, outcomes,
the introduction a held meeting moves, and the event's report."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from marketplace.calendar import meetings, registration, schedule
from marketplace.extensions import db
from marketplace.models import (
    Event,
    Introduction,
    Match,
    Meeting,
    MeetingRequest,
)
from marketplace.outbox import relay
from tests.factories import MatchFactory, NeedFactory, SolutionFactory, UserFactory


@pytest.fixture
def day(app):
    event = Event(title="Yixing B2B day", kind="b2b", base="yixing", location="Yixing",
                  starts_on=date.today() + timedelta(days=20))
    db.session.add(event)
    db.session.flush()
    meetings.set_up(event, day=event.starts_on, first=time(9, 0), count=3, minutes=25, gap=5,
                    tables=2, cap=3)
    db.session.commit()
    return event


@pytest.fixture
def people(day):
    """A supplier and a buyer whose listings are a delivered match, both registered."""
    supplier, buyer = UserFactory(name="Su Pplier"), UserFactory(buyer=True, name="Bu Yer")
    solution = SolutionFactory(organization=supplier.organization, published=True,
                               title="Membrane bioreactor")
    need = NeedFactory(organization=buyer.organization, published=True,
                       title="Hospital wastewater")
    db.session.commit()
    relay.publish_committed()  # the matcher runs now, not later over the ledger set below
    match = delivered_match(need, solution)
    places = {who: registration.register(user, day)
              for who, user in (("supplier", supplier), ("buyer", buyer))}
    db.session.commit()
    return {"supplier": supplier, "buyer": buyer, "need": need, "solution": solution,
            "match": match, **{f"{who}_place": place for who, place in places.items()}}


def delivered_match(need, solution, **values) -> Match:
    match = db.session.scalar(select(Match).where(Match.need_id == need.id,
                                                  Match.solution_id == solution.id)) \
        or MatchFactory(need=need, solution=solution)
    values = {"score": 0.8, "delivered": True, "evidence": 1.0,
              "reasons": [{"kind": "concepts", "detail": {"terms": ["membrane bioreactor"]}}],
              **values}
    for name, value in values.items():
        setattr(match, name, value)
    db.session.commit()
    return match


def _suggested(place) -> list[int]:
    db.session.expire_all()
    return [s.counterpart.id for s in meetings.suggestions(place)]


def _request(client, auth, people, reason="We treat hospital wastewater: can we talk?"):
    auth.login(people["supplier"])
    day = people["supplier_place"].event_id
    response = client.post(f"/events/{day}/meetings/requests", data={
        "recipient": people["buyer_place"].id,
        "listings": f"{people['need'].id}:{people['solution'].id}", "reason": reason})
    auth.logout()
    return response


def test_suggestions_come_from_delivered_matches_only(day, people):
    assert _suggested(people["supplier_place"]) == [people["buyer_place"].id]
    assert _suggested(people["buyer_place"]) == [people["supplier_place"].id]

    undelivered, dismissed = UserFactory(buyer=True), UserFactory(buyer=True)
    needs = [NeedFactory(organization=user.organization, published=True)
             for user in (undelivered, dismissed)]
    db.session.commit()
    relay.publish_committed()
    delivered_match(needs[0], people["solution"], delivered=False)
    delivered_match(needs[1], people["solution"], supplier_state="dismissed")
    for user in (undelivered, dismissed):
        registration.register(user, day)
    db.session.commit()
    assert _suggested(people["supplier_place"]) == [people["buyer_place"].id]


def test_a_pair_whose_introduction_was_declined_is_not_suggested(day, people):
    db.session.add(Introduction(need=people["need"], solution=people["solution"],
                                sender_org_id=people["supplier"].organization_id,
                                recipient_org_id=people["buyer"].organization_id,
                                message="Hello", stage="declined"))
    db.session.commit()
    assert _suggested(people["supplier_place"]) == []


def test_request_then_accept(client, auth, day, people, outbox):
    page = (auth.login(people["supplier"]), client.get(f"/events/{day.id}/meetings"))[1]
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "People you should meet here" in text
    # The counterpart, and the match's reason.
    assert "Bu Yer" in text and "membrane bioreactor" in text
    profile = f"/events/{day.id}/participants/{people['buyer_place'].id}"
    assert profile in text  # everyone taking part, for a request beyond the suggestions
    assert "Hospital wastewater ↔ Membrane bioreactor" in client.get(profile).get_data(
        as_text=True)
    auth.logout()

    assert _request(client, auth, people, reason="").status_code == 400
    assert _request(client, auth, people).status_code == 302
    mail = outbox.last()
    assert mail["To"] == people["buyer"].email and "would like to meet you" in mail["Subject"]
    assert _request(client, auth, people).status_code == 409  # one request per pair
    assert _suggested(people["supplier_place"]) == []  # asked: no longer a suggestion

    row = db.session.scalar(select(MeetingRequest))
    auth.login(people["supplier"])  # the sender cannot answer their own request
    assert client.post(f"/events/{day.id}/meetings/requests/{row.id}/accept").status_code == 409
    auth.logout()
    auth.login(people["buyer"])
    text = client.get(f"/events/{day.id}/meetings").get_data(as_text=True)
    assert "We treat hospital wastewater" in text
    assert client.post(f"/events/{day.id}/meetings/requests/{row.id}/accept").status_code == 302
    db.session.expire_all()
    assert db.session.get(MeetingRequest, row.id).status == "accepted"
    assert "accepted your meeting request" in outbox.last()["Subject"]


def test_a_declined_pair_is_never_suggested_or_scheduled(client, auth, day, people, outbox):
    _request(client, auth, people)
    row = db.session.scalar(select(MeetingRequest))
    auth.login(people["buyer"])
    url = f"/events/{day.id}/meetings/requests/{row.id}/decline"
    assert client.post(url, data={"reason": "other"}).status_code == 409  # "other" needs words
    assert client.post(url, data={"reason": "nonsense"}).status_code == 400
    assert client.post(url, data={"reason": "timing"}).status_code == 302
    assert "declined your meeting request" in outbox.last()["Subject"]
    db.session.expire_all()
    assert _suggested(people["supplier_place"]) == _suggested(people["buyer_place"]) == []
    instance = schedule.instance_for(day)
    assert instance.requests == [] and frozenset(
        (people["supplier_place"].id, people["buyer_place"].id)) in instance.declined
    auth.logout()
    assert _request(client, auth, people).status_code == 409


def _accepted(people) -> MeetingRequest:
    row = meetings.request_meeting(people["supplier_place"], people["buyer_place"],
                                   people["need"], people["solution"], "Let us meet")
    meetings.accept(row, people["buyer_place"])
    db.session.commit()
    relay.publish_committed()
    return row


def _ics(message) -> Calendar:
    [attachment] = [p for p in message.iter_attachments()
                    if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(attachment.get_content())


def test_availability_is_kept_by_the_scheduler(client, auth, day, people):
    first, second, third = meetings.slots(day)
    auth.login(people["buyer"])
    assert client.post(f"/events/{day.id}/meetings/availability",
                       data={"slots": [third.id]}).status_code == 302
    assert client.post(f"/events/{day.id}/meetings/availability",
                       data={"slots": ["x"]}).status_code == 400
    db.session.expire_all()
    assert meetings.unavailable_slot_ids(people["buyer_place"]) == {first.id, second.id}
    _accepted(people)
    schedule.run(day, time_limit=2)
    db.session.commit()
    assert db.session.scalar(select(Meeting)).slot_id == third.id


def test_publish_agendas_then_change_notices(client, auth, day, people, outbox):
    row = _accepted(people)
    schedule.run(day, time_limit=2)
    db.session.commit()
    meeting = db.session.scalar(select(Meeting))
    auth.login(people["buyer"])
    assert "not published yet" in client.get(f"/events/{day.id}/meetings").get_data(as_text=True)
    auth.logout()

    assert schedule.publish(day, "preliminary") == 2
    db.session.commit()
    relay.publish_committed()
    agendas_sent = [m for m in outbox.messages() if "Your agenda" in m["Subject"]]
    assert {m["To"] for m in agendas_sent} == {people["buyer"].email, people["supplier"].email}
    [entry] = _ics(agendas_sent[0]).walk("VEVENT")
    uid, first_sequence = str(entry["UID"]), int(entry["SEQUENCE"])
    assert uid == f"meeting-{row.id}@est-marketplace"

    auth.login(people["buyer"])
    page = client.get(f"/events/{day.id}/agenda").get_data(as_text=True)
    assert "Su Pplier" in page and "Both are about: membrane bioreactor" in page
    ics = client.get(f"/events/{day.id}/meetings/{meeting.id}.ics")
    assert ics.headers["Content-Type"].startswith("text/calendar")
    [whole] = Calendar.from_ical(client.get(f"/events/{day.id}/agenda.ics").data).walk("VEVENT")
    assert str(whole["UID"]) == uid
    auth.logout()

    other_slot = next(s for s in meetings.slots(day) if s.id != meeting.slot_id)
    schedule.move(meeting, other_slot.id, 2)
    db.session.commit()
    relay.publish_committed()
    changed = outbox.last()
    assert "changed" in changed["Subject"]
    [entry] = _ics(changed).walk("VEVENT")
    assert str(entry["UID"]) == uid and int(entry["SEQUENCE"]) > first_sequence

    registration.cancel(people["supplier"], day)  # their meetings go with their place
    db.session.commit()
    relay.publish_committed()
    cancelled = [m for m in outbox.messages() if "cancelled" in m["Subject"]
                 and m["To"] == people["buyer"].email]
    calendar = _ics(cancelled[-1])
    assert str(calendar["METHOD"]) == "CANCEL"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["UID"]) == uid and str(entry["STATUS"]) == "CANCELLED"


def test_a_move_that_breaks_a_rule_is_refused(app, day, people):
    _accepted(people)
    other = UserFactory(buyer=True)
    need = NeedFactory(organization=other.organization, published=True)
    db.session.commit()
    place = registration.register(other, day)
    row = meetings.request_meeting(people["supplier_place"], place, need, people["solution"],
                                   "Also you")
    meetings.accept(row, place)
    db.session.commit()
    schedule.run(day, time_limit=2)
    db.session.commit()
    first, second = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()
    assert first.slot_id != second.slot_id  # the supplier is in both
    with app.test_request_context():  # the refusal is worded for the reader
        with pytest.raises(meetings.MeetingError, match="double-booked"):
            schedule.move(second, first.slot_id, 2)
        with pytest.raises(meetings.MeetingError, match="past the tables"):
            schedule.move(second, second.slot_id, 3)


def test_check_in_a_held_meeting_moves_the_introduction(client, auth, day, people):
    row = _accepted(people)
    schedule.run(day, time_limit=2)
    schedule.publish(day, "final")
    db.session.commit()
    meeting = db.session.scalar(select(Meeting))
    auth.login(people["buyer"])
    assert client.post(f"/events/{day.id}/check-in").status_code == 302
    response = client.post(f"/events/{day.id}/meetings/{meeting.id}/outcome",
                           data={"outcome": "held"})
    assert response.status_code == 302
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.status == "held" and meeting.request_id == row.id
    introduction = meeting.introduction
    assert introduction is not None and introduction.stage == "meeting"
    assert introduction.accepted_at is not None  # they met: the contacts are shared
    assert {introduction.need_id, introduction.solution_id} == {
        people["need"].id, people["solution"].id}


def test_a_held_meeting_advances_an_open_introduction(client, auth, day, people):
    open_one = Introduction(need=people["need"], solution=people["solution"],
                            sender_org_id=people["buyer"].organization_id,
                            recipient_org_id=people["supplier"].organization_id,
                            message="Hello", stage="contacted",
                            open_pair=f"{people['need'].id}:{people['solution'].id}")
    db.session.add(open_one)
    _accepted(people)
    schedule.run(day, time_limit=2)
    schedule.publish(day, "preliminary")
    db.session.commit()
    meeting = db.session.scalar(select(Meeting))
    auth.login(UserFactory(staff=True))
    response = client.post(f"/events/{day.id}/meetings/{meeting.id}/outcome",
                           data={"outcome": "held", "back": "staff"})
    assert response.status_code == 302 and "/staff/events/" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Introduction, open_one.id).stage == "meeting"
    assert db.session.scalar(select(Meeting)).introduction_id == open_one.id
    assert len(db.session.scalars(select(Introduction)).all()) == 1


def test_a_no_show_and_the_report(client, auth, day, people):
    _accepted(people)
    schedule.run(day, time_limit=2)
    schedule.publish(day, "final")
    meetings.check_in(people["buyer_place"])
    db.session.commit()
    meeting = db.session.scalar(select(Meeting))
    auth.login(people["supplier"])
    client.post(f"/events/{day.id}/meetings/{meeting.id}/outcome", data={"outcome": "no_show"})
    auth.logout()
    auth.login(UserFactory(staff=True))
    page = client.get(f"/staff/events/{day.id}/report").get_data(as_text=True)
    assert "Acceptance rate" in page and "100 %" in page
    csv_text = client.get(f"/staff/events/{day.id}/report.csv").get_data(as_text=True)
    assert "registered,2" in csv_text and "checked_in,1" in csv_text
    assert "requests_accepted,1" in csv_text and "meetings_no_show,1" in csv_text
    assert "meetings_held,0" in csv_text and "Bu Yer" in csv_text


def test_waitlisted_people_and_strangers_see_no_meetings(client, auth, day, people):
    stranger = UserFactory(buyer=True)
    auth.login(stranger)
    assert client.get(f"/events/{day.id}/meetings").status_code == 403
    assert client.get(f"/events/{day.id}/agenda").status_code == 403
    auth.logout()
    _accepted(people)
    schedule.run(day, time_limit=2)
    schedule.publish(day, "preliminary")
    db.session.commit()
    meeting = db.session.scalar(select(Meeting))
    third = UserFactory(buyer=True)
    registration.register(third, day)
    db.session.commit()
    auth.login(third)  # a participant, but not in this meeting
    assert client.get(f"/events/{day.id}/meetings/{meeting.id}.ics").status_code == 404
    assert client.post(f"/events/{day.id}/meetings/{meeting.id}/outcome",
                       data={"outcome": "held"}).status_code == 403


def test_staff_set_up_schedule_move_and_publish(client, auth, day, people, outbox):
    _accepted(people)
    auth.login(UserFactory(staff=True))
    bad = client.post(f"/staff/events/{day.id}/meetings/setup", data={
        "day": day.starts_on.isoformat(), "first": "09:00", "count": "4", "minutes": "17",
        "gap": "5", "tables": "3", "cap": "4"})
    assert bad.status_code == 400
    assert client.post(f"/staff/events/{day.id}/meetings/setup", data={
        "day": day.starts_on.isoformat(), "first": "09:00", "count": "4", "minutes": "20",
        "gap": "5", "tables": "3", "cap": "4"}).status_code == 302
    assert len(meetings.slots(day)) == 4
    assert client.post(f"/staff/events/{day.id}/meetings/publish",
                       data={"state": "final"}).status_code == 409  # nothing placed yet
    assert client.post(f"/staff/events/{day.id}/meetings/schedule").status_code == 302
    page = client.get(f"/staff/events/{day.id}/meetings").get_data(as_text=True)
    assert "Su Pplier" in page and "Bu Yer" in page
    meeting = db.session.scalar(select(Meeting))
    slots = meetings.slots(day)
    assert client.post(f"/staff/events/{day.id}/meetings/{meeting.id}/move",
                       data={"slot": slots[3].id, "table": "9"}).status_code == 409
    assert client.post(f"/staff/events/{day.id}/meetings/{meeting.id}/move",
                       data={"slot": slots[3].id, "table": "3"}).status_code == 302
    assert client.post(f"/staff/events/{day.id}/meetings/publish",
                       data={"state": "preliminary"}).status_code == 302
    assert client.post(f"/staff/events/{day.id}/meetings/publish",
                       data={"state": "preliminary"}).status_code == 409
    assert client.post(f"/staff/events/{day.id}/meetings/setup", data={
        "day": day.starts_on.isoformat(), "first": "09:00", "count": "4", "minutes": "20",
        "gap": "5", "tables": "3", "cap": "4"}).status_code == 409  # published: slots stay
    assert client.post(f"/staff/events/{day.id}/registrations/{people['buyer_place'].id}"
                       "/check-in").status_code == 302
    db.session.expire_all()
    assert db.session.get(type(people["buyer_place"]), people["buyer_place"].id).checked_in_at


def test_the_schedule_command(runner, day, people):
    _accepted(people)
    result = runner.invoke(args=["events", "schedule", str(day.id), "--time-limit", "1"])
    assert result.exit_code == 0, result.output
    assert "1 meetings placed" in result.output and "greedy baseline placed 1" in result.output
    assert runner.invoke(args=["events", "schedule", "999999"]).exit_code != 0


# Every state change of the meetings needs the CSRF token: (who, path, form data).
CSRF_CASES = {
    "availability": ("buyer", "/events/{day}/meetings/availability", {"slots": []}),
    "request": ("supplier", "/events/{day}/meetings/requests",
                {"recipient": "{buyer_place}", "listings": "{need}:{solution}", "reason": "Hi"}),
    "accept": ("buyer", "/events/{day}/meetings/requests/{request}/accept", {}),
    "decline": ("buyer", "/events/{day}/meetings/requests/{request}/decline",
                {"reason": "timing"}),
    "outcome": ("buyer", "/events/{day}/meetings/{meeting}/outcome", {"outcome": "held"}),
    "check-in": ("buyer", "/events/{day}/check-in", {}),
    "setup": ("staff", "/staff/events/{day}/meetings/setup",
              {"day": "2099-01-01", "first": "09:00", "count": "2", "minutes": "25",
               "gap": "5", "tables": "2", "cap": "2"}),
    "schedule": ("staff", "/staff/events/{day}/meetings/schedule", {}),
    "move": ("staff", "/staff/events/{day}/meetings/{meeting}/move",
             {"slot": "{slot}", "table": "2"}),
    "publish": ("staff", "/staff/events/{day}/meetings/publish", {"state": "final"}),
    "staff check-in": ("staff", "/staff/events/{day}/registrations/{buyer_place}/check-in", {}),
}


@pytest.mark.parametrize("case", CSRF_CASES)
def test_every_meeting_change_needs_the_csrf_token(app, client, auth, day, people, case):
    request = meetings.request_meeting(people["supplier_place"], people["buyer_place"],
                                       people["need"], people["solution"], "Let us meet")
    db.session.commit()
    meeting = Meeting(event=day, request=request, slot_id=meetings.slots(day)[0].id, table=1)
    db.session.add(meeting)
    day.schedule_state = "preliminary"
    db.session.commit()
    ids = {"day": day.id, "buyer_place": people["buyer_place"].id, "request": request.id,
           "meeting": meeting.id, "need": people["need"].id, "solution": people["solution"].id,
           "slot": meetings.slots(day)[1].id}
    who, path, data = CSRF_CASES[case]
    auth.login(UserFactory(staff=True) if who == "staff" else people[who])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(path.format(**ids),
                               data={k: v.format(**ids) if isinstance(v, str) else v
                                     for k, v in data.items()})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(MeetingRequest, request.id).status == "requested"
    meeting = db.session.get(Meeting, meeting.id)
    assert (meeting.status, meeting.slot_id, meeting.table) == (
        "scheduled", ids["slot"] - 1, 1)
    assert db.session.get(Event, day.id).schedule_state == "preliminary"
    assert len(meetings.slots(day)) == 3 and not meetings.unavailable_slot_ids(
        people["buyer_place"])
    assert people["buyer_place"].checked_in_at is None
    assert len(meetings.requests_of(people["buyer_place"])) == 1
