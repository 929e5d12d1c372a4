"""B2B meetings at an event: slots, availability, suggested meetings, requests and answers.

A participant is a person with a place (``EventRegistration``, registered).  Suggestions
come from the match ledger only: delivered matches between a participant's organisation's
live listings and another participant's, never a match either side dismissed and never a
pair that declined (a meeting request at this event, or an introduction between the same
listings).  A request names the need and the solution the meeting is about, so the agenda
can show the match's reasons and a held meeting can move its introduction along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from marketplace.extensions import db
from marketplace.models import (
    Event,
    EventRegistration,
    Introduction,
    Match,
    Meeting,
    MeetingRequest,
    MeetingSlot,
    MeetingUnavailability,
    Need,
    Solution,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.introductions import DECLINE_REASONS
from marketplace.models.states import (
    IntroductionStage,
    MatchState,
    MeetingRequestStatus,
    MeetingStatus,
    RegistrationStatus,
    ScheduleState,
)
from marketplace.outbox import relay

# All three demonstration bases are in China: slots are set and shown in its time.
VENUE_TIME = ZoneInfo("Asia/Shanghai")
SLOT_MINUTES = (15, 20, 25, 30)
REASON_LIMIT = 300


class MeetingError(Exception):
    """Why this cannot be done now; shown to the person who tried."""


def venue_time(moment: datetime) -> datetime:
    return moment.astimezone(VENUE_TIME)


# -- set-up, by staff -------------------------------------------------------------------

def slots(event: Event) -> list[MeetingSlot]:
    return db.session.scalars(select(MeetingSlot).where(MeetingSlot.event_id == event.id)
                              .order_by(MeetingSlot.starts_at, MeetingSlot.id)).all()


def set_up(event: Event, *, day: date, first: time, count: int, minutes: int, gap: int,
           tables: int, cap: int) -> list[MeetingSlot]:
    """The event's meeting slots (``count`` of ``minutes``, ``gap`` minutes apart, from
    ``first`` in venue time), tables and cap.  Replaces the slots while nothing is
    published: a published agenda's times are not pulled from under people."""
    if minutes not in SLOT_MINUTES:
        raise MeetingError(_l("A meeting lasts 15, 20, 25 or 30 minutes."))
    if event.schedule_state != ScheduleState.DRAFT:
        raise MeetingError(_l("The schedule is published: its slots can no longer change."))
    start = datetime.combine(day, first, tzinfo=VENUE_TIME)
    db.session.execute(delete(Meeting).where(Meeting.event_id == event.id))
    db.session.execute(delete(MeetingSlot).where(MeetingSlot.event_id == event.id))
    made = []
    for n in range(count):
        begins = start + n * timedelta(minutes=minutes + gap)
        made.append(MeetingSlot(event=event, starts_at=begins,
                                ends_at=begins + timedelta(minutes=minutes)))
    db.session.add_all(made)
    event.meeting_minutes, event.meeting_tables, event.meeting_cap = minutes, tables, cap
    db.session.flush()
    return made


def has_meetings(event: Event) -> bool:
    return bool(event.meeting_tables)


# -- participants ------------------------------------------------------------------------

def participant(user: User, event: Event) -> EventRegistration | None:
    """The user's place at the event, if they have one (waitlisted people do not meet)."""
    if not user.is_authenticated:
        return None
    return db.session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.user_id == user.id,
        EventRegistration.status == RegistrationStatus.REGISTERED))


def participants(event: Event) -> list[EventRegistration]:
    return db.session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id,
        EventRegistration.status == RegistrationStatus.REGISTERED)
        .order_by(EventRegistration.id)).all()


def unavailable_slot_ids(registration: EventRegistration) -> set[int]:
    return set(db.session.scalars(select(MeetingUnavailability.slot_id).where(
        MeetingUnavailability.registration_id == registration.id)))


def set_availability(registration: EventRegistration, available: set[int]) -> None:
    event_slots = {slot.id for slot in slots(registration.event)}
    db.session.execute(delete(MeetingUnavailability).where(
        MeetingUnavailability.registration_id == registration.id))
    db.session.add_all(MeetingUnavailability(registration_id=registration.id, slot_id=slot_id)
                       for slot_id in sorted(event_slots - available))
    db.session.flush()


@dataclass(frozen=True)
class Suggestion:
    """"People you should meet here": another participant, and the match that says why."""

    counterpart: EventRegistration
    match: Match

    def own_listing(self, registration: EventRegistration):
        need = self.match.need
        return need if need.organization_id == registration.organization_id \
            else self.match.solution

    def their_listing(self, registration: EventRegistration):
        need = self.match.need
        return self.match.solution if need.organization_id == registration.organization_id \
            else need


