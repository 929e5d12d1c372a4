"""The transactional outbox: events written in the same transaction as the change they
describe, and handed to the background jobs only after that transaction commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))  # e.g. "listing.changed"
    payload: Mapped[dict] = mapped_column(JSON)  # ids only, never objects
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the relay handed the event to the job queue (Celery); NULL while Redis is down.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # NULL until a worker has handled it; the sweep resends unhandled events.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
