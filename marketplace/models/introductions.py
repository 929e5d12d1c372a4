"""Introductions: an expression of interest between the owners of a need and of a solution.
Contact details stay hidden until the other side accepts; then a conversation, and a pipeline
through to a contract, each stage change kept as a step of the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import IntroductionStage, allowed_values, state_column

if TYPE_CHECKING:
    from marketplace.models.discovery import Match
    from marketplace.models.listings import Need, Solution
    from marketplace.models.organizations import Organization
    from marketplace.models.users import User

# Why a request was declined (issue 12): the sender is told, and matching learns from it.
DECLINE_REASONS = ("not_relevant", "too_early", "scale", "budget", "certification",
                   "benefit_unclear", "not_enough_information", "timing", "already_working",
                   "other")
# What the sender would like, optionally.
WISHES = ("call", "visit", "quote", "pilot")
MESSAGE_LIMIT = 2000


class Introduction(db.Model):
    __tablename__ = "introductions"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"),
                                             index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    sender_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The contact person of each side: who asked, and who accepted.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # Staff of the Center proposed it on the parties' behalf (then ``sender_id`` is None).
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A side asked staff for help: from then on staff may read the conversation.
    help_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(Text)
    wishes: Mapped[list] = mapped_column(JSON, default=list)
    stage: Mapped[str] = state_column("stage", IntroductionStage, IntroductionStage.NEW,
                                      index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decline_note: Mapped[str] = mapped_column(Text, default="")
    # "need_id:solution_id" while the request is open, NULL once declined or expired: one
    # open request per pair of listings, whichever side asked.
    open_pair: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Contact details are shown to both sides from acceptance on, even if they decline later.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by every stage change (introductions.pipeline): of two people moving the same
    # card at once, one wins.
    version: Mapped[int] = mapped_column(default=1)

    need: Mapped[Need] = relationship()
    solution: Mapped[Solution] = relationship()
    match: Mapped[Match | None] = relationship()
    sender_org: Mapped[Organization] = relationship(foreign_keys=[sender_org_id])
    recipient_org: Mapped[Organization] = relationship(foreign_keys=[recipient_org_id])
    sender: Mapped[User | None] = relationship(foreign_keys=[sender_id])
    recipient_contact: Mapped[User | None] = relationship(foreign_keys=[recipient_contact_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    steps: Mapped[list[IntroductionStep]] = relationship(
        back_populates="introduction", order_by="IntroductionStep.id",
        cascade="all, delete-orphan")
    messages: Mapped[list[IntroductionMessage]] = relationship(
        back_populates="introduction", order_by="IntroductionMessage.id",
        cascade="all, delete-orphan")

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None

    def side_of(self, organization_id: int | None) -> str | None:
        """``"sender"``, ``"recipient"``, or None for anyone else."""
        if organization_id is None:
            return None
        if organization_id == self.sender_org_id:
            return "sender"
        if organization_id == self.recipient_org_id:
            return "recipient"
        return None

    def __repr__(self) -> str:
        return f"<Introduction {self.id} {self.stage}>"


class IntroductionStep(db.Model):
    """One stage change, for the timeline: who, when, to which stage, and an optional note."""

    __tablename__ = "introduction_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(16), allowed_values("stage", IntroductionStage))
    note: Mapped[str] = mapped_column(Text, default="")

    introduction: Mapped[Introduction] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship()


class IntroductionMessage(db.Model):
    """A message of the conversation, shown to the two sides only; plain text."""

    __tablename__ = "introduction_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    introduction: Mapped[Introduction] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
