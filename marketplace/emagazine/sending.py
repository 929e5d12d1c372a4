"""Sending an issue, and recovering from dead workers.

Sending walks a per-recipient ledger (``IssueDelivery``, unique per issue and address) with
``marketplace.mailing.bulk_send.BulkSend`` (claims, chunks, deferral, take-over) over the
claim-before-send, transport, rate limit, retries and bounce handling of
``marketplace.mailing``.  What is the E-magazine's own is ``IssueMailing``.

Each ``emagazine.send_batch`` job claims its recipients in one transaction, then sends them
one by one, checking every few messages that the issue is still ``sending`` (pause) and the
addresses still wanted (unsubscribe, bounce).  ``tick`` (every minute) starts due scheduled
issues, takes over claims whose worker died, re-plans recipients a killed batch never
reached, and marks finished issues sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.emagazine.audience import Recipient, recipients
from marketplace.emagazine.rendering import _EditionCache, render_issue
from marketplace.emagazine.workflow import current_status, finish_if_done, plan, start
from marketplace.extensions import db
from marketplace.mailing import bulk_send, ledger
from marketplace.mailing.transport import MailSession
from marketplace.models import Issue, IssueDelivery, Subscriber
from marketplace.models._time import utcnow
from marketplace.models.mail import EMAGAZINE_LIST
from marketplace.models.states import DeliveryStatus, IssueStatus


class IssueMailing:
    """One issue, as ``bulk_send.BulkSend`` sends it: a reader is claimed with the address
    and language planned for them; the issue can be paused."""

    model = IssueDelivery
    list_name = EMAGAZINE_LIST
    retry_job = "emagazine.send_one"

    def __init__(self, issue: Issue, render=None) -> None:
        """``render``: a row's message; by default the edition rendered for that reader."""
        self.issue_id = issue.id  # kept: a commit may expire ``issue`` between two looks
        self._render = render or (lambda row: render_issue(issue, row.language, row.email))

    def claims(self, batch: Sequence[Recipient]) -> list[IssueDelivery]:
        return [_new_claim(self.issue_id, recipient) for recipient in batch]

    def render(self, row: IssueDelivery):
        return self._render(row)

    def still_sending(self) -> bool:
        return current_status(self.issue_id) == IssueStatus.SENDING

    def address(self, row: IssueDelivery) -> str:
        return row.email

    def retry_args(self, row: IssueDelivery) -> tuple:
        return (row.id,)


def send_batch(issue_id: int, subscriber_ids: list[int]) -> int:
    """The ``emagazine.send_batch`` job: claim the batch's readers still in the audience,
    then send each the edition, rendered once per language for the batch."""
    with bulk_send.keeping_rows():  # the issue and its editions, too, are read all along
        issue = db.session.get(Issue, issue_id)
        if issue is None or issue.status != IssueStatus.SENDING:
            return 0
        batch = recipients(issue.audience or {}, only_ids=subscriber_ids)
        _skip(issue_id, set(subscriber_ids) - {r.subscriber_id for r in batch})
        cache = _EditionCache(issue)
        bulk = bulk_send.BulkSend(IssueMailing(issue, render=cache.message_for))
        sent = bulk.send(list(claim(issue, batch).values()))
        db.session.expire_all()  # the issue as it is now, not as the batch found it
        finish_if_done(db.session.get(Issue, issue_id))
        return sent


def send_one(delivery_id: int) -> int:
    """The ``emagazine.send_one`` job: a retry, or a claim taken over from a dead worker."""
    row = db.session.get(IssueDelivery, delivery_id)
    if row is None:
        return 0
    issue = db.session.get(Issue, row.issue_id)
    with MailSession() as session:
        sent = bulk_send.BulkSend(IssueMailing(issue)).take_over(row, session)
    finish_if_done(issue)
    return sent


def claim(issue: Issue, batch: list[Recipient]) -> dict[int, IssueDelivery]:
    """Claim the issue for each recipient in ``batch``, committed before anything is sent;
    recipients someone else has already claimed are left out.  By subscriber id."""
    if not batch:
        return {}
    existing = set(db.session.scalars(select(IssueDelivery.subscriber_id).where(
        IssueDelivery.issue_id == issue.id,
        IssueDelivery.subscriber_id.in_([r.subscriber_id for r in batch]))))
    fresh = [r for r in batch if r.subscriber_id not in existing]
    rows = bulk_send.BulkSend(IssueMailing(issue)).claim(fresh)
    return {row.subscriber_id: row for row in rows}


def _new_claim(issue_id: int, recipient: Recipient) -> IssueDelivery:
    return IssueDelivery(issue_id=issue_id, subscriber_id=recipient.subscriber_id,
                         email=recipient.email, language=recipient.language,
                         status=DeliveryStatus.CLAIMED, attempts=1)


def _skip(issue_id: int, subscriber_ids: set[int]) -> None:
    """Planned recipients who left the audience before their batch ran (unsubscribed,
    bounced) are recorded as skipped, so the issue does not wait for them forever."""
    if not subscriber_ids:
        return
    existing = set(db.session.scalars(select(IssueDelivery.subscriber_id).where(
        IssueDelivery.issue_id == issue_id, IssueDelivery.subscriber_id.in_(subscriber_ids))))
    for sid, email, language in db.session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.language)
            .where(Subscriber.id.in_(subscriber_ids - existing))).all():
        try:
            with db.session.begin_nested():
                db.session.add(IssueDelivery(issue_id=issue_id, subscriber_id=sid, email=email,
                                             language=language or "en",
                                             status=DeliveryStatus.SUPPRESSED))
        except IntegrityError:
            pass  # a concurrent batch recorded it first
    db.session.commit()


# --- the periodic job --------------------------------------------------------------------------

def tick() -> None:
    """The ``emagazine.tick`` job, every minute: start due issues, recover dead workers.
    One at a time (a lock shared in Redis), so two schedulers cannot start an issue twice."""
    with bulk_send.scheduler_lock("emagazine.tick") as mine:
        if mine:
            _tick()


def _tick() -> None:
    now = utcnow()
    grace = timedelta(seconds=current_app.config["EMAGAZINE_SCHEDULE_GRACE"])
    for issue in db.session.scalars(select(Issue).where(Issue.status == IssueStatus.SCHEDULED,
                                                        Issue.scheduled_at <= now)):
        if issue.scheduled_at >= now - grace:
            start(issue)
        # else: long past its time (after downtime): staff must confirm; see is_overdue
    for issue in db.session.scalars(select(Issue).where(Issue.status == IssueStatus.SENDING)):
        _recover(issue)


def _recover(issue: Issue) -> None:
    """Claims whose worker died are taken over; recipients a killed batch never reached are
    planned again - but only once nothing has moved for the claim timeout, so batches that
    are merely queued are not planned twice."""
    # Read before taking over: a take-over re-claims its row, and a worker quick to run it
    # would make the issue look busy, so the readers never reached were never planned.
    last_activity = db.session.scalar(select(func.max(IssueDelivery.claimed_at))
                                      .where(IssueDelivery.issue_id == issue.id))
    quiet_since = last_activity or issue.started_at
    quiet = quiet_since is None or quiet_since < ledger.stale_before()
    bulk_send.BulkSend(IssueMailing(issue)).requeue_stale(IssueDelivery.issue_id == issue.id)
    if quiet:
        plan(issue.id)
    finish_if_done(issue)
