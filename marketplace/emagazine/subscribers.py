"""E-magazine subscriptions, with double opt-in.

A public sign-up never changes a confirmed subscription: the preferences travel inside the
signed confirmation link and take effect only when someone who reads that inbox opens it.
So nobody can subscribe, or re-target, an address that is not theirs, and the visitor is
told the same thing whether or not the address was known.  Account holders with a verified
address are confirmed at once: verifying it already proved the address is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace import constants, tokens
from marketplace.extensions import db
from marketplace.mailing import suppressions, transport
from marketplace.models import Subscriber, User
from marketplace.models._time import utcnow
from marketplace.models.emagazine import new_confirm_nonce
from marketplace.models.mail import EMAGAZINE_LIST
from marketplace.models.states import SubscriberStatus
from marketplace.taxonomy import taxonomy

CONFIRMATIONS_PER_HOUR = 3
RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Preferences:
    """What a reader asked for.  Empty countries or sectors mean all of them."""

    language: str = "en"
    countries: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()

    @classmethod
    def clean(cls, language: str, countries, sectors) -> Preferences:
        """Unknown codes dropped: a link signed last week may name a sector since removed."""
        tree = taxonomy()
        return cls(language if language in constants.LANGUAGES else "en",
                   tuple(c for c in countries or () if c in constants.COUNTRIES),
                   tuple(s for s in sectors or () if s in tree))

    def to_payload(self) -> dict:
        return {"l": self.language, "c": list(self.countries), "s": list(self.sectors)}

    @classmethod
    def from_payload(cls, payload) -> Preferences:
        if not isinstance(payload, dict):
            raise tokens.InvalidToken("invalid")
        return cls.clean(payload.get("l", "en"), payload.get("c"), payload.get("s"))

    def apply(self, subscriber: Subscriber) -> None:
        subscriber.language = self.language
        subscriber.countries, subscriber.sectors = list(self.countries), list(self.sectors)


def normalise(email: str) -> str:
    return email.strip().lower()


def find(email: str) -> Subscriber | None:
    return db.session.scalar(
        select(Subscriber).where(func.lower(Subscriber.email) == normalise(email)))


def for_user(user: User) -> Subscriber | None:
    """The account's subscription: linked to it, or made earlier with the same address."""
    linked = db.session.scalar(select(Subscriber).where(Subscriber.user_id == user.id))
    return linked or find(user.email)


# --- public sign-up ------------------------------------------------------------------------

def sign_up(email: str, preferences: Preferences, ip: str, user: User | None = None) -> bool:
    """Record a sign-up and mail a confirmation link, at most CONFIRMATIONS_PER_HOUR an
    hour per address.  Returns whether a mail went out; never show that to the visitor."""
    subscriber = _signed_up_row(normalise(email), preferences, ip, user)
    allowed = _claim_confirmation(subscriber.id)
    db.session.commit()  # the claim counts even if the transport then fails
    if allowed:
        send_confirmation(subscriber, preferences)
    return allowed


def _signed_up_row(email: str, preferences: Preferences, ip: str,
                   user: User | None) -> Subscriber:
    """The address's row, created or put back to pending - unless already confirmed, whose
    preferences only the confirmation link may change."""
    subscriber = find(email)
    if subscriber is None:
        subscriber = Subscriber(email=email, status=SubscriberStatus.PENDING)
        try:
            with db.session.begin_nested():
                db.session.add(subscriber)
        except IntegrityError:  # the same address signed up at the same moment
            subscriber = find(email)
    if subscriber.status != SubscriberStatus.CONFIRMED:
        subscriber.status, subscriber.signup_ip = SubscriberStatus.PENDING, ip
        subscriber.user_id = subscriber.user_id or (user.id if user else None)
        preferences.apply(subscriber)
    return subscriber


def _claim_confirmation(subscriber_id: int) -> bool:
    """Count one confirmation mail against the hourly allowance.  Each step is a single
    conditional UPDATE, so two sign-ups at the same moment cannot both take the last one."""
    now = utcnow()
    stale = or_(Subscriber.confirmations_window_start.is_(None),
                Subscriber.confirmations_window_start <= now - RATE_WINDOW)
    new_window = db.session.execute(
        update(Subscriber).where(Subscriber.id == subscriber_id, stale)
        .values(confirmations_window_start=now, confirmations_in_window=1)
        .execution_options(synchronize_session=False)).rowcount
    if new_window:
        return True
    return bool(db.session.execute(
        update(Subscriber).where(Subscriber.id == subscriber_id,
                                 Subscriber.confirmations_in_window < CONFIRMATIONS_PER_HOUR)
        .values(confirmations_in_window=Subscriber.confirmations_in_window + 1)
        .execution_options(synchronize_session=False)).rowcount)


