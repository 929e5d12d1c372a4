"""The staff audit log: who did what to which record, and when.

Rows are only ever added (services/audit.record), in the same transaction as the change they
describe, so a change that rolls back leaves no entry and a committed one always has one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.users import User


class AuditAction(StrEnum):
    LISTING_APPROVED = "listing.approved"
    LISTING_REJECTED = "listing.rejected"
    ORGANIZATION_VERIFIED = "organization.verified"
    ORGANIZATION_UNVERIFIED = "organization.unverified"
    ISSUE_TEST_SENT = "issue.test_sent"
    ISSUE_SCHEDULED = "issue.scheduled"
    ISSUE_UNSCHEDULED = "issue.unscheduled"
    ISSUE_SENT = "issue.sent"  # sending started
    ISSUE_PAUSED = "issue.paused"
    ISSUE_RESUMED = "issue.resumed"
    EVENT_CREATED = "event.created"
    EVENT_UPDATED = "event.updated"
    EVENT_DELETED = "event.deleted"
    ROLE_CHANGED = "user.role_changed"
    INTRODUCTION_PROPOSED = "introduction.proposed"
    INTRODUCTION_NUDGED = "introduction.nudged"


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Kept when the actor's account goes: the log outlives the people in it.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Stored as its value; not a database enum, so a new action needs no migration.
    action: Mapped[AuditAction] = mapped_column(
        Enum(AuditAction, native_enum=False, length=32,
             values_callable=lambda actions: [a.value for a in actions]))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    # A short summary of what changed (a title, a reason, a role before and after).
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.target_type}:{self.target_id}>"
