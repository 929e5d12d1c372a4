"""The domain model: one module per domain, all on one declarative base."""

from marketplace.models.listings import (
    ModerationDecision,
    Need,
    NeedSector,
    ReferenceProject,
    Solution,
    SolutionCountry,
    SolutionSector,
)
from marketplace.models.organizations import Organization
from marketplace.models.users import User

__all__ = [
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
