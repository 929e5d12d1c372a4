"""The e-mails an introduction sends: a new request (and a reminder a week on), its answer
or its expiry, and each new message - at once, or in a daily summary if the reader chose so.

A step queues its notice in the same transaction (an outbox event); after the commit the
``introductions.notice`` job mails the other side, each reader in their language, through
``marketplace.mailing`` (retried on a transient failure; never to a bounced address).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from marketplace import coordination, jobs
from marketplace.extensions import db
from marketplace.mailing import suppressions, transport
from marketplace.models import Introduction, IntroductionMessage, User
from marketplace.models._time import utcnow
from marketplace.models.mail import EVERY_LIST
from marketplace.outbox import relay

log = logging.getLogger(__name__)

NOTICES = ("introduction_request", "introduction_reminder", "introduction_proposed",
           "introduction_nudge", "introduction_accepted", "introduction_declined",
           "introduction_expired", "introduction_message")


def queue(name: str, introduction: Introduction, *, to: int,
          message_id: int | None = None) -> None:
    """Mail organisation ``to`` about ``introduction`` once this transaction commits."""
    relay.emit(relay.INTRODUCTION_MAIL, {"mail": name, "introduction": introduction.id,
                                         "to": to, "message": message_id})


def send(name: str, introduction_id: int, organization_id: int,
         message_id: int | None = None) -> int:
    """The ``introductions.notice`` job: one ``introductions.notice_one`` job per reader, so
    a retry after a transient failure mails only the reader it failed for."""
    introduction = db.session.get(Introduction, introduction_id)
    if introduction is None or name not in NOTICES:
        return 0
    readers_now = readers(introduction, organization_id)
    for reader in readers_now:
        jobs.enqueue("introductions.notice_one", name, introduction_id, reader.id, message_id)
    return len(readers_now)


def send_one(name: str, introduction_id: int, user_id: int,
             message_id: int | None = None) -> int:
    """The ``introductions.notice_one`` job (retried on transient failures)."""
    introduction = db.session.get(Introduction, introduction_id)
    reader = db.session.get(User, user_id)
    if introduction is None or reader is None or not reader.is_active_account \
            or suppressions.is_suppressed(reader.email, EVERY_LIST):
        return 0
    if name == "introduction_message" and reader.introduction_notice == "daily":
        return 0  # it waits for the reader's daily summary
    message = db.session.get(IntroductionMessage, message_id) if message_id else None
    link = transport.external_url("introductions.detail", introduction_id=introduction.id)
    try:
        transport.send_email(name, reader.email, reader.language, user=reader,
                             introduction=introduction, message=message, link=link)
    except transport.PermanentMailError as error:  # bounced: retrying cannot help
        suppressions.mark_bounced(reader.email, str(error))
        log.warning("introduction notice %s to user %s bounced: %s", name, user_id, error)
        return 0
    return 1


def readers(introduction: Introduction, organization_id: int) -> list[User]:
    """Who on that side hears of it: its contact person once there is one, else every
    active member of the organisation."""
    contact = introduction.sender if organization_id == introduction.sender_org_id \
        else introduction.recipient_contact
    if contact is not None and contact.is_active_account \
            and contact.organization_id == organization_id:
        return [contact]
    return list(db.session.scalars(select(User).where(
        User.organization_id == organization_id, User.is_active_account).order_by(User.id)))


SUMMARY_EVERY = timedelta(days=1)


def send_daily_summaries(now: datetime | None = None) -> int:
    """The ``introductions.summaries`` job (hourly): each reader on daily notice whose last
    summary is a day old gets one e-mail with the messages written to them since, if any.
    Returns how many summaries went out."""
    now = now or utcnow()
    sent = 0
    with coordination.exclusive("introductions.summaries", ttl_seconds=300) as mine:
        if not mine:
            return 0
        due = db.session.scalars(select(User).where(
            User.introduction_notice == "daily", User.is_active_account,
            or_(User.introduction_summary_at.is_(None),
                User.introduction_summary_at <= now - SUMMARY_EVERY))).all()
        for reader in due:
            sent += _summarise(reader, now)
    return sent


def _summarise(reader: User, now: datetime) -> int:
    since = reader.introduction_summary_at or now - SUMMARY_EVERY
    messages = _messages_for(reader, since, now)
    # Marked before sending: a summary lost to a crash is better than one sent twice.
    reader.introduction_summary_at = now
    db.session.commit()
    if not messages or suppressions.is_suppressed(reader.email, EVERY_LIST):
        return 0
    transport.send_email("introduction_summary", reader.email, reader.language, user=reader,
                         messages=messages,
                         link=transport.external_url("introductions.board"))
    return 1


def _messages_for(reader: User, since: datetime, until: datetime) -> list[IntroductionMessage]:
    """Messages the other side wrote, in introductions where ``reader`` is their side's
    contact person."""
    contact_of = or_(
        (Introduction.sender_id == reader.id)
        & (IntroductionMessage.organization_id == Introduction.recipient_org_id),
        (Introduction.recipient_contact_id == reader.id)
        & (IntroductionMessage.organization_id == Introduction.sender_org_id))
    return list(db.session.scalars(
        select(IntroductionMessage).join(Introduction).where(
            contact_of, IntroductionMessage.created_at > since,
            IntroductionMessage.created_at <= until)
        .order_by(IntroductionMessage.introduction_id, IntroductionMessage.id)))
