"""Event registration (issue 13, item 1): a place or the waitlist, cancelling moves the
waitlist up, and each step is confirmed by e-mail with the event as an .ics file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Event, EventRegistration
from tests.factories import SolutionFactory, UserFactory


@pytest.fixture
def fair():
    event = Event(title="Yixing B2B day", kind="b2b", base="yixing", location="Yixing",
                  starts_on=date.today() + timedelta(days=30), capacity=1,
                  programme="## Morning\n\nPitches by the exhibitors.")
    db.session.add(event)
    db.session.commit()
    return event


def _status(user, event) -> str | None:
    db.session.expire_all()
    row = db.session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.user_id == user.id))
    return row.status if row else None


def test_the_event_page_shows_the_programme_and_a_calendar_file(client, fair):
    page = client.get(f"/events/{fair.id}").get_data(as_text=True)
    assert "Yixing B2B day" in page and "Pitches by the exhibitors." in page
    assert "B2B brokerage" in page and "Sign in to register" in page
    assert "Yixing B2B day" in client.get("/events").get_data(as_text=True)

    response = client.get(f"/events/{fair.id}/event.ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    [entry] = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Yixing B2B day"
    assert str(entry["UID"]) == f"event-{fair.id}@est-marketplace"
    assert entry.decoded("DTSTART") == fair.starts_on


def test_a_place_then_the_waitlist_then_moving_up(client, auth, fair, outbox):
    first, second = UserFactory(email="first@example.org"), UserFactory(buyer=True)
    auth.login(first)
    assert client.post(f"/events/{fair.id}/register").status_code == 302
    assert _status(first, fair) == "registered"
    confirmation = outbox.last()
    assert confirmation["To"] == "first@example.org"
    [attachment] = list(confirmation.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert Calendar.from_ical(attachment.get_content()).walk("VEVENT")

    auth.logout()
    auth.login(second)
    client.post(f"/events/{fair.id}/register")
    assert _status(second, fair) == "waitlisted"
    assert "waitlist" in outbox.last()["Subject"]
    again = client.post(f"/events/{fair.id}/register")
    assert again.status_code == 409 and "already registered" in again.get_data(as_text=True)

    auth.logout()
    auth.login(first)
    client.post(f"/events/{fair.id}/cancel")
    assert _status(first, fair) == "cancelled"
    assert _status(second, fair) == "registered"  # the waitlist moved up
    assert outbox.last()["To"] == second.email and "registered" in outbox.last()["Subject"]


def test_a_past_event_takes_no_registration(client, auth, fair):
    fair.starts_on = date.today() - timedelta(days=3)
    db.session.commit()
    auth.login(UserFactory())
    response = client.post(f"/events/{fair.id}/register")
    assert response.status_code == 409 and "This event is over." in response.get_data(
        as_text=True)


def test_staff_set_the_capacity_and_the_programme(client, auth, fair):
    auth.login(UserFactory(staff=True))
    response = client.post(f"/staff/events/{fair.id}/edit", data={
        "title": fair.title, "kind": "b2b", "base": "yixing",
        "starts_on": fair.starts_on.isoformat(), "capacity": "80",
        "programme": "Meetings all afternoon"})
    assert response.status_code == 302
    db.session.refresh(fair)
    assert fair.capacity == 80 and fair.programme == "Meetings all afternoon"
    bad = client.post(f"/staff/events/{fair.id}/edit", data={
        "title": fair.title, "kind": "b2b", "base": "yixing",
        "starts_on": fair.starts_on.isoformat(), "capacity": "-3"})
    assert bad.status_code == 400


def test_a_registered_supplier_chooses_what_it_exhibits(client, auth, fair):
    supplier = UserFactory()
    shown = SolutionFactory(organization=supplier.organization, published=True,
                            title="Membrane bioreactor")
    SolutionFactory(organization=supplier.organization, published=True, title="Not shown")
    others = SolutionFactory(published=True)
    auth.login(supplier)
    refused = client.post(f"/events/{fair.id}/exhibits", data={"solutions": [shown.id]})
    assert refused.status_code == 409  # not registered yet

    client.post(f"/events/{fair.id}/register")
    assert client.post(f"/events/{fair.id}/exhibits",
                       data={"solutions": [others.id]}).status_code == 400  # not theirs
    assert client.post(f"/events/{fair.id}/exhibits",
                       data={"solutions": [shown.id]}).status_code == 302

    auth.logout()
    page = client.get(f"/events/{fair.id}").get_data(as_text=True)
    assert supplier.organization.name in page and "Membrane bioreactor" in page
    assert "Not shown" not in page


def test_the_event_page_title_is_the_events_own(client, fair):
    page = client.get(f"/events/{fair.id}").get_data(as_text=True)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Yixing B2B day") and "Exhibitors" not in title
