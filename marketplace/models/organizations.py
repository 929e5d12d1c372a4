from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow

if TYPE_CHECKING:
    from marketplace.models.listings import Need, Solution
    from marketplace.models.users import User


def new_join_code() -> str:
    return secrets.token_urlsafe(9)


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    base: Mapped[str | None] = mapped_column(String(16), index=True)
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Members share this code with colleagues, who register with it to join.
    join_code: Mapped[str] = mapped_column(String(32), unique=True, default=new_join_code)
    is_demo: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_organizations_verified_by_id_users")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[User]] = relationship(
        back_populates="organization", foreign_keys="User.organization_id"
    )
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    solutions: Mapped[list[Solution]] = relationship(back_populates="organization")
    needs: Mapped[list[Need]] = relationship(back_populates="organization")

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"
