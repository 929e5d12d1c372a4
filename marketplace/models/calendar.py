"""Who takes part in an event: registrations, with a waitlist once the event is full, and
the solutions exhibitors show there."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import RegistrationStatus, state_column

if TYPE_CHECKING:
    from marketplace.models.emagazine import Event
    from marketplace.models.listings import Solution
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
