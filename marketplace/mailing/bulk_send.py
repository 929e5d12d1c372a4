"""Sending one mailing to many recipients: the steps every bulk sender shares.

A mailing (the match digests, the E-magazine) describes only what is its own, as a
``Mailing``: how to claim a recipient (build its delivery row), how to render a claimed
row, and whether it is still sending.  ``BulkSend`` does the rest, the same way for every
mailing: the batch claim with its fallback to one claim at a time, chunks with one look at
the suppressions (and at ``still_sending``) each, deferral of a transient failure to a retry
job, take-over of rows already claimed, and the requeueing of claims whose worker died.
Each delivery itself goes through the claim-before-send of ``marketplace.mailing.ledger``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import coordination, jobs
from marketplace.extensions import db
from marketplace.mailing import ledger, suppressions
from marketplace.mailing.transport import MailSession, TransientMailError
from marketplace.models.mail import DeliveryMixin
from marketplace.models.states import UNFINISHED, DeliveryStatus

log = logging.getLogger(__name__)

CHECK_EVERY = 20  # messages between two looks at the suppressions and the status (a query each)


class Mailing(Protocol):
    """What one kind of bulk mail supplies to ``BulkSend``."""

    model: type[DeliveryMixin]  # its delivery ledger
    list_name: str  # the list its readers unsubscribe from
    retry_job: str  # the job that sends one delivery again, with ``retry_args(row)``

    def claims(self, candidates: Sequence[Any]) -> list[DeliveryMixin]:
        """New "claimed" rows (not added to the session) for the candidates that get mail."""

    def render(self, row: DeliveryMixin) -> EmailMessage | None:
        """The message for a claimed row; None if it has nothing left to say (skipped)."""

    def still_sending(self) -> bool:
        """False once the mailing is stopped (a paused issue): unsent claims are released."""

    def address(self, row: DeliveryMixin) -> str: ...

    def retry_args(self, row: DeliveryMixin) -> tuple: ...


@contextmanager
def scheduler_lock(name: str) -> Iterator[bool]:
    """One scheduler at a time for ``name`` (a lock shared in Redis, which expires should its
    holder die); yields whether we are it."""
    with coordination.exclusive(name, ttl_seconds=300) as mine:
        if not mine:
            log.info("%s is already running elsewhere", name)
        yield mine


@contextmanager
def keeping_rows() -> Iterator[None]:
    """A session that does not expire its objects at each commit: a batch's claimed rows are
    its own, so recording each outcome need not reload them (a pause is seen by a query of
    its own).  Afterwards they are expired, as the job's last commit would have."""
    orm_session = db.session()
    expire_on_commit = orm_session.expire_on_commit
    orm_session.expire_on_commit = False
    try:
        yield
    finally:
        orm_session.expire_on_commit = expire_on_commit
        if expire_on_commit:
            db.session.expire_all()


class BulkSend:
    """Claims and sends one mailing's deliveries; see the module docstring."""

    def __init__(self, mailing: Mailing) -> None:
        self.mailing = mailing

    def claim(self, candidates: Sequence[Any]) -> list[DeliveryMixin]:
        """Claim every candidate in one transaction, committed before anything is sent.  If a
        concurrent run claimed some of them first, claim one at a time and leave those out."""
        rows = self.mailing.claims(candidates)
        db.session.add_all(rows)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return self._claim_one_by_one(candidates)
        return rows

    def _claim_one_by_one(self, candidates: Sequence[Any]) -> list[DeliveryMixin]:
        claimed = []
        for candidate in candidates:
            rows = self.mailing.claims([candidate])
            db.session.add_all(rows)
            try:
                db.session.commit()
            except IntegrityError:  # another run claimed this one
                db.session.rollback()
                continue
            claimed += rows
        return claimed

    def send(self, claimed: Sequence[DeliveryMixin],
             take_over: Sequence[DeliveryMixin] = ()) -> int:
        """The batch job's sending, on one SMTP connection: the rows this batch claimed, then
        rows claimed before that are free again (``take_over``: retries, dead workers).
        Returns how many e-mails went out."""
        with keeping_rows(), MailSession() as session:
            sent = self._send_chunks(claimed, session)
            for row in take_over:
                sent += self._or_defer(row, lambda row=row: self.take_over(row, session))
        return sent

    def _send_chunks(self, claimed: Sequence[DeliveryMixin], session: MailSession) -> int:
        sent = 0
        for start in range(0, len(claimed), CHECK_EVERY):
            # Looked at again every few messages, so a pause or an unsubscribe takes effect
            # within moments, without two queries per message.
            if not self.mailing.still_sending():
                self.release(claimed[start:])
                break
            chunk = claimed[start:start + CHECK_EVERY]
            gone = suppressions.suppressed_among([self.mailing.address(row) for row in chunk],
                                                  self.mailing.list_name)
            for row in chunk:
                suppressed = self.mailing.address(row) in gone
                sent += self._or_defer(row, lambda row=row, suppressed=suppressed: self.deliver(
                    row, session, suppressed=suppressed))
        return sent

    def _or_defer(self, row: DeliveryMixin, send: Callable[[], int]) -> int:
        """A transient failure for one recipient becomes a retry job; the batch goes on."""
        try:
            return send()
        except TransientMailError as error:
            log.warning("%s to %s deferred: %s", self.mailing.retry_job,
                        self.mailing.address(row), error)
            jobs.enqueue(self.mailing.retry_job, *self.mailing.retry_args(row),
                         countdown=jobs.retry_delay(0))
            return 0

    def take_over(self, row: DeliveryMixin | None, session: MailSession) -> int:
        """Send a row claimed earlier, if it is free (a retry, or a worker that died) and the
        mailing is still sending.  Transient failures re-raise, for the retry job."""
        if row is None or row.status not in UNFINISHED or not ledger.take_over(row):
            return 0
        if not self.mailing.still_sending():
            self.release([row])
            return 0
        return self.deliver(row, session)

    def deliver(self, row: DeliveryMixin, session: MailSession,
                suppressed: bool | None = None) -> int:
        """Send one row this worker owns.  ``suppressed``: already looked up by the caller for
        a few rows at once; None to look it up here."""
        if suppressed:
            return ledger.finish(row, DeliveryStatus.SUPPRESSED)
        return ledger.send_claimed(row, email=self.mailing.address(row),
                                     list_name=self.mailing.list_name,
                                     render=lambda: self.mailing.render(row), session=session,
                                     suppression_checked=suppressed is not None)

    def release(self, rows: Sequence[DeliveryMixin]) -> None:
        """A stopped mailing's unsent claims go back, deleted so that resuming claims them
        afresh.  Rows another worker has sent or released meanwhile are left alone."""
        ids = [row.id for row in rows]
        if ids:
            model = self.mailing.model
            db.session.execute(model.__table__.delete().where(
                model.id.in_(ids), model.status == DeliveryStatus.CLAIMED))
            db.session.commit()

    def requeue_stale(self, *where) -> int:
        """Queue a retry for each free row matching ``where``: claims whose worker died
        mid-send, and retries that were lost (``take_over`` sends each only if still free)."""
        model = self.mailing.model
        stale = db.session.scalars(select(model).where(*where, ledger.free_condition(model)))
        count = 0
        for row in stale:
            jobs.enqueue(self.mailing.retry_job, *self.mailing.retry_args(row))
            count += 1
        return count
