"""A participant's agenda: their meetings in time order, each with its table, the person and
organisation they meet, the listings it is about and the match's reasons; as a page, as
``.ics`` files (one per meeting, and the whole agenda), and by e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import or_, select

from marketplace.calendar import meetings
from marketplace.discovery.explanations import explain
from marketplace.extensions import db
from marketplace.mailing import transport
from marketplace.models import EventRegistration, Meeting, MeetingRequest, MeetingSlot
from marketplace.models._time import utcnow
from marketplace.models.states import MeetingStatus, ScheduleState

MEETING_STATES = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.NO_SHOW)


@dataclass(frozen=True)
class AgendaItem:
    meeting: Meeting
    counterpart: EventRegistration
    own_listing: object
    their_listing: object
    reasons: list[str]


def agenda(registration: EventRegistration) -> list[AgendaItem]:
    """The participant's placed meetings, earliest first (empty until staff publish)."""
    if registration.event.schedule_state == ScheduleState.DRAFT:
        return []
    rows = db.session.scalars(
        select(Meeting).join(MeetingRequest).join(MeetingSlot, Meeting.slot_id == MeetingSlot.id)
        .where(or_(MeetingRequest.requester_id == registration.id,
                   MeetingRequest.recipient_id == registration.id),
               Meeting.status.in_(MEETING_STATES))
        .order_by(MeetingSlot.starts_at, Meeting.id)).all()
    return [item(meeting, registration) for meeting in rows]


def item(meeting: Meeting, registration: EventRegistration) -> AgendaItem:
    request = meeting.request
    own_need = request.need.organization_id == registration.organization_id
    return AgendaItem(meeting, request.other(registration.id),
                      request.need if own_need else request.solution,
                      request.solution if own_need else request.need,
                      explain(request.match.reasons) if request.match else [])


def meeting_ics(meeting: Meeting, registration: EventRegistration) -> bytes:
    """One meeting; sent as METHOD:CANCEL once it is cancelled."""
    cancelled = meeting.status == MeetingStatus.CANCELLED
    calendar = _calendar("CANCEL" if cancelled else "PUBLISH")
    calendar.add_component(_entry(meeting, registration, cancelled))
    return calendar.to_ical()


def agenda_ics(registration: EventRegistration) -> bytes:
    calendar = _calendar("PUBLISH")
    for entry in agenda(registration):
        calendar.add_component(_entry(entry.meeting, registration, False))
    return calendar.to_ical()


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//EST Marketplace//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _entry(meeting: Meeting, registration: EventRegistration, cancelled: bool) -> CalendarEvent:
    entry = CalendarEvent()
    entry.add("uid", meeting.uid)  # the same through every change, so clients replace it
    entry.add("sequence", meeting.sequence)
    entry.add("dtstamp", utcnow())
    event = meeting.event
    counterpart = meeting.request.other(registration.id)
    entry.add("summary", f"{event.title}: {counterpart.organization.name}")
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if meeting.slot is not None:
        entry.add("dtstart", meeting.slot.starts_at)
        entry.add("dtend", meeting.slot.ends_at)
    if cancelled:
        return entry
    where = ", ".join(part for part in (event.location, f"Table {meeting.table}") if part)
    entry.add("location", where)
    shown = item(meeting, registration)
    entry.add("description", "\n".join([
        f"{counterpart.user.name} ({counterpart.organization.name})",
        f"{shown.own_listing.title} <-> {shown.their_listing.title}", *shown.reasons]))
    entry.add("url", transport.external_url("meetings.agenda", event_id=event.id))
    return entry


# The mails of the meeting flow; ``calendar.registration.send_mail`` hands them here.
MAILS = ("meeting_requested", "meeting_accepted", "meeting_declined", "agenda",
         "meeting_changed", "meeting_cancelled")


def send_mail(name: str, registration: EventRegistration, request_id: int | None,
              meeting_id: int | None) -> int:
    # The match's reasons are worded in the reader's language, outside any request.
    with force_locale(registration.user.language):
        return _send_mail(name, registration, request_id, meeting_id)


def _send_mail(name: str, registration: EventRegistration, request_id: int | None,
               meeting_id: int | None) -> int:
    user, event = registration.user, registration.event
    request = db.session.get(MeetingRequest, request_id) if request_id else None
    meeting = db.session.get(Meeting, meeting_id) if meeting_id else None
    attachments: tuple = ()
    items = []
    if name == "agenda":
        items = agenda(registration)
        if not items:
            return 0
        attachments = (transport.Attachment("agenda.ics", "text/calendar",
                                            agenda_ics(registration)),)
    elif meeting is not None:
        attachments = (transport.Attachment("meeting.ics", "text/calendar",
                                            meeting_ics(meeting, registration)),)
        if meeting.status != MeetingStatus.CANCELLED:
            items = [item(meeting, registration)]
    transport.send_email(
        name, user.email, user.language, user=user, event=event, request=request,
        meeting=meeting, items=items, venue_time=meetings.venue_time,
        counterpart=request.other(registration.id) if request else
        (meeting.request.other(registration.id) if meeting else None),
        attachments=attachments,
        link=transport.external_url("meetings.hub", event_id=event.id))
    return 1