def suggestions(registration: EventRegistration, limit: int = 20) -> list[Suggestion]:
    """The best delivered matches between this participant and the others, one per person,
    leaving out people already asked (either way) and pairs that declined."""
    others = [r for r in participants(registration.event)
              if r.organization_id != registration.organization_id]
    by_org: dict[int, list[EventRegistration]] = {}
    for other in others:
        by_org.setdefault(other.organization_id, []).append(other)
    if not by_org:
        return []
    asked = {r.other(registration.id).id for r in requests_of(registration)}
    declined_orgs = _declined_organizations(registration)
    found: list[Suggestion] = []
    for match in _matches_between(registration.organization_id, set(by_org)):
        if _declined_listings(match):
            continue
        other_org = match.solution.organization_id \
            if match.need.organization_id == registration.organization_id \
            else match.need.organization_id
        if other_org in declined_orgs:
            continue
        for counterpart in by_org[other_org]:
            if counterpart.id not in asked:
                found.append(Suggestion(counterpart, match))
                asked.add(counterpart.id)
    return found[:limit]


def _matches_between(organization_id: int, others: set[int]) -> list[Match]:
    need_side = select(Need.id).where(Need.organization_id == organization_id)
    solution_side = select(Solution.id).where(Solution.organization_id == organization_id)
    rows = db.session.scalars(
        select(Match).join(Need, Match.need_id == Need.id)
        .join(Solution, Match.solution_id == Solution.id)
        .where(Match.delivered.is_(True),
               Match.buyer_state != MatchState.DISMISSED,
               Match.supplier_state != MatchState.DISMISSED,
               or_(Match.need_id.in_(need_side) & Solution.organization_id.in_(others),
                   Match.solution_id.in_(solution_side) & Need.organization_id.in_(others)))
        .order_by(Match.score.desc(), Match.id)).all()
    return [m for m in rows if m.need.is_live and m.solution.is_live]


def _declined_listings(match: Match) -> bool:
    return db.session.scalar(select(Introduction.id).where(
        Introduction.need_id == match.need_id, Introduction.solution_id == match.solution_id,
        Introduction.stage == IntroductionStage.DECLINED).limit(1)) is not None


def _declined_organizations(registration: EventRegistration) -> set[int]:
    """Organisations this participant's organisation declined, or was declined by, here."""
    rows = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == registration.event_id,
        MeetingRequest.status == MeetingRequestStatus.DECLINED)).all()
    mine = registration.organization_id
    return {(r.recipient if r.requester.organization_id == mine else r.requester)
            .organization_id for r in rows
            if mine in (r.requester.organization_id, r.recipient.organization_id)}


def listing_pairs(registration: EventRegistration, other: EventRegistration) -> list[tuple]:
    """(need, solution) pairs a meeting between these two could be about: live listings of
    opposite kinds, the best matched first."""
    mine, theirs = registration.organization_id, other.organization_id
    pairs = []
    for needs_of, solutions_of in ((mine, theirs), (theirs, mine)):
        needs = _live(Need, needs_of)
        solutions = _live(Solution, solutions_of)
        pairs += [(n, s) for n in needs for s in solutions]
    scores = {(m.need_id, m.solution_id): m.score for m in db.session.scalars(
        select(Match).where(Match.need_id.in_([n.id for n, _ in pairs] or [0])))}
    return sorted(pairs, key=lambda p: -scores.get((p[0].id, p[1].id), -1.0))


def _live(cls, organization_id: int) -> list:
    return [listing for listing in db.session.scalars(
        select(cls).where(cls.organization_id == organization_id).order_by(cls.title))
        if listing.is_live]


def requests_of(registration: EventRegistration) -> list[MeetingRequest]:
    return db.session.scalars(select(MeetingRequest).where(
        or_(MeetingRequest.requester_id == registration.id,
            MeetingRequest.recipient_id == registration.id))
        .order_by(MeetingRequest.created_at.desc(), MeetingRequest.id.desc())).all()


def request_meeting(registration: EventRegistration, recipient: EventRegistration,
                    need: Need, solution: Solution, reason: str) -> MeetingRequest:
    reason = (reason or "").strip()
    if not reason:
        raise MeetingError(_l("Say in a sentence why you would like to meet: "
                              "a reason makes a yes more likely."))
    if len(reason) > REASON_LIMIT:
        raise MeetingError(_l("The reason is too long: at most %(limit)d characters.",
                              limit=REASON_LIMIT))
    if recipient.event_id != registration.event_id \
            or recipient.status != RegistrationStatus.REGISTERED:
        raise MeetingError(_l("This person is not taking part in the event."))
    if recipient.organization_id == registration.organization_id:
        raise MeetingError(_l("This is someone from your own organisation."))
    if {need.organization_id, solution.organization_id} != \
            {registration.organization_id, recipient.organization_id} \
            or not (need.is_live and solution.is_live):
        raise MeetingError(_l("Choose a need and a solution of yours and theirs."))
    if recipient.organization_id in _declined_organizations(registration):
        raise MeetingError(_l("A meeting between your organisations was declined."))
    if _request_between(registration, recipient) is not None:
        raise MeetingError(_l("There is already a meeting request between you two."))
    row = MeetingRequest(event_id=registration.event_id, requester=registration,
                         recipient=recipient, pair=_pair(registration, recipient),
                         need=need, solution=solution, reason=reason,
                         match=db.session.scalar(select(Match).where(
                             Match.need_id == need.id, Match.solution_id == solution.id)))
    db.session.add(row)
    db.session.flush()
    queue_mail("meeting_requested", recipient, request=row)
    return row


