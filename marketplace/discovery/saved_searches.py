"""Saved searches ("tell me about new results"), which the digest job reads.

Each one costs a search per digest run, so a user keeps at most ``MAX_PER_USER``, and saving
the same search again keeps the one already there.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.listings.browse import BrowseFilters
from marketplace.models import SavedSearch, User
from marketplace.models._time import utcnow

MAX_PER_USER = 20


class LimitReached(Exception):
    """The user already has ``MAX_PER_USER`` saved searches."""


def save(user: User, kind: str, filters: BrowseFilters) -> SavedSearch | None:
    """Save the search; None if the user already had this one.  Raises LimitReached.

    The user's row is locked first (PostgreSQL; SQLite writes one at a time anyway), so two
    saves at the same moment cannot both take the last place.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    others = {k: v for k, v in filters.as_args().items() if k != "q"}
    mine = list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)))
    if any((s.kind, s.query, s.filters) == (kind, filters.q, others) for s in mine):
        return None
    if len(mine) >= MAX_PER_USER:
        raise LimitReached
    saved = SavedSearch(user_id=user.id, kind=kind, query=filters.q, filters=others,
                        last_notified_at=utcnow())
    db.session.add(saved)
    return saved



def for_user(user: User) -> list[SavedSearch]:
    """The user's saved searches, newest first."""
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)
                                   .order_by(SavedSearch.created_at.desc(),
                                             SavedSearch.id.desc())))


def delete(user: User, saved_id: int) -> bool:
    """Delete one of the user's saved searches; False if they have none with that id.

    Filtering on the owner too means another user's id looks the same as a missing one.
    """
    saved = db.session.scalar(select(SavedSearch).where(SavedSearch.id == saved_id,
                                                        SavedSearch.user_id == user.id))
    if saved is None:
        return False
    db.session.delete(saved)
    return True
