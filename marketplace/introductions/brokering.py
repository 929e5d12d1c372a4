"""What staff of the China-ASEAN Environmental Cooperation Center do with introductions:
propose one between two listings on the parties' behalf, nudge one that has gone quiet, and
read a conversation only when one of its sides has asked them for help."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from marketplace import audit
from marketplace.extensions import db
from marketplace.introductions import interest, notices
from marketplace.models import (
    AuditAction,
    Introduction,
    IntroductionStep,
    Need,
    NeedSector,
    Organization,
    Solution,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.introductions import MESSAGE_LIMIT
from marketplace.models.states import CLOSED, IntroductionStage


def propose(staff: User, need: Need, solution: Solution, message: str) -> Introduction:
    """A request to the solution's supplier on the buyer's behalf, marked as suggested by
    the Center; the buyer's organisation hears of it too."""
    message = (message or "").strip()
    if not (need.is_live and solution.is_live):
        raise interest.IntroductionError(_l("Both listings must be published."))
    if need.organization_id == solution.organization_id:
        raise interest.IntroductionError(_l("Both listings belong to one organisation."))
    if not message or len(message) > MESSAGE_LIMIT:
        raise interest.IntroductionError(_l("Write a message of at most %(limit)d characters.",
                                            limit=MESSAGE_LIMIT))
    if interest.open_request(need, solution) is not None:
        raise interest.IntroductionError(
            _l("There is already an open request between these two listings."))
    introduction = Introduction(
        need=need, solution=solution, match=interest.match_of(need, solution),
        sender_org_id=need.organization_id, recipient_org_id=solution.organization_id,
        sender=contact_person(need.organization_id), proposed_by=staff, message=message,
        open_pair=interest.pair_key(need, solution))
    introduction.steps.append(IntroductionStep(actor=staff, stage=IntroductionStage.NEW))
    db.session.add(introduction)
    db.session.flush()
    audit.record(staff, AuditAction.INTRODUCTION_PROPOSED, introduction,
                 need=need.title, solution=solution.title)
    notices.queue("introduction_request", introduction, to=introduction.recipient_org_id)
    notices.queue("introduction_proposed", introduction, to=introduction.sender_org_id)
    return introduction


def contact_person(organization_id: int) -> User | None:
    """An organisation's contact person when nobody on its side has acted yet: its first
    active member (a proposal's buyer side, the demo's introductions)."""
    return db.session.scalar(select(User).where(User.organization_id == organization_id,
                                                User.is_active_account).order_by(User.id))


def nudge(staff: User, introduction: Introduction) -> None:
    """Remind the side that must act (the recipient of an unanswered request; else both)."""
    if introduction.stage in CLOSED:
        raise interest.IntroductionError(_l("This introduction is closed."))
    sides = [introduction.recipient_org_id] if introduction.stage == IntroductionStage.NEW \
        else [introduction.sender_org_id, introduction.recipient_org_id]
    for organization_id in sides:
        notices.queue("introduction_nudge", introduction, to=organization_id)
    audit.record(staff, AuditAction.INTRODUCTION_NUDGED, introduction,
                 stage=introduction.stage)


def ask_for_help(user: User, introduction: Introduction) -> None:
    if introduction.side_of(user.organization_id) is None:
        raise interest.IntroductionError(_l("Only the two sides can ask for help."))
    introduction.help_requested_at = introduction.help_requested_at or utcnow()


def staff_may_read_messages(introduction: Introduction) -> bool:
    return introduction.help_requested_at is not None


def listing_query(stage: str = "", country: str = "", sector: str = "",
                  quiet_days: int | None = None) -> Select:
    """Every introduction for the staff list, filtered; longest quiet first."""
    query = select(Introduction).order_by(Introduction.stage_changed_at, Introduction.id)
    if stage:
        query = query.where(Introduction.stage == stage)
    if country:
        orgs = select(Organization.id).where(Organization.country == country)
        query = query.where(or_(Introduction.sender_org_id.in_(orgs),
                                Introduction.recipient_org_id.in_(orgs)))
    if sector:  # the need's sector, or one below it
        needs = select(NeedSector.need_id).where(or_(NeedSector.code == sector,
                                                     NeedSector.code.like(f"{sector}.%")))
        query = query.where(Introduction.need_id.in_(needs))
    if quiet_days:
        query = query.where(Introduction.stage_changed_at
                            <= utcnow() - timedelta(days=quiet_days))
    return query
