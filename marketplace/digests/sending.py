"""Match digests: what each user has not heard about yet, sent at most once per period.

The flow for one user and one period (``daily:2026-11-30``):

1. *Collect* the new items: ledger matches for the user's organisation's listings (never
   one that side dismissed) and saved-search hits, minus everything an earlier digest carried.
   Nothing new means no e-mail.
2. *Claim* a ``DigestDelivery`` row, unique per (user, period), with its ``DigestItem`` rows,
   unique per (user, item), and commit - before anything is submitted.  A second scheduler
   run or a concurrent worker fails the claim and stops.
3. *Send* and record, as every mailing does (``marketplace.mailing.bulk_send``, over the
   claim-before-send of ``marketplace.mailing.ledger``): transient failures are retried,
   a 5xx marks the address bounced, and a claim whose worker died is taken over by the next
   ``schedule`` run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select

from marketplace import jobs
from marketplace.digests import content
from marketplace.digests.content import NewItem
from marketplace.extensions import db
from marketplace.mailing import bulk_send
from marketplace.mailing.transport import MailSession
from marketplace.models import (
    DigestDelivery,
    DigestItem,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.mail import DIGEST_LIST, EVERY_LIST, MailSuppression
from marketplace.models.states import DeliveryStatus

FREQUENCIES = ("immediate", "daily", "weekly")


def period_for(frequency: str, now: datetime) -> str:
    """The period a digest belongs to: one e-mail per user per period."""
    if frequency == "immediate":
        return f"immediate:{now:%Y-%m-%dT%H:%M}"
    if frequency == "daily":
        return f"daily:{now:%Y-%m-%d}"
    if frequency == "weekly":
        year, week, _ = now.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    raise ValueError(f"unknown digest frequency {frequency!r}")


# --- scheduling ------------------------------------------------------------------------------

def schedule(frequency: str, now: datetime | None = None) -> int:
    """The ``digests.schedule`` job: queue this period's digests in batches.

    One scheduler at a time (a lock shared in Redis); firing twice for one period is harmless
    because claims are unique.  Returns how many users were queued.
    """
    with bulk_send.scheduler_lock(f"digests.schedule:{frequency}") as mine:
        if not mine:
            return 0
        period = period_for(frequency, now or utcnow())
        # Claims whose worker died mid-send, and retries that were lost: send them again.
        _bulk(period).requeue_stale(DigestDelivery.period == period)
        user_ids = due_user_ids(frequency, period)
        size = current_app.config["DIGEST_BATCH_SIZE"]
        for start in range(0, len(user_ids), size):
            jobs.enqueue("digests.send_batch", period, user_ids[start:start + size])
        return len(user_ids)


def due_user_ids(frequency: str, period: str) -> list[int]:
    """Users on ``frequency`` with no digest for ``period`` yet and mail not suppressed."""
    already = exists().where(DigestDelivery.user_id == User.id, DigestDelivery.period == period)
    suppressed = exists().where(MailSuppression.email == User.email,
                                MailSuppression.list_name.in_((DIGEST_LIST, EVERY_LIST)))
    return list(db.session.scalars(
        select(User.id).where(User.digest_frequency == frequency, User.is_active_account,
                              User.email_verified_at.is_not(None), ~already, ~suppressed)
        .order_by(User.id)))


# --- sending ---------------------------------------------------------------------------------

class DigestMailing:
    """One period's digests, as ``bulk_send.BulkSend`` sends them: a user is claimed with the
    new items the digest carries; a digest whose items were all dismissed or withdrawn since
    is skipped."""

    model = DigestDelivery
    list_name = DIGEST_LIST
    retry_job = "digests.send_one"

    def __init__(self, period: str) -> None:
        self.period = period

    def claims(self, users: Sequence[User]) -> list[DigestDelivery]:
        return [_new_claim(user, self.period, items)
                for user, items in content.collect_items_for(list(users)).items() if items]

    def render(self, row: DigestDelivery):
        matches, hits = content.digest_entries(row.user, list(row.items))
        return content.render_entries(row.user, matches, hits) if matches or hits else None

    def still_sending(self) -> bool:
        return True  # a period's digests are never paused

    def address(self, row: DigestDelivery) -> str:
        return row.user.email

    def retry_args(self, row: DigestDelivery) -> tuple:
        return (self.period, row.user_id)


def _bulk(period: str) -> bulk_send.BulkSend:
    return bulk_send.BulkSend(DigestMailing(period))


def send_batch(period: str, user_ids: list[int]) -> int:
    """The ``digests.send_batch`` job: one SMTP connection for many users, whose new items
    are collected and claimed together (a few queries and one commit for the batch, still
    before anything is sent).  A transient failure for one user becomes a retried
    ``send_one`` job; the batch goes on."""
    bulk = _bulk(period)
    with bulk_send.keeping_rows():
        claimed, others = _claim_batch(period, user_ids)
        # Already claimed once: retries, take-overs, races (each sent only if still free).
        taken = db.session.scalars(select(DigestDelivery).where(
            DigestDelivery.period == period, DigestDelivery.user_id.in_(others))
            .order_by(DigestDelivery.user_id)).all()
        return bulk.send(claimed, take_over=taken)


def send_one(period: str, user_id: int) -> int:
    """The ``digests.send_one`` job (retried with backoff on transient failures)."""
    with MailSession() as session:
        return deliver(user_id, period, session)


def deliver(user_id: int, period: str, session: MailSession) -> int:
    """Claim, send and record one user's digest.  Returns 1 if an e-mail went out."""
    bulk = _bulk(period)
    row = db.session.scalar(select(DigestDelivery).where(
        DigestDelivery.user_id == user_id, DigestDelivery.period == period))
    if row is not None:
        return bulk.take_over(row, session)
    claimed, _ = _claim_batch(period, [user_id])
    return bulk.deliver(claimed[0], session) if claimed else 0


def _claim_batch(period: str, user_ids: list[int]) -> tuple[list[DigestDelivery], list[int]]:
    """Claim this period's digest for every user in ``user_ids`` who has something new.

    Returns the new claims, and the users who already had a delivery row for the period
    (those are taken over, and sent only if free).
    """
    existing = set(db.session.scalars(select(DigestDelivery.user_id).where(
        DigestDelivery.period == period, DigestDelivery.user_id.in_(user_ids))))
    users = [user for user in db.session.scalars(
        select(User).where(User.id.in_([u for u in user_ids if u not in existing])))
        if wants_digest(user)]
    return _bulk(period).claim(users), sorted(existing)


def _new_claim(user: User, period: str, items: list[NewItem]) -> DigestDelivery:
    return DigestDelivery(user_id=user.id, user=user, period=period, status=DeliveryStatus.CLAIMED,
                          attempts=1,
                          items=[DigestItem(user_id=user.id, rank=rank, **item.columns())
                                 for rank, item in enumerate(items)])


def wants_digest(user: User) -> bool:
    return (user.digest_frequency in FREQUENCIES and user.is_active_account
            and user.email_verified_at is not None)


def send_now(user: User | None = None) -> int:
    """``flask digests send --now``: every due digest (or one user's), in this process."""
    now = utcnow()
    users = [user] if user else db.session.scalars(
        select(User).where(User.digest_frequency.in_(FREQUENCIES)).order_by(User.id)).all()
    sent = 0
    with MailSession() as session:
        for each in users:
            sent += deliver(each.id, period_for(each.digest_frequency, now), session)
    return sent
