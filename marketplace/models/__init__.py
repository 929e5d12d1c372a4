"""The domain model: one module per domain, all on one declarative base."""

from marketplace.models.audit import AuditAction, AuditEntry
from marketplace.models.calendar import (
    EventExhibit,
    EventRegistration,
    Meeting,
    MeetingRequest,
    MeetingSlot,
    MeetingUnavailability,
)
from marketplace.models.discovery import EmbeddingCache, Match, SavedSearch
from marketplace.models.emagazine import (
    Event,
    Issue,
    IssueDelivery,
    IssueEdition,
    IssueSection,
    Subscriber,
)
from marketplace.models.introductions import Introduction, IntroductionMessage, IntroductionStep
from marketplace.models.listings import (
    ModerationDecision,
    Need,
    NeedSector,
    ReferenceProject,
    Solution,
    SolutionCountry,
    SolutionSector,
)
from marketplace.models.mail import DigestDelivery, DigestItem, MailSuppression
from marketplace.models.organizations import Organization
from marketplace.models.outbox import OutboxEvent
from marketplace.models.users import User

__all__ = [
    "AuditAction",
    "AuditEntry",
    "Event",
    "EventExhibit",
    "EventRegistration",
    "Meeting",
    "MeetingRequest",
    "MeetingSlot",
    "MeetingUnavailability",
    "Issue",
    "IssueDelivery",
    "IssueEdition",
    "IssueSection",
    "Subscriber",
    "DigestDelivery",
    "DigestItem",
    "MailSuppression",
    "EmbeddingCache",
    "Introduction",
    "IntroductionMessage",
    "IntroductionStep",
    "Match",
    "OutboxEvent",
    "SavedSearch",
    "ModerationDecision",
    "Need",
    "NeedSector",
    "Organization",
    "ReferenceProject",
    "Solution",
    "SolutionCountry",
    "SolutionSector",
    "User",
]
