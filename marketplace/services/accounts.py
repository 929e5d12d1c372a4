"""Registration, e-mail verification and password reset."""

from __future__ import annotations

import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Organization, User
from marketplace.models._time import utcnow
from marketplace.services import mail, tokens


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
             organization: Organization | None = None, join_code: str = "") -> User:
    """Create a user that either joins an organisation by its code or brings a new one."""
    if find_user_by_email(email):
        raise RegistrationError("email", _l("An account with this e-mail already exists."))
    if join_code:
        organization = db.session.scalar(
            select(Organization).where(Organization.join_code == join_code.strip())
        )
        if organization is None:
            raise RegistrationError("join_code", _l("No organisation has this code."))
    if organization is None:
        raise RegistrationError("org_name", _l("Give your organisation's details or a join code."))
    user = User(email=User.normalise_email(email), name=name.strip(), role=role,
                language=language, organization=organization)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def send_verification_email(user: User) -> None:
    token = tokens.make_token(tokens.VERIFY_EMAIL, {"user": user.id, "email": user.email})
    mail.send_email("verify_email", user.email, user.language, user=user,
                    link=mail.external_url("auth.verify_email", token=token))


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
    """Send a reset link if the account exists; say nothing either way to the caller."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    token = tokens.make_token(
        tokens.RESET_PASSWORD, {"user": user.id, "fp": _password_fingerprint(user)}
    )
    mail.send_email("reset_password", user.email, user.language, user=user,
                    link=mail.external_url("auth.reset_password", token=token))


def user_for_reset_token(token: str) -> User:
    """The user a reset link belongs to; raises InvalidToken if it is bad, old or used."""
    data = tokens.read_token(tokens.RESET_PASSWORD, token)
    user = db.session.get(User, data["user"])
    if user is None or data["fp"] != _password_fingerprint(user):
        raise tokens.InvalidToken("invalid")
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    user.set_password(new_password)
    # Following the link proves the address is theirs.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user

