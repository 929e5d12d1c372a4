"""What an event achieved: registrations, meeting requests and how many were accepted,
meetings scheduled, held and missed, meetings per participant, and the introductions the
held meetings started or moved on.  The page and the CSV export read the same figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Event, EventRegistration, Introduction, Meeting, MeetingRequest
from marketplace.models.states import MeetingRequestStatus, MeetingStatus, RegistrationStatus
from marketplace.spreadsheets import csv_text

PLACED = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.NO_SHOW)


@dataclass
class ParticipantRow:
    registration: EventRegistration
    requests_sent: int = 0
    requests_received: int = 0
    meetings: int = 0
    held: int = 0


@dataclass
class Report:
    registrations: Counter
    checked_in: int
    requests: Counter
    meetings: Counter
    participants: list[ParticipantRow] = field(default_factory=list)
    introductions: list[Introduction] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float | None:
        answered = self.requests[MeetingRequestStatus.ACCEPTED] + \
            self.requests[MeetingRequestStatus.DECLINED]
        return self.requests[MeetingRequestStatus.ACCEPTED] / answered if answered else None

    @property
    def scheduled(self) -> int:
        return sum(self.meetings[state] for state in PLACED)

    @property
    def held_rate(self) -> float | None:
        recorded = self.meetings[MeetingStatus.HELD] + self.meetings[MeetingStatus.NO_SHOW]
        return self.meetings[MeetingStatus.HELD] / recorded if recorded else None

    @property
    def meetings_per_participant(self) -> float | None:
        people = self.registrations[RegistrationStatus.REGISTERED]
        return 2 * self.scheduled / people if people else None

    def figures(self) -> list[tuple[str, object]]:
        """The summary, as (name, value) in the CSV's and the page's order."""
        return [
            ("registered", self.registrations[RegistrationStatus.REGISTERED]),
            ("waitlisted", self.registrations[RegistrationStatus.WAITLISTED]),
            ("cancelled", self.registrations[RegistrationStatus.CANCELLED]),
            ("checked_in", self.checked_in),
            ("requests", sum(self.requests.values())),
            ("requests_accepted", self.requests[MeetingRequestStatus.ACCEPTED]),
            ("requests_declined", self.requests[MeetingRequestStatus.DECLINED]),
            ("requests_unanswered", self.requests[MeetingRequestStatus.REQUESTED]),
            ("acceptance_rate", _rounded(self.acceptance_rate)),
            ("meetings_scheduled", self.scheduled),
            ("meetings_held", self.meetings[MeetingStatus.HELD]),
            ("meetings_no_show", self.meetings[MeetingStatus.NO_SHOW]),
            ("meetings_cancelled", self.meetings[MeetingStatus.CANCELLED]),
            ("held_rate", _rounded(self.held_rate)),
            ("meetings_per_participant", _rounded(self.meetings_per_participant)),
            ("introductions", len(self.introductions)),
        ]


def _rounded(value: float | None) -> float | str:
    return "" if value is None else round(value, 3)


def report(event: Event) -> Report:
    registrations = db.session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id).order_by(EventRegistration.id)).all()
    requests = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id)).all()
    meetings = db.session.scalars(select(Meeting).where(Meeting.event_id == event.id)).all()
    rows = {r.id: ParticipantRow(r) for r in registrations
            if r.status == RegistrationStatus.REGISTERED}
    for row in requests:
        if row.requester_id in rows:
            rows[row.requester_id].requests_sent += 1
        if row.recipient_id in rows:
            rows[row.recipient_id].requests_received += 1
    for meeting in meetings:
        if meeting.status not in PLACED:
            continue
        for person in (meeting.request.requester_id, meeting.request.recipient_id):
            if person in rows:
                rows[person].meetings += 1
                rows[person].held += meeting.status == MeetingStatus.HELD
    introductions = {m.introduction.id: m.introduction for m in meetings if m.introduction}
    return Report(
        registrations=Counter(r.status for r in registrations),
        checked_in=sum(1 for r in registrations if r.checked_in_at is not None),
        requests=Counter(r.status for r in requests),
        meetings=Counter(m.status for m in meetings),
        participants=sorted(rows.values(), key=lambda p: (-p.meetings, p.registration.id)),
        introductions=sorted(introductions.values(), key=lambda i: i.id))


def as_csv(result: Report) -> str:
    """The summary figures, then one line per participant."""
    rows: list[list[object]] = [["figure", "value"], *map(list, result.figures()), [],
                                ["participant", "organisation", "requests_sent",
                                 "requests_received", "meetings", "held"]]
    rows += [[row.registration.user.name, row.registration.organization.name,
              row.requests_sent, row.requests_received, row.meetings, row.held]
             for row in result.participants]
    return csv_text(rows)
