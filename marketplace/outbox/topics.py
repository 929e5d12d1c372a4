"""What each outbox topic does when handled, and the embedded publisher that handles
events in-process.

With Redis configured the publisher is ``marketplace.jobs.celery_publisher``, which queues the
``outbox.handle`` job; that job calls ``handle_event_ids`` below, so both modes run one code
path.
"""

from __future__ import annotations

from marketplace import jobs
from marketplace.discovery.matching import handle_listing_changed
from marketplace.models import OutboxEvent
from marketplace.outbox import relay


def _listing_changed(event: OutboxEvent) -> None:
    handle_listing_changed(event.payload["kind"], int(event.payload["id"]))


def _account_mail(event: OutboxEvent) -> None:
    jobs.enqueue("accounts.send_mail", event.payload["mail"], int(event.payload["user"]))


def _introduction_mail(event: OutboxEvent) -> None:
    payload = event.payload
    jobs.enqueue("introductions.notice", payload["mail"], int(payload["introduction"]),
                 int(payload["to"]), payload.get("message"))


def _event_mail(event: OutboxEvent) -> None:
    payload = event.payload
    jobs.enqueue("calendar.send_mail", payload["mail"], int(payload["registration"]),
                 payload.get("request"), payload.get("meeting"))


def _meeting_held(event: OutboxEvent) -> None:
    jobs.enqueue("introductions.meeting_held", event.payload)


HANDLERS = {relay.LISTING_CHANGED: _listing_changed, relay.ACCOUNT_MAIL: _account_mail,
            relay.INTRODUCTION_MAIL: _introduction_mail, relay.EVENT_MAIL: _event_mail,
            relay.MEETING_HELD: _meeting_held}


def handle(event: OutboxEvent) -> None:
    HANDLERS[event.topic](event)


def handle_event_ids(event_ids: list[int]) -> None:
    """The ``outbox.handle`` job: run each unsent event's handler; safe to run twice."""
    relay.handle_events(event_ids, handle)


def inline_publisher(event_ids: list[int]) -> None:
    """Embedded mode: handle the events now, in this process."""
    handle_event_ids(event_ids)
