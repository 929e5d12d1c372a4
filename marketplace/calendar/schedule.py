"""An event's meeting schedule in the database: the scheduler's instance built from it, its
result applied to it, manual moves, cancellations and publishing.

Every change to a meeting bumps its ``sequence``.  Once the schedule is published
(preliminary or final) each change is mailed to the two people with the updated ``.ics``, and
a meeting that no longer fits is sent as cancelled.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.calendar import meetings, scheduler
from marketplace.extensions import db
from marketplace.models import Event, Meeting, MeetingRequest, MeetingSlot
from marketplace.models._time import utcnow
from marketplace.models.states import MeetingRequestStatus, MeetingStatus, ScheduleState

DEFAULT_TIME_LIMIT = 20.0  # seconds for CP-SAT; the greedy baseline takes milliseconds


def instance_for(event: Event) -> scheduler.Instance:
    """The scheduler's view of the event: accepted requests between people who still have a
    place, each person's availability, and the declined pairs."""
    people = {r.id: r for r in meetings.participants(event)}
    event_slots = [slot.id for slot in meetings.slots(event)]
    requests = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id)).all()
    accepted = [scheduler.Request(
        r.id, (r.requester_id, r.recipient_id),
        (people[r.requester_id].organization_id, people[r.recipient_id].organization_id),
        r.match.score if r.match else 0.0)
        for r in requests if r.status == MeetingRequestStatus.ACCEPTED
        and r.requester_id in people and r.recipient_id in people]
    available = {person.id: frozenset(event_slots) - meetings.unavailable_slot_ids(person)
                 for person in people.values()}
    declined = frozenset(frozenset((r.requester_id, r.recipient_id)) for r in requests
                         if r.status == MeetingRequestStatus.DECLINED)
    return scheduler.Instance(event_slots, event.meeting_tables or 0, event.meeting_cap,
                              accepted, available, declined)


def current(event: Event) -> scheduler.Schedule:
    """The meetings placed now, as the scheduler writes them."""
    return {m.request_id: (m.slot_id, m.table) for m in _meetings(event)
            if m.status == MeetingStatus.SCHEDULED and m.slot_id is not None}


def run(event: Event, time_limit: float = DEFAULT_TIME_LIMIT) -> scheduler.Result:
    """Schedule (or re-schedule) the event's accepted requests and save the result."""
    if not meetings.has_meetings(event) or not meetings.slots(event):
        raise meetings.MeetingError(_l("Set the slots and tables first."))
    instance = instance_for(event)
    result = scheduler.solve(instance, time_limit=time_limit, previous=current(event))
    problems = scheduler.violations(instance, result.schedule)
    if problems:  # never saved: the property tests make this unreachable
        raise RuntimeError("; ".join(problems))
    apply(event, result.schedule)
    return result


def apply(event: Event, schedule: scheduler.Schedule) -> None:
    """Make the meetings match ``schedule``: new ones placed, moved ones moved, the others
    cancelled.  Meetings already held or missed are history and stay as they are."""
    existing = {m.request_id: m for m in _meetings(event)}
    for request_id, (slot_id, table) in schedule.items():
        meeting = existing.get(request_id)
        if meeting is None:
            meeting = Meeting(event=event, request_id=request_id,
                              status=MeetingStatus.CANCELLED, sequence=0)
            db.session.add(meeting)
            db.session.flush()
            _place(meeting, slot_id, table)
        elif meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.CANCELLED):
            _place(meeting, slot_id, table)
    for request_id, meeting in existing.items():
        if request_id not in schedule and meeting.status == MeetingStatus.SCHEDULED:
            cancel(meeting)
    db.session.flush()


def move(meeting: Meeting, slot_id: int, table: int) -> None:
    """Staff move a meeting by hand; refused if the schedule would break any rule."""
    if meeting.status != MeetingStatus.SCHEDULED:
        raise meetings.MeetingError(_l("Only a scheduled meeting can be moved."))
    event = meeting.event
    proposal = current(event) | {meeting.request_id: (slot_id, table)}
    problems = scheduler.violations(instance_for(event), proposal)
    if problems:
        raise meetings.MeetingError(_l("That move breaks a rule: %(problems)s",
                                       problems="; ".join(problems)))
    _place(meeting, slot_id, table)
    db.session.flush()


def cancel(meeting: Meeting) -> None:
    # The slot stays on the row, so the cancellation can say which time it frees.
    meeting.status = MeetingStatus.CANCELLED
    _changed(meeting, "meeting_cancelled")


def _place(meeting: Meeting, slot_id: int, table: int) -> None:
    if meeting.status == MeetingStatus.SCHEDULED and \
            (meeting.slot_id, meeting.table) == (slot_id, table):
        return
    meeting.status, meeting.slot_id, meeting.table = MeetingStatus.SCHEDULED, slot_id, table
    meeting.slot = db.session.get(MeetingSlot, slot_id)
    _changed(meeting, "meeting_changed")


def _changed(meeting: Meeting, mail: str) -> None:
    meeting.sequence += 1
    meeting.updated_at = utcnow()
    if meeting.event.schedule_state != ScheduleState.DRAFT:
        db.session.flush()
        for person in (meeting.request.requester, meeting.request.recipient):
            meetings.queue_mail(mail, person, meeting=meeting)


def publish(event: Event, state: str) -> int:
    """Publish the schedule as preliminary, then as final; every participant with a meeting
    is sent their agenda.  Returns how many agendas were queued."""
    order = [ScheduleState.DRAFT, ScheduleState.PRELIMINARY, ScheduleState.FINAL]
    if state not in order[1:] or order.index(state) <= order.index(event.schedule_state):
        raise meetings.MeetingError(_l("The schedule is already published that way."))
    placed = current(event)
    if not placed:
        raise meetings.MeetingError(_l("There is no meeting to publish: run the scheduler "
                                       "first."))
    event.schedule_state = state
    requests = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.id.in_(list(placed)))).all()
    people = {person for r in requests for person in (r.requester, r.recipient)}
    for person in sorted(people, key=lambda p: p.id):
        meetings.queue_mail("agenda", person)
    return len(people)


def _meetings(event: Event) -> list[Meeting]:
    return db.session.scalars(select(Meeting).where(Meeting.event_id == event.id)
                              .order_by(Meeting.id)).all()
