"""Demo introductions at every stage, made from the matches the matcher found (so they run
after matching).  Most involve the demo buyer's or supplier's organisation, so their logins
see a full board.  Written directly, without notices: nobody is mailed about demo history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from marketplace.extensions import db
from marketplace.introductions.brokering import contact_person
from marketplace.models import (
    Introduction,
    IntroductionMessage,
    IntroductionStep,
    Match,
    Need,
    Solution,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.states import PIPELINE, IntroductionStage

# (stage reached, who asked, decline reason, days ago it was sent)
STORIES = [
    (IntroductionStage.NEW, "buyer", None, 2),
    (IntroductionStage.NEW, "supplier", None, 9),
    (IntroductionStage.CONTACTED, "buyer", None, 12),
    (IntroductionStage.MEETING, "supplier", None, 25),
    (IntroductionStage.NDA, "buyer", None, 40),
    (IntroductionStage.PILOT, "buyer", None, 75),
    (IntroductionStage.CONTRACT, "supplier", None, 120),
    (IntroductionStage.DECLINED, "buyer", "budget", 20),
    (IntroductionStage.DECLINED, "supplier", "too_early", 33),
    (IntroductionStage.EXPIRED, "buyer", None, 45),
]
MESSAGES = [
    "Thank you for the request. Could you share the treatment capacity you need and the "
    "quality of the water you start from?",
    "Around 3,000 m3/day, mostly domestic wastewater with some food-processing effluent. "
    "We can send last year's lab results.",
]


def introduce(domain: str) -> int:
    """Add the demo introductions; returns how many."""
    people = {user.email: user for user in db.session.scalars(select(User).where(
        User.email.in_([f"buyer@{domain}", f"supplier@{domain}"])))}
    buyer, supplier = people.get(f"buyer@{domain}"), people.get(f"supplier@{domain}")
    orgs = [user.organization_id for user in (buyer, supplier) if user is not None]
    matches = db.session.scalars(
        select(Match).join(Need).join(Solution).where(
            Match.delivered, or_(Need.organization_id.in_(orgs),
                                 Solution.organization_id.in_(orgs)))
        .order_by(Match.evidence.desc(), Match.id)).all()
    used: set[int] = set()
    made = 0
    for story, match in zip(STORIES, _one_per_need(matches, used), strict=False):
        _story(match, *story)
        made += 1
    return made


def _one_per_need(matches: list[Match], used: set[int]):
    for match in matches:
        if match.need_id not in used:
            used.add(match.need_id)
            yield match


def _story(match: Match, stage: str, asker: str, reason: str | None, days_ago: int) -> None:
    need, solution = match.need, match.solution
    sender_org, recipient_org = ((need.organization_id, solution.organization_id)
                                 if asker == "buyer"
                                 else (solution.organization_id, need.organization_id))
    sender, recipient = contact_person(sender_org), contact_person(recipient_org)
    sent_at = utcnow() - timedelta(days=days_ago)
    introduction = Introduction(
        need=need, solution=solution, match=match, sender_org_id=sender_org,
        recipient_org_id=recipient_org, sender=sender, created_at=sent_at,
        stage_changed_at=sent_at, wishes=["call"] if asker == "buyer" else ["visit"],
        message=(f"We think {solution.title} could answer our need “{need.title}”. "
                 "Could we talk about it?" if asker == "buyer" else
                 f"Our {solution.title} seems a good fit for “{need.title}”. "
                 "We would be glad to present it."))
    introduction.steps.append(IntroductionStep(stage=IntroductionStage.NEW, actor=sender,
                                               at=sent_at))
    db.session.add(introduction)
    if stage == IntroductionStage.NEW:
        introduction.open_pair = f"{need.id}:{solution.id}"
        return
    if stage == IntroductionStage.EXPIRED:
        _step(introduction, stage, None, sent_at + timedelta(days=30))
        return
    answered = sent_at + timedelta(days=2)
    if stage == IntroductionStage.DECLINED:
        introduction.decline_reason, introduction.declined_at = reason, answered
        _step(introduction, stage, recipient, answered)
        return
    introduction.accepted_at, introduction.recipient_contact = answered, recipient
    introduction.open_pair = None if stage == IntroductionStage.CONTRACT \
        else f"{need.id}:{solution.id}"
    for number, reached in enumerate(PIPELINE[:PIPELINE.index(stage) + 1]):
        _step(introduction, reached, recipient if number % 2 == 0 else sender,
              answered + timedelta(days=3 * number))
    # The supplier asks about the need; the buyer answers.
    supplier_side = (recipient, recipient_org) if asker == "buyer" else (sender, sender_org)
    buyer_side = (sender, sender_org) if asker == "buyer" else (recipient, recipient_org)
    for number, ((author, org_id), text) in enumerate(zip((supplier_side, buyer_side),
                                                          MESSAGES, strict=True)):
        introduction.messages.append(IntroductionMessage(
            author=author, organization_id=org_id, body=text,
            created_at=answered + timedelta(hours=5 + number)))


def _step(introduction: Introduction, stage: str, actor: User | None, at) -> None:
    introduction.stage, introduction.stage_changed_at = stage, at
    introduction.steps.append(IntroductionStep(stage=stage, actor=actor, at=at))
