"""Exhibitors: a supplier registered for an event chooses which of its published solutions
it shows there; the event page lists the exhibitors and their solutions."""

from __future__ import annotations

from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from marketplace.calendar.registration import RegistrationError, registration_of
from marketplace.extensions import db
from marketplace.listings.lifecycle import live_filter
from marketplace.models import Event, EventExhibit, Organization, Solution, User
from marketplace.models.states import RegistrationStatus


def showable(user: User) -> list[Solution]:
    """The solutions ``user``'s organisation may show: its published ones."""
    if user.organization_id is None:
        return []
    return list(db.session.scalars(select(Solution).where(
        Solution.organization_id == user.organization_id, live_filter(Solution))
        .order_by(Solution.title)))


def shown_by(user: User, event: Event) -> set[int]:
    return set(db.session.scalars(select(EventExhibit.solution_id).join(Solution).where(
        EventExhibit.event_id == event.id, Solution.organization_id == user.organization_id)))


def choose(user: User, event: Event, solution_ids: list[int]) -> None:
    """Replace the organisation's exhibits at ``event`` with ``solution_ids``."""
    registration = registration_of(user, event)
    if registration is None or registration.status != RegistrationStatus.REGISTERED:
        raise RegistrationError(_l("Register for the event first: exhibitors need a place."))
    own = {solution.id for solution in showable(user)}
    if not set(solution_ids) <= own:
        raise RegistrationError(_l("You can only show your organisation's published "
                                   "solutions."))
    mine = select(Solution.id).where(Solution.organization_id == user.organization_id)
    db.session.execute(delete(EventExhibit).where(EventExhibit.event_id == event.id,
                                                  EventExhibit.solution_id.in_(mine)))
    db.session.add_all(EventExhibit(event=event, solution_id=sid) for sid in solution_ids)


def exhibitors(event: Event) -> list[tuple[Organization, list[Solution]]]:
    """Each exhibiting organisation with the live solutions it shows, by name."""
    solutions = db.session.scalars(
        select(Solution).join(EventExhibit).join(Organization)
        .where(EventExhibit.event_id == event.id, live_filter(Solution))
        .order_by(Organization.name, Solution.title)).all()
    return [(org, list(group)) for org, group in groupby(solutions, lambda s: s.organization)]
