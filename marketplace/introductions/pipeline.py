"""Answering a request and moving an introduction along its pipeline.

The recipient accepts (both sides then see each other's contact person) or declines with a
reason the sender is told.  After that either side moves it forward - contacted, meeting,
NDA, pilot, contract - or closes it as declined.  Every change is a step of the timeline.
Moves are checked against the version the mover saw: of two people moving the same card at
once, one wins and the other is told.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from marketplace.extensions import db
from marketplace.introductions import notices
from marketplace.models import Introduction, IntroductionStep, Match, Meeting, Need, Solution, User
from marketplace.models._time import utcnow
from marketplace.models.introductions import DECLINE_REASONS
from marketplace.models.states import CLOSED, PIPELINE, IntroductionStage, MatchState


class IllegalMove(Exception):
    """Not a move this introduction can make now (answered with 409)."""


class MovedMeanwhile(IllegalMove):
    """Someone else changed the introduction since the mover loaded it."""


MOVED_MEANWHILE = _l("Someone else changed this introduction a moment ago. "
                     "Here it is as it is now.")


def allowed_moves(introduction: Introduction, side: str | None) -> list[str]:
    """The stages ``side`` may move the introduction to now."""
    stage = introduction.stage
    if side is None or stage in CLOSED or stage == IntroductionStage.EXPIRED:
        return []
    if stage == IntroductionStage.NEW:
        return [IntroductionStage.CONTACTED, IntroductionStage.DECLINED] \
            if side == "recipient" else []
    later = list(PIPELINE[PIPELINE.index(stage) + 1:])
    return later + [IntroductionStage.DECLINED]


def accept(introduction: Introduction, user: User, seen_version: int) -> None:
    _move(introduction, user, IntroductionStage.CONTACTED, seen_version)
    introduction.recipient_contact = user
    introduction.accepted_at = utcnow()
    notices.queue("introduction_accepted", introduction, to=introduction.sender_org_id)


def decline(introduction: Introduction, user: User, seen_version: int, reason: str,
            note: str = "") -> None:
    if reason not in DECLINE_REASONS:
        raise IllegalMove(_l("Choose a reason from the list."))
    note = (note or "").strip()
    if reason == "other" and not note:
        raise IllegalMove(_l("Say in a few words why, when the reason is “other”."))
    was_request = introduction.stage == IntroductionStage.NEW
    _move(introduction, user, IntroductionStage.DECLINED, seen_version, note)
    introduction.decline_reason, introduction.decline_note = reason, note
    introduction.declined_at = utcnow()
    if reason == "not_relevant":
        _dismiss_match(introduction)
    if was_request:
        notices.queue("introduction_declined", introduction, to=introduction.sender_org_id)


def move(introduction: Introduction, user: User, stage: str, seen_version: int,
         note: str = "") -> None:
    """Move forward along the pipeline (declining has its own step, with a reason)."""
    if stage in (IntroductionStage.CONTACTED, IntroductionStage.DECLINED) \
            and introduction.stage == IntroductionStage.NEW:
        raise IllegalMove(_l("Accept or decline the request first."))
    if stage == IntroductionStage.DECLINED:
        raise IllegalMove(_l("Closing an introduction needs a reason."))
    _move(introduction, user, stage, seen_version, note)


def _move(introduction: Introduction, user: User, stage: str, seen_version: int,
          note: str = "") -> None:
    side = introduction.side_of(user.organization_id)
    if seen_version != introduction.version:
        raise MovedMeanwhile(MOVED_MEANWHILE)
    if stage not in allowed_moves(introduction, side):
        raise IllegalMove(_l("This introduction cannot move to that stage now."))
    # The version check in SQL: of two moves made at the same moment, the second changes
    # no row and is refused, whatever either of them read before.
    moved = db.session.execute(
        update(Introduction).where(Introduction.id == introduction.id,
                                   Introduction.version == seen_version)
        .values(version=seen_version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise MovedMeanwhile(MOVED_MEANWHILE)
    db.session.refresh(introduction, ["version"])
    introduction.stage = stage
    introduction.stage_changed_at = utcnow()
    if stage in (IntroductionStage.DECLINED, IntroductionStage.EXPIRED):
        introduction.open_pair = None  # the pair may ask again
    introduction.steps.append(IntroductionStep(actor=user, stage=stage, note=note.strip()))


def _dismiss_match(introduction: Introduction) -> None:
    """"Not relevant" teaches the ledger: the pair leaves both sides' matches."""
    match = introduction.match or db.session.scalar(db.select(Match).where(
        Match.need_id == introduction.need_id, Match.solution_id == introduction.solution_id))
    if match is None:
        return
    match.buyer_state = match.supplier_state = MatchState.DISMISSED
    match.buyer_dismiss_reason = match.supplier_dismiss_reason = "not_relevant"


def record_meeting(payload: dict) -> int | None:
    """The ``introductions.meeting_held`` job: two organisations met at an event about a need
    and a solution.  Their open introduction moves to "meeting" (a request still unanswered
    counts as accepted: they have met); with none open, one starts there, so the pipeline
    goes on from the meeting.  Returns the introduction's id."""
    meeting = db.session.get(Meeting, payload["meeting"])
    if meeting is None:
        return None
    actor = db.session.get(User, payload["actor"])
    introduction = db.session.scalar(db.select(Introduction).where(
        Introduction.open_pair == f"{payload['need']}:{payload['solution']}"))
    if introduction is None:
        introduction = _introduction_from_meeting(payload)
    elif PIPELINE.index(IntroductionStage.MEETING) > _position(introduction.stage):
        if introduction.accepted_at is None:
            introduction.accepted_at = utcnow()
        introduction.stage, introduction.stage_changed_at = IntroductionStage.MEETING, utcnow()
        introduction.version += 1
        introduction.steps.append(IntroductionStep(actor=actor, stage=IntroductionStage.MEETING,
                                                   note=MET_AT_EVENT))
    meeting.introduction = introduction
    db.session.commit()
    return introduction.id


MET_AT_EVENT = "Met at a B2B meeting of the event."


def _position(stage: str) -> int:
    return PIPELINE.index(stage) if stage in PIPELINE else -1


def _introduction_from_meeting(payload: dict) -> Introduction:
    need = db.session.get(Need, payload["need"])
    solution = db.session.get(Solution, payload["solution"])
    requester_org, recipient_org = payload["requester_org"], payload["recipient_org"]
    introduction = Introduction(
        need=need, solution=solution, match=db.session.scalar(db.select(Match).where(
            Match.need_id == need.id, Match.solution_id == solution.id)),
        sender_org_id=requester_org, recipient_org_id=recipient_org,
        message=MET_AT_EVENT, stage=IntroductionStage.MEETING, accepted_at=utcnow(),
        open_pair=f"{need.id}:{solution.id}")
    introduction.steps.append(IntroductionStep(stage=IntroductionStage.MEETING,
                                               note=MET_AT_EVENT))
    db.session.add(introduction)
    return introduction