def _pair(a: EventRegistration, b: EventRegistration) -> str:
    low, high = sorted((a.id, b.id))
    return f"{low}:{high}"


def _request_between(a: EventRegistration, b: EventRegistration) -> MeetingRequest | None:
    return db.session.scalar(select(MeetingRequest).where(
        MeetingRequest.event_id == a.event_id, MeetingRequest.pair == _pair(a, b)))


def accept(request: MeetingRequest, registration: EventRegistration) -> None:
    _check_answerable(request, registration)
    request.status, request.answered_at = MeetingRequestStatus.ACCEPTED, utcnow()
    queue_mail("meeting_accepted", request.requester, request=request)


def decline(request: MeetingRequest, registration: EventRegistration, reason: str,
            note: str = "") -> None:
    """Declined with a reason from the introductions' list; the pair is never suggested or
    scheduled at this event again."""
    if reason not in DECLINE_REASONS:
        raise MeetingError(_l("Choose a reason from the list."))
    note = (note or "").strip()
    if reason == "other" and not note:
        raise MeetingError(_l("Say in a few words why, when the reason is “other”."))
    _check_answerable(request, registration)
    request.status, request.answered_at = MeetingRequestStatus.DECLINED, utcnow()
    request.decline_reason, request.decline_note = reason, note
    queue_mail("meeting_declined", request.requester, request=request)


def _check_answerable(request: MeetingRequest, registration: EventRegistration) -> None:
    if request.recipient_id != registration.id:
        raise MeetingError(_l("Only the person asked can answer this request."))
    if request.status != MeetingRequestStatus.REQUESTED:
        raise MeetingError(_l("This request has already been answered."))


def withdraw(registration: EventRegistration) -> None:
    """A participant gave up their place: their meetings are cancelled (and, if the schedule
    is published, the other side is told)."""
    from marketplace.calendar import schedule  # the schedule builds on this module

    for meeting in db.session.scalars(select(Meeting).join(MeetingRequest).where(
            or_(MeetingRequest.requester_id == registration.id,
                MeetingRequest.recipient_id == registration.id),
            Meeting.status == MeetingStatus.SCHEDULED)):
        schedule.cancel(meeting)


# -- on the day --------------------------------------------------------------------------

def check_in(registration: EventRegistration) -> None:
    if registration.checked_in_at is None:
        registration.checked_in_at = utcnow()


def record_outcome(meeting: Meeting, user: User, held: bool) -> None:
    """Held or a no-show.  A held meeting moves the two organisations' introduction to
    "meeting" (the introductions job opens one if there is none)."""
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.HELD,
                              MeetingStatus.NO_SHOW) or meeting.slot is None:
        raise MeetingError(_l("Only a scheduled meeting can be held or missed."))
    if meeting.event.schedule_state == ScheduleState.DRAFT:
        raise MeetingError(_l("The schedule is not published yet."))
    was_held = meeting.status == MeetingStatus.HELD
    meeting.status = MeetingStatus.HELD if held else MeetingStatus.NO_SHOW
    meeting.outcome_at, meeting.outcome_by_id = utcnow(), user.id
    if held and not was_held:
        request = meeting.request
        relay.emit(relay.MEETING_HELD, {
            "meeting": meeting.id, "need": request.need_id, "solution": request.solution_id,
            "requester_org": request.requester.organization_id,
            "recipient_org": request.recipient.organization_id, "actor": user.id})


def can_record(meeting: Meeting, user: User) -> bool:
    if user.is_authenticated and user.is_staff:
        return True
    request = meeting.request
    return user.is_authenticated and user.id in (request.requester.user_id,
                                                 request.recipient.user_id)


def queue_mail(name: str, registration: EventRegistration, *, request=None,
                meeting=None) -> None:
    relay.emit(relay.EVENT_MAIL, {"mail": name, "registration": registration.id,
                                  "request": request.id if request else None,
                                  "meeting": meeting.id if meeting else None})
