"""Requests nobody answers: a reminder after a week, and expiry after a month.

The ``introductions.upkeep`` job runs every hour, one at a time (a lock in Redis); each
request is reminded once (``reminded_at``) and expires once, so running it again is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from marketplace import coordination
from marketplace.extensions import db
from marketplace.introductions import notices
from marketplace.models import Introduction, IntroductionStep
from marketplace.models._time import utcnow
from marketplace.models.states import IntroductionStage

REMIND_AFTER = timedelta(days=7)
EXPIRE_AFTER = timedelta(days=30)


def run(now: datetime | None = None) -> tuple[int, int]:
    """Remind and expire what is due; returns (reminded, expired)."""
    with coordination.exclusive("introductions.upkeep", ttl_seconds=300) as mine:
        if not mine:
            return 0, 0
        now = now or utcnow()
        expired = _expire(now)
        reminded = _remind(now)
        db.session.commit()
        return reminded, expired


def _unanswered():
    return select(Introduction).where(Introduction.stage == IntroductionStage.NEW)


def _expire(now: datetime) -> int:
    due = db.session.scalars(_unanswered().where(
        Introduction.created_at <= now - EXPIRE_AFTER)).all()
    for introduction in due:
        introduction.stage, introduction.stage_changed_at = IntroductionStage.EXPIRED, now
        introduction.open_pair = None  # the pair may ask again
        introduction.version += 1
        introduction.steps.append(IntroductionStep(stage=IntroductionStage.EXPIRED, at=now))
        notices.queue("introduction_expired", introduction, to=introduction.sender_org_id)
    return len(due)


def _remind(now: datetime) -> int:
    due = db.session.scalars(_unanswered().where(
        Introduction.created_at <= now - REMIND_AFTER,
        Introduction.reminded_at.is_(None))).all()
    for introduction in due:
        introduction.reminded_at = now
        notices.queue("introduction_reminder", introduction, to=introduction.recipient_org_id)
    return len(due)
