"""A past for the demo world, so that the staff dashboard and the public results page have
something to show: organisations and people who joined over eighteen months, buyers' and
suppliers' verdicts on matches, listings about to expire, and the mail the network sent.
Like the rest of the demo history it is written without sending anything.

The demo supplier's and buyer's own matches and mail are left as they are, so that a person
trying ``make run`` starts from a clean page."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    DigestDelivery,
    Introduction,
    Issue,
    IssueDelivery,
    MailSuppression,
    Match,
    MeetingRequest,
    Need,
    Organization,
    Solution,
    Subscriber,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.discovery import DISMISS_REASONS
from marketplace.models.mail import EMAGAZINE_LIST
from marketplace.models.states import (
    DeliveryStatus,
    ListingStatus,
    MatchState,
    SubscriberStatus,
)

MEMBER_ROLES = ("supplier", "buyer")


def build(domain: str) -> None:
    rng, now = random.Random(14), utcnow()
    main = set(db.session.scalars(select(User.organization_id).where(
        User.email.in_([f"supplier@{domain}", f"buyer@{domain}"]))))
    spread_joining(domain, rng, now)
    match_verdicts(rng, main)
    expiring_soon(rng, main, now)
    mail_history(domain, rng, now)


def spread_joining(domain: str, rng: random.Random, now: datetime) -> None:
    """Each organisation joined before its first listing; its people soon after it."""
    first_listing: dict[int, datetime] = {}
    for model in (Solution, Need):
        for org_id, created in db.session.execute(
                select(model.organization_id, func.min(model.created_at))
                .group_by(model.organization_id)):
            first_listing[org_id] = min(created, first_listing.get(org_id, created))
    for org in db.session.scalars(select(Organization).where(Organization.is_demo.is_(True))
                                  .order_by(Organization.id)):
        before = first_listing.get(org.id, now)
        org.created_at = before - timedelta(days=rng.randint(20, 420))
        if org.verified_at is not None:
            org.verified_at = org.created_at + timedelta(days=rng.randint(1, 14))
        for user in db.session.scalars(select(User).where(User.organization_id == org.id)):
            user.created_at = org.created_at + timedelta(days=rng.randint(0, 10))
            if user.email_verified_at is not None:
                user.email_verified_at = user.created_at


def match_verdicts(rng: random.Random, main: set[int]) -> None:
    """What buyers and suppliers said about their delivered matches, with reasons."""
    taken = select(Introduction.match_id).where(Introduction.match_id.is_not(None)).union(
        select(MeetingRequest.match_id).where(MeetingRequest.match_id.is_not(None)))
    for match in db.session.scalars(select(Match).where(
            Match.delivered.is_(True), Match.id.not_in(taken)).order_by(Match.id)):
        if {match.need.organization_id, match.solution.organization_id} & main:
            continue
        for side in ("buyer", "supplier"):
            roll = rng.random()
            if roll < 0.3:
                setattr(match, f"{side}_state", MatchState.INTERESTING)
            elif roll < 0.42:
                setattr(match, f"{side}_state", MatchState.DISMISSED)
                setattr(match, f"{side}_dismiss_reason",
                        rng.choice([*DISMISS_REASONS, None]))


def expiring_soon(rng: random.Random, main: set[int], now: datetime) -> None:
    for solution in db.session.scalars(select(Solution).where(
            Solution.status == ListingStatus.PUBLISHED, Solution.organization_id.not_in(main))
            .order_by(Solution.id).limit(3)):
        solution.expires_at = now + timedelta(days=rng.randint(5, 25))


def mail_history(domain: str, rng: random.Random, now: datetime) -> None:
    """Weekly digests over three months, the past E-magazine issue's deliveries (one bounced)
    and a reader who unsubscribed."""
    people = db.session.scalars(select(User).where(
        User.email.like(f"%@{domain}"), User.role.in_(MEMBER_ROLES),
        User.email.not_in([f"supplier@{domain}", f"buyer@{domain}"])).order_by(User.id)).all()
    for weeks_ago in range(1, 13):
        day = now - timedelta(weeks=weeks_ago)
        for user in people:
            if rng.random() < 0.5:
                failed = rng.random() < 0.03
                db.session.add(DigestDelivery(
                    user=user, period=f"daily:{day.date().isoformat()}", claimed_at=day,
                    sent_at=None if failed else day, attempts=1,
                    status=DeliveryStatus.FAILED if failed else DeliveryStatus.SENT,
                    last_error="550 mailbox unavailable" if failed else ""))
    issue = db.session.scalar(select(Issue).where(Issue.slug == "demo-first-issue"))
    readers = db.session.scalars(select(Subscriber).where(
        Subscriber.status == SubscriberStatus.CONFIRMED).order_by(Subscriber.id)).all()
    if issue is not None:
        for index, reader in enumerate(readers):
            bounced = index == 1
            db.session.add(IssueDelivery(
                issue_id=issue.id, subscriber_id=reader.id, email=reader.email,
                language=reader.language, claimed_at=issue.sent_at,
                sent_at=None if bounced else issue.sent_at, attempts=1,
                status=DeliveryStatus.BOUNCED if bounced else DeliveryStatus.SENT))
        issue.recipient_count = len(readers)
    left = now - timedelta(days=12)
    db.session.add(Subscriber(email=f"reader-who-left@{domain}", language="en",
                              status=SubscriberStatus.UNSUBSCRIBED, created_at=left
                              - timedelta(days=90), confirmed_at=left - timedelta(days=90)))
    db.session.add(MailSuppression(email=f"reader-who-left@{domain}", list_name=EMAGAZINE_LIST,
                                   reason="unsubscribed", created_at=left))
