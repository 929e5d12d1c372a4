"""What search and matching keep in the database: cached embeddings, the match ledger and
saved searches."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import (
    MatchState,
    state_column,
)

if TYPE_CHECKING:
    from marketplace.models.listings import Need, Solution
    from marketplace.models.users import User


class EmbeddingCache(db.Model):
    """Vectors keyed by a hash of (model, role, text): recomputed only when the text changes."""

    __tablename__ = "embedding_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Why a side dismissed a match (optional): read by `flask eval-matching --from-ledger`.
DISMISS_REASONS = ("not_relevant", "wrong_scale", "wrong_country", "already_known", "other")


class Match(db.Model):
    """The match ledger: one row per (need, solution) the matcher has paired.

    Each side keeps its own verdict; a match dismissed by a side is never shown to it again,
    even when the matcher finds it anew.
    """

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    buyer_state: Mapped[str] = state_column("buyer_state", MatchState, MatchState.NEW)
    supplier_state: Mapped[str] = state_column("supplier_state", MatchState, MatchState.NEW)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The delivery rule's verdict (marketplace/services/delivery_rule.py): only delivered
    # matches reach digests, the E-magazine and anything else sent to people.  A match once
    # delivered stays in history (delivered_at) even if a later rule would not deliver it.
    evidence: Mapped[float | None] = mapped_column(Float)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                            index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    buyer_dismiss_reason: Mapped[str | None] = mapped_column(String(16))
    supplier_dismiss_reason: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    need: Mapped[Need] = relationship()
    solution: Mapped[Solution] = relationship()


class SavedSearch(db.Model):
    """"Tell me about new results": read by the digest job."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # what is searched: solution or need
    query: Mapped[str] = mapped_column(String(200), default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
