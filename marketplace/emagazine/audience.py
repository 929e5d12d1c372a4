"""Who gets an issue: confirmed subscribers in the issue's audience (countries, sectors,
roles), minus suppressed and bounced addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select, true

from marketplace.extensions import db
from marketplace.models import Subscriber, User
from marketplace.models.mail import EMAGAZINE_LIST, EVERY_LIST, MailSuppression
from marketplace.models.states import SubscriberStatus

# --- audiences -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    subscriber_id: int
    email: str
    language: str
    role: str  # subscriber, supplier or buyer
    countries: tuple[str, ...]
    sectors: tuple[str, ...]


def _in_segment(recipient: Recipient, audience: dict) -> bool:
    """Each list in the audience narrows it; an empty list (or a subscriber with no
    preference) means everyone.  Sectors match up and down the taxonomy tree."""
    languages, roles = audience.get("languages") or [], audience.get("roles") or []
    countries, sectors = audience.get("countries") or [], audience.get("sectors") or []
    if languages and recipient.language not in languages:
        return False
    if roles and recipient.role not in roles:
        return False
    if countries and recipient.countries and not set(countries) & set(recipient.countries):
        return False
    if sectors and recipient.sectors and not any(
            a.startswith(b) or b.startswith(a) for a in sectors for b in recipient.sectors):
        return False
    return True


def recipients(audience: dict, only_ids: list[int] | None = None) -> list[Recipient]:
    """Confirmed subscribers in the segment whose address may be mailed, by id (of
    ``only_ids``, if given: a sending batch)."""
    suppressed = exists().where(MailSuppression.email == Subscriber.email,
                                MailSuppression.list_name.in_((EMAGAZINE_LIST, EVERY_LIST)))
    rows = db.session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.language, Subscriber.countries,
               Subscriber.sectors, User.role)
        .outerjoin(User, User.id == Subscriber.user_id)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED, ~suppressed,
               Subscriber.id.in_(only_ids) if only_ids is not None else true())
        .order_by(Subscriber.id))
    found = [Recipient(sid, email, language or "en",
                       role if role in ("supplier", "buyer") else "subscriber",
                       tuple(countries or ()), tuple(sectors or ()))
             for sid, email, language, countries, sectors, role in rows]
    return [r for r in found if _in_segment(r, audience)]


def segment_count(audience: dict) -> int:
    return len(recipients(audience))
