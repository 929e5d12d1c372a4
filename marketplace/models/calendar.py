"""Who takes part in an event: registrations, with a waitlist once the event is full, the
solutions exhibitors show there, and the 1:1 meetings of a B2B day: slots, availability,
requests and the meetings the scheduler placed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import (
    MeetingRequestStatus,
    MeetingStatus,
    RegistrationStatus,
    state_column,
)

if TYPE_CHECKING:
    from marketplace.models.discovery import Match
    from marketplace.models.emagazine import Event
    from marketplace.models.introductions import Introduction
    from marketplace.models.listings import Need, Solution
    from marketplace.models.organizations import Organization
    from marketplace.models.users import User


class EventRegistration(db.Model):
    """One person's registration (one row per person and event, kept when cancelled)."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = state_column("status", RegistrationStatus,
                                       RegistrationStatus.REGISTERED, index=True)
    # Waitlist order, and when the place was confirmed or given up.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()


class EventExhibit(db.Model):
    """A published solution a registered supplier shows at an event."""

    __tablename__ = "event_exhibits"
    __table_args__ = (UniqueConstraint("event_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship()
    solution: Mapped[Solution] = relationship()


class MeetingSlot(db.Model):
    """A time for 1:1 meetings at an event (one meeting per table per slot)."""

    __tablename__ = "meeting_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()


class MeetingUnavailability(db.Model):
    """A slot a participant cannot make; by default everyone is available for every slot."""

    __tablename__ = "meeting_unavailability"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("meeting_slots.id", ondelete="CASCADE"),
                                         primary_key=True)


class MeetingRequest(db.Model):
    """One participant asks another for a 1:1 meeting, about a need and a solution of theirs.

    One request per pair of people and event, whoever asked: a declined pair stays declined
    (it is never suggested or scheduled again at this event).
    """

    __tablename__ = "meeting_requests"
    __table_args__ = (UniqueConstraint("event_id", "pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("event_registrations.id", ondelete="CASCADE"), index=True)
    pair: Mapped[str] = mapped_column(String(40))  # "low:high" registration ids
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = state_column("status", MeetingRequestStatus,
                                       MeetingRequestStatus.REQUESTED, index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decline_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    requester: Mapped[EventRegistration] = relationship(foreign_keys=[requester_id])
    recipient: Mapped[EventRegistration] = relationship(foreign_keys=[recipient_id])
    need: Mapped[Need] = relationship()
    solution: Mapped[Solution] = relationship()
    match: Mapped[Match | None] = relationship()

    def side_of(self, registration_id: int | None) -> str | None:
        if registration_id == self.requester_id:
            return "requester"
        if registration_id == self.recipient_id:
            return "recipient"
        return None

    def other(self, registration_id: int) -> EventRegistration:
        return self.recipient if registration_id == self.requester_id else self.requester


class Meeting(db.Model):
    """An accepted request the scheduler placed at a slot and table.

    Its calendar UID never changes; ``sequence`` grows with every change, as iCalendar
    clients need to replace the entry they hold.
    """

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_requests.id", ondelete="CASCADE"), unique=True)
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_slots.id", ondelete="SET NULL"))
    table: Mapped[int | None] = mapped_column()
    status: Mapped[str] = state_column("status", MeetingStatus, MeetingStatus.SCHEDULED,
                                       index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set by the introductions job once the meeting was held (the pipeline continues there).
    introduction_id: Mapped[int | None] = mapped_column(
        ForeignKey("introductions.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship()
    request: Mapped[MeetingRequest] = relationship()
    slot: Mapped[MeetingSlot | None] = relationship()
    introduction: Mapped[Introduction | None] = relationship()

    @property
    def uid(self) -> str:
        return f"meeting-{self.request_id}@est-marketplace"
