"""Registering for an event: a place while there is one, the waitlist after; cancelling frees
a place for the first on the waitlist.  Each change is confirmed by e-mail, with the event
as an ``.ics`` file, once the transaction commits."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import func, select

from marketplace.calendar import agendas, meetings
from marketplace.extensions import db
from marketplace.mailing import transport
from marketplace.models import Event, EventRegistration, User
from marketplace.models._time import utcnow
from marketplace.models.states import RegistrationStatus


class RegistrationError(Exception):
    """Why this person cannot register now; shown to them."""


def registration_of(user: User, event: Event) -> EventRegistration | None:
    return db.session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.user_id == user.id))


def places_taken(event: Event) -> int:
    return db.session.scalar(select(func.count()).select_from(EventRegistration).where(
        EventRegistration.event_id == event.id,
        EventRegistration.status == RegistrationStatus.REGISTERED))


def is_full(event: Event) -> bool:
    return event.capacity is not None and places_taken(event) >= event.capacity


def register(user: User, event: Event) -> EventRegistration:
    """A place, or the waitlist if the event is full."""
    if user.organization_id is None:
        raise RegistrationError(_l("Registration is for members of an organisation."))
    if (event.ends_on or event.starts_on) < date.today():
        raise RegistrationError(_l("This event is over."))
    registration = registration_of(user, event)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        raise RegistrationError(_l("You are already registered."))
    full = is_full(event)  # counted before this registration joins the session
    if registration is None:
        registration = EventRegistration(event=event, user=user,
                                         organization_id=user.organization_id)
        db.session.add(registration)
    registration.created_at, registration.cancelled_at = utcnow(), None
    registration.status = RegistrationStatus.WAITLISTED if full \
        else RegistrationStatus.REGISTERED
    registration.confirmed_at = None if full else utcnow()
    db.session.flush()
    meetings.queue_mail("event_waitlisted" if full else "event_registered", registration)
    return registration


def cancel(user: User, event: Event) -> None:
    registration = registration_of(user, event)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise RegistrationError(_l("You are not registered for this event."))
    had_place = registration.status == RegistrationStatus.REGISTERED
    registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, utcnow()
    meetings.withdraw(registration)
    db.session.flush()
    meetings.queue_mail("event_cancelled", registration)
    if had_place:
        _move_up_the_waitlist(event)


def _move_up_the_waitlist(event: Event) -> None:
    first = db.session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id,
        EventRegistration.status == RegistrationStatus.WAITLISTED)
        .order_by(EventRegistration.created_at, EventRegistration.id).limit(1))
    if first is not None and not is_full(event):
        first.status, first.confirmed_at = RegistrationStatus.REGISTERED, utcnow()
        db.session.flush()
        meetings.queue_mail("event_registered", first)




def send_mail(name: str, registration_id: int, request_id: int | None = None,
              meeting_id: int | None = None) -> int:
    """The ``calendar.send_mail`` job: the confirmation, with the event's ``.ics``; or one of
    the meeting mails (``agendas.MAILS``)."""
    registration = db.session.get(EventRegistration, registration_id)
    if registration is None or not registration.user.is_active_account:
        return 0
    if name in agendas.MAILS:
        return agendas.send_mail(name, registration, request_id, meeting_id)
    user, event = registration.user, registration.event
    attachments = () if name == "event_cancelled" else (
        transport.Attachment("event.ics", "text/calendar", ics(event)),)
    transport.send_email(name, user.email, user.language, user=user, event=event,
                         attachments=attachments,
                         link=transport.external_url("calendar.detail", event_id=event.id))
    return 1


def ics(event: Event) -> bytes:
    """The event as an iCalendar file; its UID stays the same whatever changes."""
    calendar = Calendar()
    calendar.add("prodid", "-//EST Marketplace//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@est-marketplace")
    entry.add("dtstamp", utcnow())
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_on)
    entry.add("dtend", (event.ends_on or event.starts_on) + timedelta(days=1))  # exclusive
    if event.location:
        entry.add("location", event.location)
    entry.add("url", transport.external_url("calendar.detail", event_id=event.id))
    calendar.add_component(entry)
    return calendar.to_ical()
