"""Who may be mailed: one-click unsubscribe tokens, list suppressions and bounces.

Every bulk sender (digests, the E-magazine) checks ``is_suppressed`` at send time and puts
``unsubscribe_headers`` on each message (RFC 2369 and RFC 8058 one-click).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace import tokens
from marketplace.extensions import db
from marketplace.mailing.transport import external_url
from marketplace.models import MailSuppression, Subscriber, User
from marketplace.models.emagazine import new_confirm_nonce
from marketplace.models.mail import DIGEST_LIST, EMAGAZINE_LIST, EVERY_LIST
from marketplace.models.states import SubscriberStatus

LISTS = (DIGEST_LIST, EMAGAZINE_LIST)


def unsubscribe_token(email: str, list_name: str) -> str:
    """Signed, and scoped to one address and one list."""
    return tokens.make_token(tokens.UNSUBSCRIBE, {"e": email.lower(), "l": list_name})


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(email, list) from a token; raises tokens.InvalidToken if it was tampered with."""
    payload = tokens.read_token(tokens.UNSUBSCRIBE, token)
    if not isinstance(payload, dict) or payload.get("l") not in LISTS or not payload.get("e"):
        raise tokens.InvalidToken("invalid")
    return payload["e"], payload["l"]


def unsubscribe_url(email: str, list_name: str) -> str:
    return external_url("notifications.unsubscribe",
                        token=unsubscribe_token(email, list_name))


def unsubscribe_headers(email: str, list_name: str, url: str | None = None) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (the https link) and RFC 8058 one-click."""
    return {"List-Unsubscribe": f"<{url or unsubscribe_url(email, list_name)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def is_suppressed(email: str, list_name: str) -> bool:
    return db.session.scalar(
        select(MailSuppression.id).where(
            MailSuppression.email == email.lower(),
            or_(MailSuppression.list_name == list_name,
                MailSuppression.list_name == EVERY_LIST)).limit(1)
    ) is not None


def suppressed_among(emails: list[str], list_name: str) -> set[str]:
    """Which of ``emails`` must not get ``list_name`` mail (one query for a batch)."""
    if not emails:
        return set()
    lowered = {email.lower(): email for email in emails}
    found = db.session.scalars(select(MailSuppression.email).where(
        MailSuppression.email.in_(list(lowered)),
        or_(MailSuppression.list_name == list_name, MailSuppression.list_name == EVERY_LIST)))
    return {lowered[email] for email in found}


def unsubscribe(email: str, list_name: str) -> None:
    """Stop ``list_name`` mail to ``email``; doing it twice is harmless."""
    _suppress(email, list_name, "unsubscribed")
    if list_name == DIGEST_LIST:
        db.session.execute(update(User).where(User.email == email.lower())
                           .values(digest_frequency="off"))
    if list_name == EMAGAZINE_LIST:
        # A new nonce: confirmation links sent before now must not undo this.
        db.session.execute(update(Subscriber).where(Subscriber.email == email.lower())
                           .values(status=SubscriberStatus.UNSUBSCRIBED,
                                   confirm_nonce=new_confirm_nonce()))
    db.session.commit()


def resubscribe(email: str, list_name: str) -> None:
    """The owner asked for the list again (from their settings); a bounce still stands."""
    db.session.execute(delete(MailSuppression).where(
        MailSuppression.email == email.lower(), MailSuppression.list_name == list_name,
        MailSuppression.reason == "unsubscribed"))


def mark_bounced(email: str, detail: str) -> None:
    """A permanent failure: no more mail of any kind to this address."""
    _suppress(email, EVERY_LIST, "bounced", detail)
    db.session.commit()


def _suppress(email: str, list_name: str, reason: str, detail: str = "") -> None:
    try:
        with db.session.begin_nested():
            db.session.add(MailSuppression(email=email.lower(), list_name=list_name,
                                           reason=reason, detail=detail[:2000]))
    except IntegrityError:
        pass  # already suppressed
