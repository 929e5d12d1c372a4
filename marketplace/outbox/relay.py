"""Writing the outbox at flush time, and relaying it after commit.

After every flush the listeners note which listings changed (ids only) in ``session.info``.
Just before the commit they write one ``OutboxEvent("listing.changed")`` per listing, in the
same transaction, so an event exists exactly when the change does.  A rollback forgets them.

After the commit the relay hands the new events to a *publisher*.  The embedded default
handles them in-process; with Redis configured, ``marketplace.jobs.celery_publisher`` sends
them to Celery by task name and marks them published (the web layer never imports
``workers``).  An event stays unsent until a handler has run it; ``relay_pending`` (a periodic
job) resends events that were never published - Redis was down - or were published long ago
and never handled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import (
    Need,
    NeedSector,
    Organization,
    OutboxEvent,
    Solution,
    SolutionCountry,
    SolutionSector,
)
from marketplace.models._time import utcnow

log = logging.getLogger(__name__)

# The topics (``topics.HANDLERS`` says what each does).  A listing was created, edited or
# changed state: payload {"kind": "solution" | "need", "id": <id>}.
LISTING_CHANGED = "listing.changed"
# Mail about an account (verification, reset, "someone tried to register"): payload
# {"mail": <template name>, "user": <id>}.  The job builds the links itself, so no token
# is ever stored.
ACCOUNT_MAIL = "account.mail"
# Mail about an introduction: payload {"mail": <template name>, "introduction": <id>,
# "to": <organisation id>, "message": <message id> | None}.
INTRODUCTION_MAIL = "introduction.mail"
# Mail about an event registration or its meetings: payload {"mail": <template name>,
# "registration": <id>, "request": <meeting request id> | None, "meeting": <id> | None}.
EVENT_MAIL = "event.mail"
# A B2B meeting was held: payload {"meeting", "need", "solution", "requester_org",
# "recipient_org", "actor"} (ids); the introductions pipeline moves the pair to "meeting".
MEETING_HELD = "meeting.held"

CHANGES_KEY = "outbox_listing_changes"
NEW_EVENTS_KEY = "outbox_new_event_ids"

# Publisher: takes the ids of committed, unsent events and gets them handled.
Publisher = Callable[[list[int]], None]


def _listing_keys(obj) -> list[tuple[str, int]]:
    """(kind, id) of the listings whose search document depends on ``obj``."""
    if isinstance(obj, Solution | Need):
        return [(obj.kind, obj.id)]
    if isinstance(obj, SolutionSector | SolutionCountry):
        return [("solution", obj.solution_id)]
    if isinstance(obj, NeedSector):
        return [("need", obj.need_id)]
    if isinstance(obj, Organization):
        # The organisation's name and base are part of its listings' documents.
        return [(listing.kind, listing.id) for listing in obj.solutions + obj.needs]
    return []


def _after_flush(session: Session, flush_context) -> None:
    changes = session.info.setdefault(CHANGES_KEY, set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        changes.update(key for key in _listing_keys(obj) if key[1] is not None)


def _before_commit(session: Session) -> None:
    # The commit flushes only after this hook: flush now so every change is collected.
    session.flush()
    changes = session.info.pop(CHANGES_KEY, set())
    if not changes:
        return
    events = [OutboxEvent(topic=LISTING_CHANGED, payload={"kind": kind, "id": listing_id})
              for kind, listing_id in sorted(changes)]
    session.add_all(events)
    session.flush()  # the commit that follows writes them with the change
    session.info.setdefault(NEW_EVENTS_KEY, []).extend(e.id for e in events)


def _after_commit(session: Session) -> None:
    event_ids = session.info.pop(NEW_EVENTS_KEY, [])
    if event_ids:
        # Queued for the end of the request (or the CLI command): publishing here would run
        # more SQL inside a session that is still finishing its commit.
        session.info.setdefault("outbox_to_publish", []).extend(event_ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGES_KEY, None)
    session.info.pop(NEW_EVENTS_KEY, None)


def emit(topic: str, payload: dict) -> OutboxEvent:
    """Write an event in the current transaction (ids only in ``payload``); it is published
    after the commit, like the listing events, and forgotten on a rollback."""
    outbox_event = OutboxEvent(topic=topic, payload=payload)
    db.session.add(outbox_event)
    db.session.flush()
    db.session.info.setdefault(NEW_EVENTS_KEY, []).append(outbox_event.id)
    return outbox_event


def publish_committed(*, fresh_session: bool = False) -> None:
    """Hand events committed by this session to the publisher.

    ``fresh_session`` starts the handlers on an empty session: after a big unit of work (the
    demo seed) every commit would otherwise expire and reload thousands of objects.
    """
    event_ids = db.session.info.pop("outbox_to_publish", [])
    if event_ids:
        if fresh_session:
            db.session.remove()
        publish(event_ids)


def mark_committed_as_handled() -> int:
    """For bulk loads that index and match everything themselves afterwards: the events this
    session committed are marked handled instead of being handled one by one."""
    event_ids = db.session.info.pop("outbox_to_publish", [])
    if event_ids:
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                           .values(handled_at=utcnow()))
        db.session.commit()
    return len(event_ids)


def publish(event_ids: list[int]) -> None:
    publisher: Publisher = current_app.extensions["outbox_publisher"]
    try:
        publisher(event_ids)
    except Exception:  # the events stay in the outbox; relay_pending resends them
        log.exception("publishing outbox events %s failed; they will be retried", event_ids)


# A published event not handled after this long is presumed lost and published again
# (handling is idempotent, so a slow one handled twice does no harm).
REPUBLISH_AFTER = timedelta(minutes=10)


def relay_pending(limit: int = 500) -> int:
    """Resend events that were never handled (after a crash or while a broker was down)."""
    stale = utcnow() - REPUBLISH_AFTER
    ids = list(db.session.scalars(
        select(OutboxEvent.id)
        .where(OutboxEvent.handled_at.is_(None),
               or_(OutboxEvent.published_at.is_(None), OutboxEvent.published_at < stale))
        .order_by(OutboxEvent.id).limit(limit)
    ))
    if ids:
        publish(ids)
    return len(ids)


def mark_published(event_ids: list[int]) -> None:
    db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                       .values(published_at=utcnow()))
    db.session.commit()


def handle_events(event_ids: list[int], handler: Callable[[OutboxEvent], None]) -> None:
    """Run ``handler`` for each unsent event and mark it sent; safe to run twice."""
    for event_id in event_ids:
        outbox_event = db.session.get(OutboxEvent, event_id)
        if outbox_event is None or outbox_event.handled_at is not None:
            continue
        outbox_event.attempts += 1
        try:
            handler(outbox_event)
        except Exception as error:
            db.session.rollback()
            _record_failure(event_id, error)
            continue
        outbox_event.handled_at = utcnow()
        db.session.commit()


def _record_failure(event_id: int, error: Exception) -> None:
    log.warning("outbox event %s failed: %s", event_id, error, exc_info=error)
    outbox_event = db.session.get(OutboxEvent, event_id)
    if outbox_event is not None:
        outbox_event.attempts += 1
        outbox_event.last_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()


def init_app(app: Flask, publisher: Publisher) -> None:
    app.extensions["outbox_publisher"] = publisher
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, t: _after_rollback(s))

    @app.teardown_appcontext
    def _publish_at_teardown(exc):
        if exc is None:
            publish_committed(fresh_session=True)
