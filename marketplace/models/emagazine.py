"""The E-magazine: subscribers (double opt-in), events at the demonstration bases, issues in
several language editions, and the per-recipient delivery ledger."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.mail import DeliveryMixin
from marketplace.models.states import (
    IssueStatus,
    ScheduleState,
    SubscriberStatus,
    state_column,
)
from marketplace.models.users import User


def new_confirm_nonce() -> str:
    return secrets.token_urlsafe(16)


class Subscriber(db.Model):
    """Someone who asked for the E-magazine, with or without an account."""

    __tablename__ = "subscribers"
    __table_args__ = (Index("uq_subscribers_email_lower", func.lower("email"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # stored lower-cased
    language: Mapped[str] = mapped_column(String(8), default="en")
    countries: Mapped[list] = mapped_column(JSON, default=list)  # empty: every country
    sectors: Mapped[list] = mapped_column(JSON, default=list)  # empty: every sector
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    status: Mapped[str] = state_column("status", SubscriberStatus, SubscriberStatus.PENDING,
                                       index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signup_ip: Mapped[str] = mapped_column(String(45), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_ip: Mapped[str] = mapped_column(String(45), default="")
    # Confirmation mails sent in the current hour, so signing up again cannot flood anyone.
    confirmations_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmations_in_window: Mapped[int] = mapped_column(default=0)
    # Carried by confirmation links and replaced when one is used or the reader unsubscribes,
    # so a link works once and never undoes a later unsubscribe.  None: links carry none.
    confirm_nonce: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User | None] = relationship()


EVENT_KINDS = ("forum", "exhibition", "b2b", "training", "visit")


class Event(db.Model):
    """A forum, exhibition or training at one of the demonstration bases."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    base: Mapped[str] = mapped_column(String(16))  # yixing, wuzhou or shenzhen
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date | None] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    programme: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Places for participants; None: no limit.  Past it, registrations join the waitlist.
    capacity: Mapped[int | None] = mapped_column()
    # B2B meetings (issue 13): None tables means the event has none.
    meeting_minutes: Mapped[int] = mapped_column(default=25, server_default="25")
    meeting_tables: Mapped[int | None] = mapped_column()
    meeting_cap: Mapped[int] = mapped_column(default=8, server_default="8")
    schedule_state: Mapped[str] = state_column("schedule_state", ScheduleState,
                                               ScheduleState.DRAFT, server_default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


AUDIENCE_ROLES = ("subscriber", "supplier", "buyer")


class Issue(db.Model):
    """One issue of the E-magazine, with an edition per language and its audience."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = state_column("status", IssueStatus, IssueStatus.DRAFT, index=True)
    # The segment: each list empty means everyone.  Roles: see AUDIENCE_ROLES.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipient_count: Mapped[int] = mapped_column(default=0)  # planned when sending starts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    editions: Mapped[list[IssueEdition]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueEdition.language")

    def edition(self, language: str) -> IssueEdition | None:
        """The edition in ``language``, falling back to English."""
        by_language = {edition.language: edition for edition in self.editions}
        return by_language.get(language) or by_language.get("en")


class IssueEdition(db.Model):
    __tablename__ = "issue_editions"
    __table_args__ = (UniqueConstraint("issue_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown

    issue: Mapped[Issue] = relationship(back_populates="editions")
    sections: Mapped[list[IssueSection]] = relationship(
        back_populates="edition", cascade="all, delete-orphan", order_by="IssueSection.position")


SECTION_KINDS = ("manual", "new_solutions", "open_needs", "matches", "events", "news")


class IssueSection(db.Model):
    """A section of an edition.  Automatic kinds are filled from the marketplace into
    ``body`` (Markdown), which staff then review and edit like any other text."""

    __tablename__ = "issue_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("issue_editions.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default="manual")
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")

    edition: Mapped[IssueEdition] = relationship(back_populates="sections")


class IssueDelivery(DeliveryMixin, db.Model):
    """One issue to one recipient, claimed before sending: unique per (issue, address)."""

    __tablename__ = "issue_deliveries"
    __table_args__ = (UniqueConstraint("issue_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"),
                                          index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