def confirmation_token(subscriber: Subscriber, preferences: Preferences) -> str:
    """Scoped to the subscriber and the address: if the row is ever reused for another
    address, old links stop working.  It carries the row's confirmation nonce, which using a
    link or unsubscribing replaces: so a link works once, and never after an unsubscribe."""
    return tokens.make_token(tokens.EMAGAZINE_CONFIRM, {
        "s": subscriber.id, "e": subscriber.email, "n": subscriber.confirm_nonce,
        "p": preferences.to_payload()})


def send_confirmation(subscriber: Subscriber, preferences: Preferences) -> None:
    link = transport.external_url("emagazine.confirm",
                             token=confirmation_token(subscriber, preferences))
    transport.send_email("emagazine_confirm", subscriber.email, preferences.language,
                    email=subscriber.email, link=link, preferences=preferences)


def check(token: str) -> tuple[Subscriber, Preferences]:
    """The subscriber and preferences a link confirms; raises tokens.InvalidToken
    ("invalid", "expired", or "used": used already, or sent before an unsubscribe)."""
    subscriber, preferences, _nonce = _read(token)
    return subscriber, preferences


def _read(token: str) -> tuple[Subscriber, Preferences, str | None]:
    data = tokens.read_token(tokens.EMAGAZINE_CONFIRM, token)
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise tokens.InvalidToken("invalid")
    subscriber = db.session.get(Subscriber, data["s"])
    if subscriber is None or subscriber.email != data.get("e"):
        raise tokens.InvalidToken("invalid")
    if data.get("n") != subscriber.confirm_nonce:
        raise tokens.InvalidToken("used")
    return subscriber, Preferences.from_payload(data.get("p")), data.get("n")


def _use_nonce(subscriber: Subscriber, nonce: str | None) -> None:
    """Replace the nonce the link carried, in one conditional UPDATE: of two posts of the
    same link at the same moment, exactly one wins; the other is told it was used."""
    current = (Subscriber.confirm_nonce.is_(None) if nonce is None
               else Subscriber.confirm_nonce == nonce)
    fresh = new_confirm_nonce()
    won = db.session.execute(
        update(Subscriber).where(Subscriber.id == subscriber.id, current)
        .values(confirm_nonce=fresh).execution_options(synchronize_session=False)).rowcount
    if not won:
        db.session.rollback()
        raise tokens.InvalidToken("used")
    subscriber.confirm_nonce = fresh


def confirm(token: str, ip: str) -> Subscriber:
    """Apply the link's preferences and confirm, once per link.  The opt-in record (time
    and address) is kept from the first confirmation; a later link only changes the
    preferences."""
    subscriber, preferences, nonce = _read(token)
    _use_nonce(subscriber, nonce)
    preferences.apply(subscriber)
    if subscriber.status != SubscriberStatus.CONFIRMED:
        _mark_confirmed(subscriber, ip)
    suppressions.resubscribe(subscriber.email, EMAGAZINE_LIST)
    db.session.commit()
    return subscriber


def _mark_confirmed(subscriber: Subscriber, ip: str) -> None:
    subscriber.status, subscriber.confirmed_at, subscriber.confirmed_ip = \
        SubscriberStatus.CONFIRMED, utcnow(), ip


# --- account holders -----------------------------------------------------------------------

def subscribe_account(user: User, preferences: Preferences, ip: str) -> bool:
    """Subscribe from the account settings.  Returns True if confirmed now, False if a
    confirmation link was sent instead (the account's address is not verified yet)."""
    if not user.email_verified:
        sign_up(user.email, preferences, ip, user=user)
        return False
    subscriber = for_user(user)
    if subscriber is None:
        subscriber = Subscriber(email=normalise(user.email))
        db.session.add(subscriber)
    subscriber.user_id = user.id
    subscriber.confirm_nonce = new_confirm_nonce()  # links mailed earlier are superseded
    preferences.apply(subscriber)
    if subscriber.status != SubscriberStatus.CONFIRMED:
        subscriber.signup_ip = ip
        _mark_confirmed(subscriber, ip)
    suppressions.resubscribe(subscriber.email, EMAGAZINE_LIST)
    db.session.commit()
    return True


def unsubscribe_account(user: User) -> None:
    suppressions.unsubscribe(user.email, EMAGAZINE_LIST)
