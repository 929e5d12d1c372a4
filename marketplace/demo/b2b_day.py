"""The demo B2B days: one coming at Yixing, with registered demo organisations, their
availability, meeting requests (accepted, declined and waiting) made from delivered matches,
and a preliminary schedule placed by the scheduler; and one held at Wuzhou weeks ago, with
its meetings held or missed.  Built after matching, like the demo introductions, and
without mail: nobody is told about demo history.

The demo supplier and buyer keep their own best match unrequested, so that a person trying
``make run`` finds it under "People you should meet here" and can request it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from marketplace.calendar import meetings, schedule
from marketplace.extensions import db
from marketplace.introductions import pipeline
from marketplace.models import (
    Event,
    EventRegistration,
    Introduction,
    Match,
    Meeting,
    MeetingRequest,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.states import (
    MeetingRequestStatus,
    MeetingStatus,
    RegistrationStatus,
    ScheduleState,
)

TITLE = "China-ASEAN Matchmaking B2B Day (Demo)"
PAIRS = 24  # delivered matches turned into meeting requests
REASONS = ["Your reference plants look close to what we need: could we compare figures?",
           "We are preparing a tender next year and would like to understand your costs.",
           "Our utility needs this capacity; we would like to talk about a pilot."]


PAST_TITLE = "Wuzhou ASEAN-China Technology Matchmaking Forum (Demo)"
PAST_DAYS_AGO = 75
PAST_PAIRS = 16


def build(domain: str) -> Event | None:
    """The coming B2B day: requests made, a preliminary schedule published."""
    event = Event(title=TITLE, kind="b2b", base="yixing", capacity=200,
                  starts_on=utcnow().date() + timedelta(days=14),
                  location="Yixing Environmental Science and Technology Industrial Park",
                  description="1:1 meetings between Chinese suppliers and ASEAN buyers, "
                              "proposed from the match ledger. (Demo)")
    if not _with_requests(domain, event, pairs=PAIRS, rng=random.Random(13)):
        return None
    event.schedule_state = ScheduleState.PRELIMINARY  # published, without mailing anyone
    return event


def build_past(domain: str) -> Event | None:
    """A B2B day held weeks ago: its final schedule, the meetings held or missed, and the
    introductions the held meetings started or moved on (as the staff would have recorded)."""
    event = Event(title=PAST_TITLE, kind="b2b", base="wuzhou", capacity=120,
                  starts_on=utcnow().date() - timedelta(days=PAST_DAYS_AGO),
                  location="Wuzhou Renewable Resources Industrial Park",
                  description="Matchmaking between Chinese recycling suppliers and ASEAN "
                              "buyers. (Demo)")
    rng = random.Random(75)
    if not _with_requests(domain, event, pairs=PAST_PAIRS, rng=rng, offset=PAIRS):
        return None
    event.schedule_state = ScheduleState.FINAL
    staff = db.session.scalar(select(User).where(User.email == f"staff@{domain}"))
    held_at = datetime.combine(event.starts_on, time(12, 0), tzinfo=UTC)
    for meeting in db.session.scalars(select(Meeting).where(
            Meeting.event_id == event.id, Meeting.status == MeetingStatus.SCHEDULED)
            .order_by(Meeting.id)).all():
        meeting.status = MeetingStatus.NO_SHOW if rng.random() < 0.2 else MeetingStatus.HELD
        meeting.outcome_at, meeting.outcome_by_id = held_at, staff.id if staff else None
        for place in (meeting.request.requester, meeting.request.recipient):
            place.checked_in_at = held_at
        if meeting.status == MeetingStatus.HELD:
            request = meeting.request
            pipeline.record_meeting({
                "meeting": meeting.id, "need": request.need_id,
                "solution": request.solution_id,
                "requester_org": request.requester.organization_id,
                "recipient_org": request.recipient.organization_id,
                "actor": staff.id if staff else None})
            _dated(meeting.introduction, held_at)
    return event


def _dated(introduction: Introduction | None, at: datetime) -> None:
    """An introduction the demo meeting started took place on the day, not today."""
    if introduction is not None and introduction.created_at > utcnow() - timedelta(minutes=5):
        introduction.created_at = introduction.stage_changed_at = at
        introduction.accepted_at = at
        for step in introduction.steps:
            step.at = at


def _with_requests(domain: str, event: Event, *, pairs: int, rng: random.Random,
                   offset: int = 0) -> bool:
    """Register demo organisations at ``event``, turn ``pairs`` delivered matches (after the
    first ``offset``) into meeting requests, and schedule them."""
    users = {u.organization_id: u for u in db.session.scalars(
        select(User).where(User.email.like(f"%@{domain}"), User.organization_id.is_not(None))
        .order_by(User.id))}
    main = [u for u in users.values() if u.email in (f"supplier@{domain}", f"buyer@{domain}")]
    if len(main) < 2:
        return False
    db.session.add(event)
    db.session.flush()
    meetings.set_up(event, day=event.starts_on, first=time(9, 30), count=10, minutes=25,
                    gap=5, tables=8, cap=6)
    matches = [m for m in db.session.scalars(select(Match).where(Match.delivered.is_(True))
                                             .order_by(Match.score.desc(), Match.id))
               if m.need.organization_id in users and m.solution.organization_id in users]
    keep_for_visitor = next((m for m in matches if {m.need.organization_id,
                             m.solution.organization_id} == {u.organization_id for u in main}),
                            None)
    places: dict[int, EventRegistration] = {}
    chosen, seen = [], set()
    for match in matches:
        pair = (match.need.organization_id, match.solution.organization_id)
        if match is keep_for_visitor or pair in seen:
            continue
        seen.add(pair)
        chosen.append(match)
        if len(chosen) == offset + pairs:
            break
    chosen = chosen[offset:] or chosen[:pairs]
    for org_id in {o for m in chosen for o in (m.need.organization_id,
                                               m.solution.organization_id)} \
            | {u.organization_id for u in main}:
        user = users[org_id]
        places[org_id] = EventRegistration(event=event, user=user, organization_id=org_id,
                                           status=RegistrationStatus.REGISTERED,
                                           confirmed_at=utcnow())
    db.session.add_all(places.values())
    db.session.flush()
    slots = meetings.slots(event)
    for place in places.values():  # a few people leave early or arrive late
        if rng.random() < 0.3:
            meetings.set_availability(place, {s.id for s in slots[: rng.randint(5, 8)]})
    for index, match in enumerate(chosen):
        buyer, supplier = places[match.need.organization_id], places[match.solution.organization_id]
        requester, recipient = (buyer, supplier) if index % 2 else (supplier, buyer)
        status = (MeetingRequestStatus.DECLINED if index % 8 == 5
                  else MeetingRequestStatus.REQUESTED if index % 8 == 7
                  else MeetingRequestStatus.ACCEPTED)
        db.session.add(MeetingRequest(
            event=event, requester=requester, recipient=recipient,
            pair=":".join(str(i) for i in sorted((requester.id, recipient.id))),
            need=match.need, solution=match.solution, match=match,
            reason=REASONS[index % len(REASONS)], status=status,
            decline_reason="timing" if status == MeetingRequestStatus.DECLINED else None,
            answered_at=None if status == MeetingRequestStatus.REQUESTED else utcnow()))
    db.session.flush()
    schedule.run(event, time_limit=5)
    return True
