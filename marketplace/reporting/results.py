"""The public results page: what the network did, in aggregates only.

A figure with fewer than MIN_ORGANISATIONS organisations behind it is hidden (shown as
SUPPRESSED), so nobody can read one organisation's introductions or meetings from the page.
Each cell's organisations are counted in the same grouped query as the figure itself.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, func, select, union_all

from marketplace import constants
from marketplace.extensions import db
from marketplace.models import (
    Event,
    EventRegistration,
    Introduction,
    Meeting,
    MeetingRequest,
    Need,
    NeedSector,
    Organization,
    Solution,
    SolutionSector,
)
from marketplace.models._time import utcnow
from marketplace.models.states import ListingStatus, MeetingStatus, RegistrationStatus
from marketplace.reporting.dashboard import FUNNEL, furthest_stage
from marketplace.reporting.tables import Chart, Table
from marketplace.taxonomy import taxonomy
from marketplace.templating import sector_name

MIN_ORGANISATIONS = 3
SUPPRESSED = "<3"


def shown(count: int, organisations: int) -> int | str:
    """The count, unless too few organisations are behind it (a zero hides nobody)."""
    return count if count == 0 or organisations >= MIN_ORGANISATIONS else SUPPRESSED


def results() -> list[Table]:
    return [network_by_country(), listings_by_sector(), introductions_reached(),
            events_held()]


def network_by_country() -> Table:
    rows = db.session.execute(select(Organization.country, func.count())
                              .group_by(Organization.country)
                              .order_by(func.count().desc(), Organization.country)).all()
    return Table("network_by_country", _("Organisations by country"),
                 [_("Country"), _("Organisations")],
                 [[str(constants.COUNTRIES.get(code, code)), shown(count, count)]
                  for code, count in rows], Chart("hbar"))


def _live(model):
    now = utcnow()
    return [model.status == ListingStatus.PUBLISHED,
            (model.expires_at.is_(None)) | (model.expires_at > now)]


def listings_by_sector() -> Table:
    tree = taxonomy()
    counts: dict[str, dict[str, int | str]] = {}
    for name, model, link, link_id in (
            ("solutions", Solution, SolutionSector, SolutionSector.solution_id),
            ("needs", Need, NeedSector, NeedSector.need_id)):
        root = case({code: tree.ancestors(code)[-1] for code in tree.sectors},
                    value=link.code, else_=link.code)
        grouped = db.session.execute(
            select(root, func.count(func.distinct(link_id)),
                   func.count(func.distinct(model.organization_id)))
            .join(model, model.id == link_id).where(*_live(model)).group_by(root)).all()
        for code, count, organisations in grouped:
            counts.setdefault(code, {"solutions": 0, "needs": 0})[name] = shown(
                count, organisations)
    order = [sector.code for sector in tree.roots() if sector.code in counts]
    return Table("listings_by_sector", _("Listings on offer, by sector"),
                 [_("Sector"), _("Solutions"), _("Needs")],
                 [[sector_name(code), counts[code]["solutions"], counts[code]["needs"]]
                  for code in order], Chart("hbar", (1, 2)))


def introductions_reached() -> Table:
    requested = select(Introduction.id, Introduction.stage, Introduction.accepted_at,
                       Introduction.sender_org_id, Introduction.recipient_org_id).subquery()
    furthest = furthest_stage(requested)
    sides = union_all(
        select(furthest.c.rank, requested.c.sender_org_id.label("org"))
        .join(requested, requested.c.id == furthest.c.id),
        select(furthest.c.rank, requested.c.recipient_org_id)
        .join(requested, requested.c.id == furthest.c.id)).subquery()
    rows = []
    for index, stage in enumerate(FUNNEL):
        count = db.session.scalar(select(func.count()).select_from(furthest)
                                  .where(furthest.c.rank >= index)) or 0
        organisations = db.session.scalar(select(func.count(func.distinct(sides.c.org)))
                                          .where(sides.c.rank >= index)) or 0
        rows.append([str(constants.INTRODUCTION_STAGES[stage]), shown(count, organisations)])
    return Table("introductions_reached", _("Introductions, by the stage they reached"),
                 [_("Stage"), _("Introductions")], rows, Chart("funnel"))


def events_held() -> Table:
    past = select(Event.id).where(Event.starts_on <= utcnow().date())
    people = dict((event_id, (count, organisations)) for event_id, count, organisations in
                  db.session.execute(
                      select(EventRegistration.event_id, func.count(),
                             func.count(func.distinct(EventRegistration.organization_id)))
                      .where(EventRegistration.event_id.in_(past),
                             EventRegistration.status == RegistrationStatus.REGISTERED)
                      .group_by(EventRegistration.event_id)))
    held_sides = union_all(
        select(Meeting.event_id, Meeting.id.label("meeting"),
               EventRegistration.organization_id.label("org"))
        .join(MeetingRequest, MeetingRequest.id == Meeting.request_id)
        .join(EventRegistration, EventRegistration.id == MeetingRequest.requester_id)
        .where(Meeting.status == MeetingStatus.HELD, Meeting.event_id.in_(past)),
        select(Meeting.event_id, Meeting.id, EventRegistration.organization_id)
        .join(MeetingRequest, MeetingRequest.id == Meeting.request_id)
        .join(EventRegistration, EventRegistration.id == MeetingRequest.recipient_id)
        .where(Meeting.status == MeetingStatus.HELD, Meeting.event_id.in_(past))).subquery()
    meetings = dict((event_id, (count, organisations)) for event_id, count, organisations in
                    db.session.execute(
                        select(held_sides.c.event_id, func.count(func.distinct(
                            held_sides.c.meeting)), func.count(func.distinct(held_sides.c.org)))
                        .group_by(held_sides.c.event_id)))
    listed = db.session.execute(select(Event.id, Event.title, Event.starts_on, Event.base)
                                .where(Event.id.in_(past))
                                .order_by(Event.starts_on.desc(), Event.id)).all()
    return Table("events_held", _("Events held"),
                 [_("Event"), _("Date"), _("Base"), _("Participants"), _("Meetings held")],
                 [[title, starts_on.isoformat(), str(constants.BASES.get(base, base)),
                   shown(*people.get(event_id, (0, 0))),
                   shown(*meetings.get(event_id, (0, 0)))]
                  for event_id, title, starts_on, base in listed])
