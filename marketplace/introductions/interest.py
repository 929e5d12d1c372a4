"""Expressing interest: from one's own listing to another organisation's, with a short
message.  The other side sees the request, the sender's organisation and listing, and the
match's reasons - never a contact detail until it accepts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.introductions import notices
from marketplace.listings import lifecycle
from marketplace.models import Introduction, IntroductionStep, Match, Need, Solution, User
from marketplace.models.introductions import MESSAGE_LIMIT, WISHES
from marketplace.models.states import IntroductionStage


class IntroductionError(Exception):
    """A request that cannot be sent as asked; the message says why, for the sender."""


def pair_key(need: Need, solution: Solution) -> str:
    return f"{need.id}:{solution.id}"


def open_request(need: Need, solution: Solution) -> Introduction | None:
    """The open request for this pair of listings, whichever side sent it."""
    return db.session.scalar(select(Introduction).where(
        Introduction.open_pair == pair_key(need, solution)))


def own_listings_for(user: User, other) -> list:
    """The user's live listings that could answer ``other`` (needs for a solution, solutions
    for a need), the ones already matched with it first."""
    own_cls = Need if other.kind == "solution" else Solution
    listings = db.session.scalars(select(own_cls).where(
        own_cls.organization_id == user.organization_id,
        lifecycle.live_filter(own_cls)).order_by(own_cls.title)).all()
    matched = {m.need_id if own_cls is Need else m.solution_id for m in db.session.scalars(
        select(Match).where((Match.solution_id if other.kind == "solution" else Match.need_id)
                            == other.id))}
    return sorted(listings, key=lambda listing: listing.id not in matched)


def express_interest(user: User, own, other, message: str,
                     wishes: list[str] | None = None) -> Introduction:
    """Send a request from ``own`` (the user's organisation's listing) to ``other``.

    Raises ``IntroductionError`` when it may not be sent: the caller shows why.
    """
    _check_allowed(user, own, other)
    message = (message or "").strip()
    if not message:
        raise IntroductionError(_l("Write a short message: say who you are and what you hope for."))
    if len(message) > MESSAGE_LIMIT:
        raise IntroductionError(_l("The message is too long: at most %(limit)d characters.",
                                    limit=MESSAGE_LIMIT))
    need, solution = (own, other) if own.kind == "need" else (other, own)
    if open_request(need, solution) is not None:
        raise IntroductionError(_l("There is already an open request between these two listings."))
    introduction = Introduction(
        need=need, solution=solution, match=match_of(need, solution),
        sender_org_id=user.organization_id, recipient_org_id=other.organization_id,
        sender=user, message=message, wishes=[w for w in WISHES if w in (wishes or [])],
        open_pair=pair_key(need, solution))
    introduction.steps.append(IntroductionStep(actor=user, stage=IntroductionStage.NEW))
    db.session.add(introduction)
    db.session.flush()
    notices.queue("introduction_request", introduction, to=introduction.recipient_org_id)
    return introduction


def _check_allowed(user: User, own, other) -> None:
    if user.organization_id is None:
        raise IntroductionError(_l("Only members of an organisation can express interest."))
    if own.kind == other.kind:
        raise IntroductionError(_l("A request goes from a need to a solution, or back."))
    if not lifecycle.can_edit(user, own):
        raise IntroductionError(_l("You can only write from your own organisation's listings."))
    if other.organization_id == user.organization_id:
        raise IntroductionError(_l("This listing is your own organisation's."))
    if not (own.is_live and other.is_live):
        raise IntroductionError(_l("Both listings must be published."))


def match_of(need: Need, solution: Solution) -> Match | None:
    return db.session.scalar(select(Match).where(Match.need_id == need.id,
                                                 Match.solution_id == solution.id))
