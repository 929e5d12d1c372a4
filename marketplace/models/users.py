from __future__ import annotations

import functools
import hmac
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.organizations import Organization

_hasher = PasswordHasher()

DIGEST_FREQUENCIES = ("immediate", "daily", "weekly", "off")


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


@functools.cache
def _nobodys_hash() -> str:
    return PasswordHasher().hash(secrets.token_hex(16))  # same parameters as _hasher


def spend_password_check(password: str, *, hash_it: bool = False) -> None:
    """Do the slow argon2 work of a password check (or of hashing a new password) for nobody,
    so that an unknown address answers as slowly as a known one."""
    if hash_it:
        _hasher.hash(password)
        return
    try:
        _hasher.verify(_nobodys_hash(), password)
    except (VerificationError, InvalidHashError):
        pass


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # E-mail is unique regardless of case; we also store it lower-cased.
    __table_args__ = (Index("uq_users_email_lower", func.lower("email"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(120))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8), default="en")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Match digests: how often, and which kinds of news.
    digest_frequency: Mapped[str] = mapped_column(String(16), default="daily",
                                                  server_default="daily")
    digest_need_matches: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    digest_solution_matches: Mapped[bool] = mapped_column(default=True,
                                                          server_default=sa_true())
    digest_saved_searches: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # Messages in introductions: each by e-mail at once, or one summary a day.
    introduction_notice: Mapped[str] = mapped_column(String(16), default="immediate",
                                                     server_default="immediate")
    introduction_summary_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Part of the id in every session and remember cookie (``get_id``): a new value signs the
    # user out everywhere.  Rotated at logout, password change and reset.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token,
                                               server_default="0")

    organization: Mapped[Organization | None] = relationship(
        back_populates="members", foreign_keys=[organization_id]
    )

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        """A new password also ends every session: whoever knew the old one is signed out."""
        self.password_hash = _hasher.hash(password)
        self.end_all_sessions()

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def has_session_token(self, token: str) -> bool:
        return hmac.compare_digest(self.session_token.encode(), token.encode())

    def end_all_sessions(self) -> None:
        """Every session and remember cookie issued so far stops working."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive accounts
        return self.is_active_account

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supplier(self) -> bool:
        return self.role == "supplier"

    @property
    def is_buyer(self) -> bool:
        return self.role == "buyer"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
