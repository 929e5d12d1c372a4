"""What each outbox topic means, and the embedded publisher that handles events in-process.

The background-jobs layer replaces the publisher with one that queues Celery tasks; the
handlers stay the same, so both modes run one code path.
"""

from __future__ import annotations

from marketplace import outbox
from marketplace.models import OutboxEvent


def _listing_changed(event: OutboxEvent) -> None:
    from marketplace.services.matching import handle_listing_changed

    handle_listing_changed(event.payload["kind"], int(event.payload["id"]))


HANDLERS = {outbox.LISTING_CHANGED: _listing_changed}


def handle(event: OutboxEvent) -> None:
    HANDLERS[event.topic](event)


def inline_publisher(event_ids: list[int]) -> None:
    """Embedded mode: handle the events now, in this process."""
    outbox.handle_events(event_ids, handle)
