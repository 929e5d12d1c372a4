"""The conversation of an accepted introduction: plain-text messages between the two sides,
each e-mailed to the other side's contact person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.extensions import db
from marketplace.introductions import notices
from marketplace.introductions.interest import IntroductionError
from marketplace.models import Introduction, IntroductionMessage, User
from marketplace.models.introductions import MESSAGE_LIMIT


def post_message(introduction: Introduction, user: User, body: str) -> IntroductionMessage:
    side = introduction.side_of(user.organization_id)
    if side is None:
        raise IntroductionError(_l("Only the two sides of an introduction write in it."))
    if not introduction.accepted:
        raise IntroductionError(_l("The conversation opens once the request is accepted."))
    body = (body or "").strip()
    if not body:
        raise IntroductionError(_l("The message is empty."))
    if len(body) > MESSAGE_LIMIT:
        raise IntroductionError(_l("The message is too long: at most %(limit)d characters.",
                                   limit=MESSAGE_LIMIT))
    message = IntroductionMessage(introduction=introduction, author=user,
                                  organization_id=user.organization_id, body=body)
    db.session.add(message)
    db.session.flush()
    other = introduction.recipient_org_id if side == "sender" else introduction.sender_org_id
    notices.queue("introduction_message", introduction, to=other, message_id=message.id)
    return message
