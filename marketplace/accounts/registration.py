"""Registration, e-mail verification and password reset."""

from __future__ import annotations

import hashlib
import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace import tokens
from marketplace.extensions import db
from marketplace.mailing import transport
from marketplace.models import Organization, User
from marketplace.models._time import utcnow
from marketplace.models.users import spend_password_check
from marketplace.outbox import relay

log = logging.getLogger(__name__)


class RegistrationError(Exception):
    """A registration that cannot go ahead; the message is shown next to the field."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.email) == User.normalise_email(email))
    )


def register(*, email: str, password: str, name: str, role: str, language: str,
             organization: Organization | None = None, join_code: str = "") -> User | None:
    """Create a user that either joins an organisation by its code or brings a new one, and
    queue the mail that confirms the address.

    An address that already has an account gets no second one and no error either (that would
    tell anyone which addresses are registered): its owner is mailed instead, and this returns
    None after the same work, so the caller answers exactly as for a new account.
    """
    organization = _organization_to_join(organization, join_code)
    existing = find_user_by_email(email)
    if existing is not None:
        spend_password_check(password, hash_it=True)  # as slow as creating the account
        queue_account_mail("account_exists", existing)
        return None
    user = User(email=User.normalise_email(email), name=name.strip(), role=role,
                language=language, organization=organization)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification_email(user)
    return user


def _organization_to_join(organization: Organization | None, join_code: str) -> Organization:
    if join_code:
        organization = db.session.scalar(
            select(Organization).where(Organization.join_code == join_code.strip())
        )
        if organization is None:
            raise RegistrationError("join_code", _l("No organisation has this code."))
    if organization is None:
        raise RegistrationError("org_name", _l("Give your organisation's details or a join code."))
    return organization


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password.  Every failure costs one argon2 check,
    so the time taken does not tell unknown or deactivated addresses from known ones."""
    user = find_user_by_email(email)
    if user is None:
        spend_password_check(password)
        return None
    return user if user.check_password(password) and user.is_active else None


def queue_account_mail(name: str, user: User) -> None:
    """Mail ``user`` after the commit, as a job: an SMTP hiccup is retried there instead of
    failing the request (and the commit it follows)."""
    relay.emit(relay.ACCOUNT_MAIL, {"mail": name, "user": user.id})


def send_verification_email(user: User) -> None:
    queue_account_mail("verify_email", user)


def send_account_mail(name: str, user_id: int) -> None:
    """The ``accounts.send_mail`` job.  Links are made now, from the user as they are: a
    reset link sent late still dies with the password it was made for."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    links = _MAIL_LINKS[name](user)
    if links is None:  # nothing to send any more (already confirmed, deactivated)
        return
    try:
        transport.send_email(name, user.email, user.language, user=user, **links)
    except transport.PermanentMailError as error:  # the address bounced: retrying cannot help
        log.warning("account mail %s to user %s bounced: %s", name, user_id, error)


def _verification_links(user: User) -> dict | None:
    if user.email_verified:
        return None
    token = tokens.make_token(tokens.VERIFY_EMAIL, {"user": user.id, "email": user.email})
    return {"link": transport.external_url("auth.verify_email", token=token)}


def _account_exists_links(user: User) -> dict | None:
    if not user.is_active:
        return None
    # Plain pages, no token: anyone can make this mail go out.
    return {"login_link": transport.external_url("auth.login"),
            "forgot_link": transport.external_url("auth.forgot_password")}


def _reset_links(user: User) -> dict | None:
    if not user.is_active:
        return None
    token = tokens.make_token(
        tokens.RESET_PASSWORD, {"user": user.id, "fp": _password_fingerprint(user)}
    )
    return {"link": transport.external_url("auth.reset_password", token=token)}


def verify_email(token: str) -> User:
    data = tokens.read_token(tokens.VERIFY_EMAIL, token)
    user = db.session.get(User, data["user"])
    # The token names the address it was sent to; a changed address needs a new token.
    if user is None or user.email != data["email"]:
        raise tokens.InvalidToken("invalid")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def _password_fingerprint(user: User) -> str:
    # Part of the reset token: once the password changes, old reset links stop working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def send_password_reset_email(email: str) -> None:
    """Queue a reset link if the account exists; say nothing either way to the caller."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    queue_account_mail("reset_password", user)


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to; raises InvalidToken if it is bad, old or used."""
    data = tokens.read_token(tokens.RESET_PASSWORD, token)
    user = db.session.get(User, data["user"])
    if user is None or data["fp"] != _password_fingerprint(user):
        raise tokens.InvalidToken("invalid")
    return user


_MAIL_LINKS = {"verify_email": _verification_links, "reset_password": _reset_links,
               "account_exists": _account_exists_links}


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    user.set_password(new_password)
    # Following the link proves the address is theirs.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user

