"""The staff dashboard's figures: network, listings, matching, introductions, events and mail,
each computed by a few grouped queries over the scope (never by loading rows one by one).

Counts cover what happened in the period: organisations that joined, listings published,
matches delivered, introductions requested, events held, mail sent.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from marketplace import constants
from marketplace.extensions import db
from marketplace.models import (
    DigestDelivery,
    Event,
    EventRegistration,
    Introduction,
    IntroductionStep,
    Issue,
    IssueDelivery,
    MailSuppression,
    Match,
    Meeting,
    MeetingRequest,
    Need,
    NeedSector,
    Organization,
    Solution,
    SolutionSector,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.discovery import DISMISS_REASONS
from marketplace.models.introductions import DECLINE_REASONS
from marketplace.models.states import (
    PIPELINE,
    DeliveryStatus,
    IntroductionStage,
    IssueStatus,
    ListingStatus,
    MatchState,
    MeetingRequestStatus,
    MeetingStatus,
    RegistrationStatus,
)
from marketplace.reporting.scope import Scope, days_between, month_of, months
from marketplace.reporting.tables import Chart, Section, Table, figures_table, median, percent
from marketplace.taxonomy import taxonomy
from marketplace.templating import sector_name

EXPIRING_WITHIN = timedelta(days=30)
MEMBER_ROLES = ("supplier", "buyer")
# The funnel: requested, accepted (contacted), then the pipeline's later stages.
FUNNEL = (IntroductionStage.NEW, *PIPELINE)
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)


def dashboard(scope: Scope) -> list[Section]:
    return [network(scope), listings(scope), matching(scope), introductions(scope),
            events(scope), mail(scope)]


def _rows(query) -> list:
    return db.session.execute(query).all()


def _count(query) -> int:
    return db.session.scalar(query) or 0


def _country(code: str | None) -> str:
    return str(constants.COUNTRIES.get(code, code or _("Unknown")))


def _series(scope: Scope, counts: dict[str, dict[str, int]], names: list[str]) -> list[list]:
    """One row per month of the period (or of the data), every month present."""
    seen = sorted({month for by_month in counts.values() for month in by_month})
    if not seen and not (scope.start and scope.end):
        return []
    first = scope.start or date.fromisoformat(seen[0] + "-01")
    last = scope.end or max(date.fromisoformat(seen[-1] + "-01"), utcnow().date())
    return [[month, *(counts[name].get(month, 0) for name in names)]
            for month in months(first, last)]


def _monthly(column, *conditions) -> dict[str, int]:
    """How many rows, per month of ``column``."""
    month = month_of(column)
    query = select(month, func.count()).where(*conditions).group_by(month)
    return {found: count for found, count in _rows(query) if found}


# --- Network -------------------------------------------------------------------------------

def network(scope: Scope) -> Section:
    in_scope = [scope.within(Organization.created_at),
                scope.organisation_filter(Organization.id)]
    grouped = _rows(select(Organization.country, Organization.kind, func.count(),
                           func.count(Organization.verified_at))
                    .where(*in_scope).group_by(Organization.country, Organization.kind))
    by_country: dict[str, list[int]] = {}
    by_kind: dict[str, list[int]] = {}
    for country, kind, count, verified in grouped:
        for key, totals in ((country, by_country), (kind, by_kind)):
            totals.setdefault(key, [0, 0])
            totals[key][0] += count
            totals[key][1] += verified
    members = [User.role.in_(MEMBER_ROLES), scope.within(User.created_at),
               scope.organisation_filter(User.organization_id)]
    users = dict(_rows(select(User.role, func.count()).where(*members).group_by(User.role)))
    joined = {
        "organisations": _monthly(Organization.created_at, *in_scope),
        "users": _monthly(User.created_at, *members),
    }
    organisations = sum(count for count, _verified in by_country.values())
    verified = sum(verified for _count, verified in by_country.values())
    return Section("network", _("Network"), [
        figures_table("network_figures", _("Network in figures"), [
            (_("Organisations"), organisations),
            (_("Verified organisations"), verified),
            (_("Share verified (%)"), percent(verified, organisations)),
            (_("Users (suppliers and buyers)"), sum(users.values())),
            (_("Suppliers"), users.get("supplier", 0)),
            (_("Buyers"), users.get("buyer", 0)),
        ]),
        Table("organisations_by_country", _("Organisations by country"),
              [_("Country"), _("Organisations"), _("Verified")],
              [[_country(code), *counts] for code, counts in sorted(
                  by_country.items(), key=lambda item: (-item[1][0], item[0]))],
              Chart("hbar", (1, 2))),
        Table("organisations_by_kind", _("Organisations by kind"),
              [_("Kind"), _("Organisations"), _("Verified")],
              [[str(constants.ORG_KINDS.get(kind, kind)), *counts] for kind, counts in sorted(
                  by_kind.items(), key=lambda item: (-item[1][0], item[0]))],
              Chart("hbar", (1, 2))),
        Table("network_over_time", _("Joined, by month"),
              [_("Month"), _("Organisations"), _("Users")],
              _series(scope, joined, ["organisations", "users"]), Chart("line", (1, 2))),
    ])


# --- Listings ------------------------------------------------------------------------------

def _published(scope: Scope, model) -> list:
    return [model.published_at.is_not(None), scope.within(model.published_at),
            scope.listing_filter(model)]


def _by_root_sector(scope: Scope, model, link, link_id) -> dict[str, int]:
    """Published listings per top-level sector (a listing counts once under each root)."""
    tree = taxonomy()
    root = case({code: tree.ancestors(code)[-1] for code in tree.sectors}, value=link.code,
                else_=link.code)
    return dict(_rows(select(root, func.count(func.distinct(link_id)))
                      .join(model, model.id == link_id)
                      .where(*_published(scope, model)).group_by(root)))


def listings(scope: Scope) -> Section:
    solutions = _published(scope, Solution)
    needs = _published(scope, Need)
    sectors = {"solutions": _by_root_sector(scope, Solution, SolutionSector,
                                            SolutionSector.solution_id),
               "needs": _by_root_sector(scope, Need, NeedSector, NeedSector.need_id)}
    owner = aliased(Organization)
    place: dict[str, dict[str, int]] = {}
    base: dict[str, dict[str, int]] = {}
    for name, model, conditions in (("solutions", Solution, solutions),
                                    ("needs", Need, needs)):
        grouped = _rows(select(owner.country, owner.base, func.count()).select_from(model)
                        .join(owner, owner.id == model.organization_id)
                        .where(*conditions).group_by(owner.country, owner.base))
        for country, org_base, count in grouped:
            place.setdefault(country, {"solutions": 0, "needs": 0})[name] += count
            base.setdefault(org_base or "", {"solutions": 0, "needs": 0})[name] += count
    trl = dict(_rows(select(Solution.trl, func.count()).where(*solutions)
                     .group_by(Solution.trl)))
    published = {
        "solutions": _monthly(Solution.published_at, *solutions),
        "needs": _monthly(Need.published_at, *needs),
    }
    waits = [days for model, conditions in ((Solution, solutions), (Need, needs))
             for (days,) in _rows(select(days_between(model.published_at, model.submitted_at))
                                  .where(*conditions, model.submitted_at.is_not(None)))]
    now = utcnow()
    expiring = sum(_count(select(func.count()).select_from(model).where(
        model.status == ListingStatus.PUBLISHED, model.expires_at > now,
        model.expires_at <= now + EXPIRING_WITHIN, scope.listing_filter(model)))
        for model in (Solution, Need))
    pending = sum(_count(select(func.count()).select_from(model).where(
        model.status == ListingStatus.PENDING, scope.listing_filter(model)))
        for model in (Solution, Need))
    roots = sorted(set(sectors["solutions"]) | set(sectors["needs"]),
                   key=lambda code: -(sectors["solutions"].get(code, 0)
                                      + sectors["needs"].get(code, 0)))
    return Section("listings", _("Listings"), [
        figures_table("listing_figures", _("Listings in figures"), [
            (_("Solutions published"), sum(trl.values())),
            (_("Needs published"), _count(select(func.count()).select_from(Need)
                                          .where(*needs))),
            (_("Median days from submission to publication"), median(waits)),
            (_("Waiting for moderation now"), pending),
            (_("Expiring in the next 30 days"), expiring),
        ]),
        Table("listings_by_sector", _("Listings by sector"),
              [_("Sector"), _("Solutions"), _("Needs")],
              [[sector_name(code), sectors["solutions"].get(code, 0),
                sectors["needs"].get(code, 0)] for code in roots], Chart("hbar", (1, 2))),
        Table("listings_by_country", _("Listings by the owner's country"),
              [_("Country"), _("Solutions"), _("Needs")],
              [[_country(code), counts["solutions"], counts["needs"]] for code, counts in
               sorted(place.items(), key=lambda item: -sum(item[1].values()))],
              Chart("hbar", (1, 2))),
        Table("listings_by_base", _("Listings by demonstration base"),
              [_("Base"), _("Solutions"), _("Needs")],
              [[str(constants.BASES.get(code, code)) if code else _("No base"),
                counts["solutions"], counts["needs"]]
               for code, counts in sorted(base.items(), key=lambda item: (not item[0], item[0]))],
              Chart("bar", (1, 2))),
        Table("solutions_by_trl", _("Solutions by technology readiness level"),
              [_("TRL"), _("Solutions")],
              [[str(level), trl.get(level, 0)] for level in range(1, 10)], Chart("bar")),
        Table("listings_over_time", _("Published, by month"),
              [_("Month"), _("Solutions"), _("Needs")],
              _series(scope, published, ["solutions", "needs"]), Chart("line", (1, 2))),
    ])


# --- Matching ------------------------------------------------------------------------------

def matching(scope: Scope) -> Section:
    delivered = [Match.delivered_at.is_not(None), scope.within(Match.delivered_at),
                 scope.pair_filter(Match.need_id, Match.solution_id)]
    total, interesting, dismissed = _rows(select(
        func.count(),
        func.count(case((or_(Match.buyer_state == MatchState.INTERESTING,
                             Match.supplier_state == MatchState.INTERESTING), 1))),
        func.count(case((or_(Match.buyer_state == MatchState.DISMISSED,
                             Match.supplier_state == MatchState.DISMISSED), 1))),
    ).where(*delivered))[0]
    reasons = {side: dict(_rows(select(reason, func.count()).where(
        *delivered, state == MatchState.DISMISSED).group_by(reason)))
        for side, state, reason in (
            ("buyers", Match.buyer_state, Match.buyer_dismiss_reason),
            ("suppliers", Match.supplier_state, Match.supplier_dismiss_reason))}
    unmatched = [
        _count(select(func.count()).select_from(model).where(
            model.status == ListingStatus.PUBLISHED, scope.listing_filter(model),
            ~model.id.in_(select(column).where(Match.delivered_at.is_not(None)))))
        for model, column in ((Solution, Match.solution_id), (Need, Match.need_id))]
    reason_rows = [[str(constants.DISMISS_REASON_LABELS[code]),
                    reasons["buyers"].get(code, 0), reasons["suppliers"].get(code, 0)]
                   for code in DISMISS_REASONS]
    reason_rows.append([_("No reason given"), reasons["buyers"].get(None, 0),
                        reasons["suppliers"].get(None, 0)])
    per_month = {"delivered": _monthly(Match.delivered_at, *delivered)}
    return Section("matching", _("Matching"), [
        figures_table("matching_figures", _("Matching in figures"), [
            (_("Matches delivered"), total),
            (_("Marked interesting by a side"), interesting),
            (_("Dismissed by a side"), dismissed),
            (_("Share marked interesting (%)"), percent(interesting, total)),
            (_("Published solutions with no delivered match"), unmatched[0]),
            (_("Published needs with no delivered match"), unmatched[1]),
        ]),
        Table("dismiss_reasons", _("Why matches were dismissed"),
              [_("Reason"), _("By buyers"), _("By suppliers")], reason_rows,
              Chart("hbar", (1, 2))),
        Table("matches_over_time", _("Matches delivered, by month"),
              [_("Month"), _("Delivered")],
              _series(scope, per_month, ["delivered"]), Chart("line")),
    ], note=_("The figures on listings with no delivered match count listings published now."))


# --- Introductions -------------------------------------------------------------------------

def furthest_stage(requested):
    """Per introduction in ``requested`` (a subquery with id, stage and accepted_at), the
    index in FUNNEL of the furthest stage it ever reached: from its timeline, its current
    stage, and acceptance (which is the "contacted" stage).  Columns: id, rank."""
    rank = {stage.value: index for index, stage in enumerate(FUNNEL)}
    reached = union_all(
        select(IntroductionStep.introduction_id.label("id"),
               IntroductionStep.stage.label("stage"))
        .where(IntroductionStep.introduction_id.in_(select(requested.c.id))),
        select(requested.c.id, requested.c.stage),
        select(requested.c.id, literal(IntroductionStage.CONTACTED.value))
        .where(requested.c.accepted_at.is_not(None)),
    ).subquery()
    return (select(reached.c.id, func.max(case(rank, value=reached.c.stage, else_=0))
                   .label("rank")).group_by(reached.c.id).subquery())


def reached_counts(requested) -> list[int]:
    """How many introductions reached each stage of FUNNEL, or a later one."""
    furthest = furthest_stage(requested)
    by_rank = dict(_rows(select(furthest.c.rank, func.count()).group_by(furthest.c.rank)))
    return [sum(n for rank, n in by_rank.items() if rank >= index)
            for index in range(len(FUNNEL))]


def introductions(scope: Scope) -> Section:
    conditions = [scope.within(Introduction.created_at),
                  scope.pair_filter(Introduction.need_id, Introduction.solution_id)]
    requested = (select(Introduction.id, Introduction.stage, Introduction.accepted_at)
                 .where(*conditions).subquery())
    stages = dict(_rows(select(Introduction.stage, func.count()).where(*conditions)
                        .group_by(Introduction.stage)))
    total = sum(stages.values())
    accepted = _count(select(func.count()).select_from(Introduction).where(
        *conditions, Introduction.accepted_at.is_not(None)))
    declined_unaccepted = _count(select(func.count()).select_from(Introduction).where(
        *conditions, Introduction.accepted_at.is_(None), Introduction.declined_at.is_not(None)))
    answer_days = db.session.scalars(select(days_between(
        func.coalesce(Introduction.accepted_at, Introduction.declined_at),
        Introduction.created_at)).where(*conditions, or_(
            Introduction.accepted_at.is_not(None), Introduction.declined_at.is_not(None))))
    funnel_rows, previous = [], None
    for stage, count in zip(FUNNEL, reached_counts(requested), strict=True):
        funnel_rows.append([str(constants.INTRODUCTION_STAGES[stage]), count,
                            None if previous is None else percent(count, previous)])
        previous = count
    reasons = dict(_rows(select(Introduction.decline_reason, func.count()).where(
        *conditions, Introduction.decline_reason.is_not(None))
        .group_by(Introduction.decline_reason)))
    supplier_org, buyer_org = aliased(Organization), aliased(Organization)
    pairs = _rows(select(supplier_org.country, buyer_org.country, func.count(),
                         func.count(Introduction.accepted_at)).select_from(Introduction)
                  .join(Solution, Solution.id == Introduction.solution_id)
                  .join(supplier_org, supplier_org.id == Solution.organization_id)
                  .join(Need, Need.id == Introduction.need_id)
                  .join(buyer_org, buyer_org.id == Need.organization_id)
                  .where(*conditions).group_by(supplier_org.country, buyer_org.country)
                  .order_by(func.count().desc(), supplier_org.country, buyer_org.country))
    per_month = {
        "requests": _monthly(Introduction.created_at, *conditions),
        "accepted": _monthly(Introduction.created_at, *conditions,
                             Introduction.accepted_at.is_not(None)),
    }
    return Section("introductions", _("Introductions"), [
        figures_table("introduction_figures", _("Introductions in figures"), [
            (_("Requests sent"), total),
            (_("Accepted"), accepted),
            (_("Acceptance rate, of those answered (%)"),
             percent(accepted, accepted + declined_unaccepted)),
            (_("Waiting for an answer"), stages.get(IntroductionStage.NEW, 0)),
            (_("Expired unanswered"), stages.get(IntroductionStage.EXPIRED, 0)),
            (_("Median days to the first answer"), median(answer_days)),
        ]),
        Table("introduction_funnel", _("Stages reached"),
              [_("Stage"), _("Introductions"), _("Of the previous stage (%)")],
              funnel_rows, Chart("funnel")),
        Table("introduction_stages", _("Where introductions are now"),
              [_("Stage"), _("Introductions")],
              [[str(label), stages.get(code, 0)]
               for code, label in constants.INTRODUCTION_STAGES.items()], Chart("bar")),
        Table("decline_reasons", _("Why requests were declined"),
              [_("Reason"), _("Requests")],
              [[str(constants.DECLINE_REASON_LABELS[code]), reasons.get(code, 0)]
               for code in DECLINE_REASONS], Chart("hbar")),
        Table("country_pairs", _("Country pairs (supplier to buyer)"),
              [_("Supplier's country"), _("Buyer's country"), _("Requests"), _("Accepted")],
              [[_country(supplier), _country(buyer), count, accepted_count]
               for supplier, buyer, count, accepted_count in pairs]),
        Table("introductions_over_time", _("Requests, by month"),
              [_("Month"), _("Requests"), _("Accepted")],
              _series(scope, per_month, ["requests", "accepted"]), Chart("line", (1, 2))),
    ])


# --- Events --------------------------------------------------------------------------------

def _per_event(query) -> dict[int, int]:
    return dict(_rows(query))


def events(scope: Scope) -> Section:
    chosen = [scope.within(Event.starts_on)]
    if scope.base:
        chosen.append(Event.base == scope.base)
    listed = _rows(select(Event.id, Event.title, Event.starts_on, Event.base)
                   .where(*chosen).order_by(Event.starts_on, Event.id))
    ids = select(Event.id).where(*chosen)
    people = [EventRegistration.event_id.in_(ids),
              EventRegistration.status == RegistrationStatus.REGISTERED,
              scope.organisation_filter(EventRegistration.organization_id)]
    asked = [MeetingRequest.event_id.in_(ids),
             scope.pair_filter(MeetingRequest.need_id, MeetingRequest.solution_id)]
    met = [Meeting.event_id.in_(ids), Meeting.request_id == MeetingRequest.id, *asked]
    registrations = _per_event(select(EventRegistration.event_id, func.count())
                               .where(*people).group_by(EventRegistration.event_id))
    requests = _per_event(select(MeetingRequest.event_id, func.count()).where(*asked)
                          .group_by(MeetingRequest.event_id))
    accepted = _per_event(select(MeetingRequest.event_id, func.count()).where(
        *asked, MeetingRequest.status == MeetingRequestStatus.ACCEPTED)
        .group_by(MeetingRequest.event_id))
    declined = _per_event(select(MeetingRequest.event_id, func.count()).where(
        *asked, MeetingRequest.status == MeetingRequestStatus.DECLINED)
        .group_by(MeetingRequest.event_id))
    outcomes = _rows(select(Meeting.event_id, Meeting.status, func.count(),
                            func.count(func.distinct(Meeting.introduction_id)))
                     .where(*met, Meeting.status.in_((MeetingStatus.HELD, MeetingStatus.NO_SHOW)))
                     .group_by(Meeting.event_id, Meeting.status))
    held = {event_id: n for event_id, status, n, _i in outcomes if status == MeetingStatus.HELD}
    no_show = {event_id: n for event_id, status, n, _i in outcomes
               if status == MeetingStatus.NO_SHOW}
    started = {event_id: n for event_id, status, _n, n in outcomes
               if status == MeetingStatus.HELD}
    rows = [[title, starts_on.isoformat(), str(constants.BASES.get(base, base)),
             registrations.get(event_id, 0), requests.get(event_id, 0),
             accepted.get(event_id, 0), held.get(event_id, 0), no_show.get(event_id, 0),
             started.get(event_id, 0)]
            for event_id, title, starts_on, base in listed]
    totals = [sum(column) for column in zip(*(row[3:] for row in rows), strict=True)] \
        if rows else [0] * 6
    answered = sum(accepted.values()) + sum(declined.values())
    today = utcnow().date()
    return Section("events", _("Events"), [
        figures_table("event_figures", _("Events in figures"), [
            (_("Events"), len(rows)),
            (_("Events held so far"), sum(1 for row in listed if row[2] <= today)),
            (_("Registrations"), totals[0]),
            (_("Meeting requests"), totals[1]),
            (_("Acceptance rate, of those answered (%)"), percent(totals[2], answered)),
            (_("Meetings held"), totals[3]),
            (_("No-shows"), totals[4]),
            (_("Introductions from meetings"), totals[5]),
        ]),
        Table("events", _("Each event"),
              [_("Event"), _("Starts"), _("Base"), _("Registrations"), _("Meeting requests"),
               _("Accepted"), _("Meetings held"), _("No-shows"),
               _("Introductions from meetings")], rows, Chart("hbar", (3, 6))),
    ])


# --- Mail ----------------------------------------------------------------------------------

def mail(scope: Scope) -> Section:
    digests = [scope.within(DigestDelivery.claimed_at)]
    if scope.filters_organisations:  # one semi-join, not a lookup per delivery
        digests.append(DigestDelivery.user_id.in_(select(User.id).where(
            scope.organisation_filter(User.organization_id))))
    issue_mail = [scope.within(IssueDelivery.claimed_at)]
    digest_status = dict(_rows(select(DigestDelivery.status, func.count()).where(*digests)
                               .group_by(DigestDelivery.status)))
    issue_status = dict(_rows(select(IssueDelivery.status, func.count()).where(*issue_mail)
                              .group_by(IssueDelivery.status)))
    issues_sent = _count(select(func.count()).select_from(Issue).where(
        Issue.status == IssueStatus.SENT, scope.within(Issue.sent_at)))
    unsubscribed = [MailSuppression.reason == "unsubscribed",
                    scope.within(MailSuppression.created_at)]
    per_month = {
        "digests": _monthly(DigestDelivery.claimed_at, *digests,
                            DigestDelivery.status == DeliveryStatus.SENT),
        "issue_mail": _monthly(IssueDelivery.claimed_at, *issue_mail,
                               IssueDelivery.status == DeliveryStatus.SENT),
        "unsubscribed": _monthly(MailSuppression.created_at, *unsubscribed),
    }

    def failed(status: dict) -> int:
        return sum(status.get(state, 0) for state in FAILED)

    return Section("mail", _("Mail"), [
        figures_table("mail_figures", _("Mail in figures"), [
            (_("Match digests sent"), digest_status.get(DeliveryStatus.SENT, 0)),
            (_("Digest delivery failures"), failed(digest_status)),
            (_("E-magazine issues sent"), issues_sent),
            (_("E-magazine e-mails sent"), issue_status.get(DeliveryStatus.SENT, 0)),
            (_("E-magazine delivery failures"), failed(issue_status)),
            (_("Unsubscribes"), _count(select(func.count()).select_from(MailSuppression)
                                       .where(*unsubscribed))),
        ]),
        Table("mail_over_time", _("Mail sent, by month"),
              [_("Month"), _("Match digests"), _("E-magazine e-mails"), _("Unsubscribes")],
              _series(scope, per_month, ["digests", "issue_mail", "unsubscribed"]),
              Chart("line", (1, 2, 3))),
    ], note=_("The country, sector and base filters apply to digests only: E-magazine "
              "readers and unsubscribes belong to no organisation."))
