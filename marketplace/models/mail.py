"""What mailing keeps in the database: addresses we must not mail, and the digest ledger.

The ledger is what makes digests safe to retry: a delivery row is claimed, unique per (user,
period), *before* the SMTP submit, and every item a digest carried is recorded unique per
(user, item), so a retry or a second scheduler run can never send the same thing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import (
    DeliveryStatus,
    state_column,
)

if TYPE_CHECKING:
    from marketplace.models.users import User

# A suppression for EVERY_LIST stops all mail to the address (a hard bounce).
EVERY_LIST = "*"
DIGEST_LIST = "digests"
EMAGAZINE_LIST = "emagazine"


class MailSuppression(db.Model):
    """An address that must not get mail from one list (unsubscribed) or any list (bounced)."""

    __tablename__ = "mail_suppressions"
    __table_args__ = (UniqueConstraint("email", "list_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower-cased
    list_name: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))  # "unsubscribed" or "bounced"
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryMixin:
    """A row claimed before one e-mail is submitted: the ledger of every bulk sender."""

    status: Mapped[str] = state_column("status", DeliveryStatus, DeliveryStatus.CLAIMED,
                                       index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class DigestDelivery(DeliveryMixin, db.Model):
    """One digest e-mail to one user for one period (e.g. ``daily:2026-11-30``)."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(40))

    user: Mapped[User] = relationship()
    items: Mapped[list[DigestItem]] = relationship(back_populates="delivery",
                                                   order_by="DigestItem.id")


class DigestItem(db.Model):
    """One thing a digest told a user about: a ledger match or a saved-search hit.

    ``item_key`` is unique per user, so nothing appears in two digests to the same person.
    """

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("user_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("digest_deliveries.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(80))  # "match:12" or "saved:3:solution:40"
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    saved_search_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE")
    )
    listing_kind: Mapped[str | None] = mapped_column(String(16))
    listing_id: Mapped[int | None] = mapped_column()
    rank: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[DigestDelivery] = relationship(back_populates="items")
