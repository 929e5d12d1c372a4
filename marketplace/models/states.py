"""Every state a row can be in: one ``StrEnum`` per state set, used by the columns (each
refuses any other value with a CHECK constraint) and by the code.  A member compares equal to
its string, so templates and JSON keep reading plain strings."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import mapped_column


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # submitted, waiting for a moderator
    PUBLISHED = "published"
    ARCHIVED = "archived"
    EXPIRED = "expired"


class MatchState(StrEnum):
    """One side's view of a match (the buyer's and the supplier's are kept apart)."""

    NEW = "new"
    INTERESTING = "interesting"
    DISMISSED = "dismissed"


class DeliveryStatus(StrEnum):
    """One e-mail of a bulk mailing, claimed before it is submitted."""

    CLAIMED = "claimed"  # a worker owns it and is sending
    RETRYING = "retrying"  # released after a transient failure
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"  # the address left the list before its turn
    SKIPPED = "skipped"  # by send time nothing it was claimed for was still worth sending


# Still owned by a sender (to be finished or taken over), and finished for good.
UNFINISHED = (DeliveryStatus.CLAIMED, DeliveryStatus.RETRYING)
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.BOUNCED,
            DeliveryStatus.SUPPRESSED, DeliveryStatus.SKIPPED)


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not yet confirmed (double opt-in)
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class IssueStatus(StrEnum):
    """An E-magazine issue: draft -> scheduled -> sending (<-> paused) -> sent."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"


class IntroductionStage(StrEnum):
    """An introduction: requested (``new``), then, once the other side accepts, a pipeline
    through to a contract; or declined, or expired unanswered."""

    NEW = "new"
    CONTACTED = "contacted"
    MEETING = "meeting"
    NDA = "nda"
    PILOT = "pilot"
    CONTRACT = "contract"
    DECLINED = "declined"
    EXPIRED = "expired"


# The pipeline's forward order, and the stages an introduction never leaves.
PIPELINE = (IntroductionStage.CONTACTED, IntroductionStage.MEETING, IntroductionStage.NDA,
            IntroductionStage.PILOT, IntroductionStage.CONTRACT)
CLOSED = (IntroductionStage.CONTRACT, IntroductionStage.DECLINED, IntroductionStage.EXPIRED)


class RegistrationStatus(StrEnum):
    """A participant's place at an event."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"  # the event was full; moved up when a place frees
    CANCELLED = "cancelled"


class ScheduleState(StrEnum):
    """An event's B2B meeting schedule: a proposal staff work on, then published to the
    participants as preliminary, then as final."""

    DRAFT = "draft"
    PRELIMINARY = "preliminary"
    FINAL = "final"


class MeetingRequestStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class MeetingStatus(StrEnum):
    """A meeting the scheduler placed: until the day, scheduled (or cancelled when it no
    longer fits); on the day, held or a no-show."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    HELD = "held"
    NO_SHOW = "no_show"


def allowed_values(column: str, states: type[StrEnum]) -> CheckConstraint:
    """The CHECK constraint that keeps ``column`` to ``states`` (named ck_<table>_<column>)."""
    values = ", ".join(f"'{state.value}'" for state in states)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def state_column(column: str, states: type[StrEnum], default: StrEnum, **kwargs):
    """A short string column that only takes ``states``' values."""
    return mapped_column(String(16), allowed_values(column, states), default=default,
                         **kwargs)
