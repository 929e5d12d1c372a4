"""An issue's workflow: draft -> scheduled -> sending -> sent (or paused), with the plan of
recipients that ``start`` queues as ``emagazine.send_batch`` jobs, and the progress staff see.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from marketplace import jobs
from marketplace.emagazine.audience import recipients, segment_count
from marketplace.extensions import db
from marketplace.models import Issue, IssueDelivery
from marketplace.models._time import utcnow
from marketplace.models.states import FINISHED, UNFINISHED, DeliveryStatus, IssueStatus

# --- the workflow ----------------------------------------------------------------------------

class WorkflowError(Exception):
    """A step that is not allowed in the issue's current state."""


def schedule(issue: Issue, when) -> None:
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
        raise WorkflowError(_l("Only a draft can be scheduled."))
    _check_editions(issue)
    issue.status, issue.scheduled_at = IssueStatus.SCHEDULED, when
    db.session.commit()


def unschedule(issue: Issue) -> None:
    if issue.status != IssueStatus.SCHEDULED:
        raise WorkflowError(_l("This issue is not scheduled."))
    issue.status = IssueStatus.DRAFT
    db.session.commit()


def _check_editions(issue: Issue) -> None:
    languages = {edition.language for edition in issue.editions}
    if not {"en", "zh"} <= languages:
        raise WorkflowError(_l("An issue needs an English and a Chinese edition before sending."))


def start(issue: Issue) -> int:
    """Send now: plan the recipients and queue the batches.  Returns how many."""
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
        raise WorkflowError(_l("This issue has already been sent or is being sent."))
    _check_editions(issue)
    issue.status, issue.started_at = IssueStatus.SENDING, utcnow()
    issue.recipient_count = segment_count(issue.audience or {})
    db.session.commit()
    return plan(issue.id)


def pause(issue: Issue) -> None:
    if issue.status != IssueStatus.SENDING:
        raise WorkflowError(_l("Only an issue that is sending can be paused."))
    issue.status = IssueStatus.PAUSED
    db.session.commit()


def resume(issue: Issue) -> int:
    if issue.status != IssueStatus.PAUSED:
        raise WorkflowError(_l("Only a paused issue can be resumed."))
    issue.status = IssueStatus.SENDING
    db.session.commit()
    return plan(issue.id)


def plan(issue_id: int) -> int:
    """Queue batches for the recipients with no delivery row yet (safe to repeat)."""
    issue = db.session.get(Issue, issue_id)
    done = set(db.session.scalars(select(IssueDelivery.subscriber_id)
                                  .where(IssueDelivery.issue_id == issue_id)))
    todo = [r.subscriber_id for r in recipients(issue.audience or {})
            if r.subscriber_id not in done]
    # Who the issue is for from now on: readers who left the audience since it was counted
    # (unsubscribed while it was paused) must not be waited for.  Committed before the
    # batches run, since they compare it with the ledger to tell when the issue is done.
    issue.recipient_count = len(done) + len(todo)
    db.session.commit()
    size = current_app.config["EMAGAZINE_BATCH_SIZE"]
    for start_at in range(0, len(todo), size):
        jobs.enqueue("emagazine.send_batch", issue_id, todo[start_at:start_at + size])
    if not todo:
        finish_if_done(issue)
    return len(todo)


def current_status(issue_id: int) -> str:
    """The issue's status in the database, whatever this session holds."""
    return db.session.scalar(select(Issue.status).where(Issue.id == issue_id))


def finish_if_done(issue: Issue | None) -> bool:
    """Mark the issue sent once every planned recipient has a finished delivery."""
    if issue is None or issue.status != IssueStatus.SENDING:
        return False
    counts = progress(issue)
    if counts["remaining"] or counts["in_flight"]:
        return False
    done = db.session.execute(update(Issue).where(Issue.id == issue.id,
                                                  Issue.status == IssueStatus.SENDING)
                              .values(status=IssueStatus.SENT, sent_at=utcnow())).rowcount
    db.session.commit()
    return bool(done)


def progress(issue: Issue) -> dict[str, int]:
    """What the staff page's progress bar shows."""
    by_status = Counter(dict(db.session.execute(
        select(IssueDelivery.status, func.count()).where(IssueDelivery.issue_id == issue.id)
        .group_by(IssueDelivery.status)).all()))
    finished = sum(by_status[s] for s in FINISHED)
    in_flight = sum(by_status[s] for s in UNFINISHED)
    total = max(issue.recipient_count, finished + in_flight)
    return {"total": total, "sent": by_status[DeliveryStatus.SENT],
            "failed": by_status[DeliveryStatus.FAILED] + by_status[DeliveryStatus.BOUNCED],
            "skipped": by_status[DeliveryStatus.SUPPRESSED], "in_flight": in_flight,
            "remaining": total - finished - in_flight, "status": issue.status}


def is_overdue(issue: Issue) -> bool:
    grace = timedelta(seconds=current_app.config["EMAGAZINE_SCHEDULE_GRACE"])
    return (issue.status == IssueStatus.SCHEDULED and issue.scheduled_at is not None
            and issue.scheduled_at < utcnow() - grace)
