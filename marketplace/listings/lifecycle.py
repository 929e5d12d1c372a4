"""The life of a listing: draft -> pending review -> published -> archived or expired.

Any edit of a listing that staff have approved (published, expired or archived) sends it
back for review, so renewing can never publish content nobody reviewed.  Staff approve (with
an optional note) or reject (with a reason the owner sees); a rejected listing goes back to
draft.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, or_, select, update

from marketplace.constants import LISTING_LIFETIME_DAYS
from marketplace.extensions import db
from marketplace.models import ModerationDecision, Need, Solution, User
from marketplace.models._time import utcnow
from marketplace.models.states import ListingStatus

LISTING_CLASSES: dict[str, type[Solution] | type[Need]] = {"solution": Solution, "need": Need}
# Which role may create which kind of listing.
CREATOR_ROLE = {"solution": "supplier", "need": "buyer"}


class TransitionError(Exception):
    """The listing is not in a state that allows this action."""


Listing = Solution | Need


def listing_class(kind: str) -> type[Solution] | type[Need]:
    if kind not in LISTING_CLASSES:
        abort(404)
    return LISTING_CLASSES[kind]


# -- permissions --------------------------------------------------------------------------


def can_view(user: User, listing: Listing) -> bool:
    if listing.is_live:
        return True
    if not user.is_authenticated:
        return False
    return user.is_staff or user.organization_id == listing.organization_id


def can_edit(user: User, listing: Listing) -> bool:
    """Only members of the owning organisation with the matching role edit a listing."""
    return (
        user.is_authenticated
        and user.organization_id == listing.organization_id
        and user.role == CREATOR_ROLE[listing.kind]
    )


def can_create(user: User, kind: str) -> bool:
    return (
        user.is_authenticated
        and user.organization_id is not None
        and user.role == CREATOR_ROLE[kind]
    )


def get_listing(kind: str, listing_id: int, *, for_edit: bool = False) -> Listing:
    """Load a listing for the current user, or answer 404 (unseen) / 403 (seen, not theirs)."""
    listing = db.session.get(listing_class(kind), listing_id)
    if listing is None or not can_view(current_user, listing):
        abort(404)  # never reveal that someone else's draft exists
    if for_edit and not can_edit(current_user, listing):
        abort(403)
    return listing


# -- transitions ----------------------------------------------------------------------------


def _record(listing: Listing, action: str, actor: User | None, note: str = "") -> None:
    db.session.add(ModerationDecision(listing_kind=listing.kind, listing_id=listing.id,
                                      action=action, note=note, actor=actor))


# States whose content staff approved: an edit there must be reviewed again.
REVIEWED_STATES = (ListingStatus.PUBLISHED, ListingStatus.EXPIRED, ListingStatus.ARCHIVED)


def mark_edited(listing: Listing, actor: User) -> bool:
    """Called after the owner saves changes. Returns True if it went back to review."""
    if listing.status in REVIEWED_STATES:
        listing.status = ListingStatus.PENDING
        listing.submitted_at = utcnow()
        _record(listing, "resubmitted", actor)
        return True
    return False


def submit(listing: Listing, actor: User) -> None:
    if listing.status != ListingStatus.DRAFT:
        raise TransitionError(_l("Only drafts can be submitted for review."))
    listing.status = ListingStatus.PENDING
    listing.submitted_at = utcnow()
    _record(listing, "submitted", actor)


def approve(listing: Listing, staff: User, note: str = "") -> None:
    if listing.status != ListingStatus.PENDING:
        raise TransitionError(_l("Only listings pending review can be approved."))
    now = utcnow()
    listing.status = ListingStatus.PUBLISHED
    listing.review_note = note
    listing.published_at = listing.published_at or now
    listing.expires_at = now + timedelta(days=LISTING_LIFETIME_DAYS)
    _record(listing, "approved", staff, note)


def reject(listing: Listing, staff: User, reason: str) -> None:
    if listing.status != ListingStatus.PENDING:
        raise TransitionError(_l("Only listings pending review can be rejected."))
    if not reason.strip():
        raise TransitionError(_l("A reason is required to reject a listing."))
    listing.status = ListingStatus.DRAFT
    listing.review_note = reason.strip()
    _record(listing, "rejected", staff, reason.strip())


def archive(listing: Listing, actor: User) -> None:
    if listing.status == ListingStatus.ARCHIVED:
        raise TransitionError(_l("This listing is already archived."))
    listing.status = ListingStatus.ARCHIVED
    _record(listing, "archived", actor)


def renew(listing: Listing, actor: User) -> None:
    """Extend a published or expired listing for another term without a new review: its
    content is what staff approved, since any edit sends it back to review."""
    if listing.status not in (ListingStatus.PUBLISHED, ListingStatus.EXPIRED):
        raise TransitionError(_l("Only published or expired listings can be renewed."))
    listing.status = ListingStatus.PUBLISHED
    listing.expires_at = utcnow() + timedelta(days=LISTING_LIFETIME_DAYS)
    _record(listing, "renewed", actor)


def expire_overdue() -> int:
    """Mark published listings past their expiry as expired. Returns how many changed."""
    now = utcnow()
    changed = 0
    for cls in LISTING_CLASSES.values():
        result = db.session.execute(
            update(cls)
            .where(cls.status == ListingStatus.PUBLISHED, cls.expires_at <= now)
            .values(status=ListingStatus.EXPIRED)
        )
        changed += result.rowcount
    return changed


def expire_overdue_and_commit() -> int:
    """The ``listings.expire`` job (and ``flask listings expire``)."""
    changed = expire_overdue()
    db.session.commit()
    return changed


def live_filter(cls: type[Solution] | type[Need]):
    """SQL condition for listings the public may see."""
    return and_(cls.status == ListingStatus.PUBLISHED,
                or_(cls.expires_at.is_(None), cls.expires_at > utcnow()))


def pending_review() -> dict[str, list[Listing]]:
    return {
        kind: list(db.session.scalars(
            select(cls).where(cls.status == ListingStatus.PENDING).order_by(cls.submitted_at)
        ))
        for kind, cls in LISTING_CLASSES.items()
    }


def history(listing: Listing) -> list[ModerationDecision]:
    return list(db.session.scalars(
        select(ModerationDecision)
        .where(ModerationDecision.listing_kind == listing.kind,
               ModerationDecision.listing_id == listing.id)
        .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
    ))
