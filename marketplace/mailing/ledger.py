"""Claim-before-send, shared by every bulk sender (match digests, the E-magazine).

A sender first commits a delivery row (``DeliveryMixin``) that is unique per recipient and
mailing; only then does it submit the message, and it records the outcome at once.  A row
belongs to the worker that claimed it until it is released (``retrying``, after a transient
failure) or its claim is older than ``MAIL_CLAIM_TIMEOUT`` (the worker died); then exactly one
contender may take it over.

The one window left: a worker killed after the SMTP server accepted a message but before the
row was marked sent will have that message sent again after the timeout.  Marking the row
sent *before* submitting would instead lose the message; we accept the duplicate for that
instant, and a test kills workers everywhere else in the conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import and_, or_, update

from marketplace.extensions import db
from marketplace.mailing import suppressions
from marketplace.mailing.transport import MailSession, PermanentMailError, TransientMailError
from marketplace.models._time import utcnow
from marketplace.models.mail import DeliveryMixin
from marketplace.models.states import DeliveryStatus

MAX_SEND_ATTEMPTS = 6  # the claim and five retries; then the delivery is marked failed



def stale_before() -> datetime:
    """Claims older than this belong to workers that died."""
    return utcnow() - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])


def free_condition(model: type[DeliveryMixin]):
    """SQL: rows nobody is sending right now."""
    return or_(model.status == DeliveryStatus.RETRYING,
               and_(model.status == DeliveryStatus.CLAIMED, model.claimed_at < stale_before()))


def take_over(delivery: DeliveryMixin) -> bool:
    """Own an existing delivery if it is free.  A fresh claim belongs to the worker sending
    it, so a duplicate job leaves it alone; the conditional update lets one contender win."""
    model = type(delivery)
    taken = db.session.execute(
        update(model)
        .where(model.id == delivery.id, model.attempts == delivery.attempts,
               free_condition(model))
        .values(status=DeliveryStatus.CLAIMED, attempts=delivery.attempts + 1, claimed_at=utcnow())
    ).rowcount == 1
    db.session.commit()
    if taken:
        db.session.refresh(delivery)
    return taken


def send_claimed(delivery: DeliveryMixin, *, email: str, list_name: str,
                 render: Callable[[], EmailMessage | None], session: MailSession,
                 suppression_checked: bool = False) -> int:
    """Send one claimed delivery and record the outcome.  Returns 1 if an e-mail went out.

    Suppressions are checked at send time (here, or by a caller that checks a few recipients
    at once), so an unsubscribe or a bounce mid-run stops everything after it.  Transient
    failures release the row and re-raise, for a retry job.  ``render`` returning None
    means there is nothing left to send: the delivery is marked skipped.
    """
    if not suppression_checked and suppressions.is_suppressed(email, list_name):
        return finish(delivery, DeliveryStatus.SUPPRESSED)
    message = render()
    if message is None:  # all it had to say was withdrawn since the claim
        return finish(delivery, DeliveryStatus.SKIPPED)
    try:
        session.send(message)
    except PermanentMailError as error:
        suppressions.mark_bounced(email, str(error))
        return finish(delivery, DeliveryStatus.BOUNCED, str(error))
    except TransientMailError as error:
        if delivery.attempts >= MAX_SEND_ATTEMPTS:
            return finish(delivery, DeliveryStatus.FAILED, str(error))
        finish(delivery, DeliveryStatus.RETRYING, str(error))
        raise
    delivery.sent_at = utcnow()
    finish(delivery, DeliveryStatus.SENT)
    return 1


def finish(delivery: DeliveryMixin, status: str, error: str = "") -> int:
    delivery.status = status
    if error:
        delivery.last_error = error[:2000]
    db.session.commit()
    return 0
