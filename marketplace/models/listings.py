"""Solutions (technology offers) and needs (buyers' requests), and their moderation history."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models._time import UTCDateTime, utcnow
from marketplace.models.states import (
    ListingStatus,
    state_column,
)

if TYPE_CHECKING:
    from marketplace.models.organizations import Organization
    from marketplace.models.users import User


class ListingMixin:
    """Columns and behaviour shared by solutions and needs."""

    kind: str  # "solution" or "need", used in URLs and the moderation log

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = state_column("status", ListingStatus, ListingStatus.DRAFT,
                                       index=True)
    # The last reviewer's note: a reason when rejected, an optional remark when approved.
    review_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    is_demo: Mapped[bool] = mapped_column(default=False)

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organizations.id"), index=True)

    @property
    def is_live(self) -> bool:
        """Published and not past its expiry: what the public may see."""
        return self.status == ListingStatus.PUBLISHED and (
            self.expires_at is None or self.expires_at > utcnow()
        )

    @property
    def effective_status(self) -> str:
        if self.status == ListingStatus.PUBLISHED and not self.is_live:
            return ListingStatus.EXPIRED
        return self.status

    def _set_codes(self, attribute: str, link_class: type, field: str, codes: list[str]) -> None:
        # Keep rows that stay so a save that changes nothing writes nothing.
        existing = {getattr(link, field): link for link in getattr(self, attribute)}
        setattr(
            self,
            attribute,
            [existing.get(code) or link_class(**{field: code}) for code in dict.fromkeys(codes)],
        )


class SolutionSector(db.Model):
    __tablename__ = "solution_sectors"
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class SolutionCountry(db.Model):
    __tablename__ = "solution_countries"
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class NeedSector(db.Model):
    __tablename__ = "need_sectors"
    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class Solution(ListingMixin, db.Model):
    __tablename__ = "solutions"
    __table_args__ = (
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl_range"),
        CheckConstraint("length(summary) <= 300", name="summary_length"),
    )
    kind = "solution"

    summary: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    trl: Mapped[int] = mapped_column(index=True)
    capacity_min: Mapped[float | None] = mapped_column(Numeric(14, 3, asdecimal=False))
    capacity_max: Mapped[float | None] = mapped_column(Numeric(14, 3, asdecimal=False))
    capacity_unit: Mapped[str | None] = mapped_column(String(16))
    price_min: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    price_max: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    currency: Mapped[str | None] = mapped_column(String(3))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)

    organization: Mapped[Organization] = relationship(back_populates="solutions")
    sector_links: Mapped[list[SolutionSector]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    country_links: Mapped[list[SolutionCountry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    references: Mapped[list[ReferenceProject]] = relationship(
        cascade="all, delete-orphan", order_by="ReferenceProject.year.desc()"
    )

    @property
    def sectors(self) -> list[str]:
        return [link.code for link in self.sector_links]

    @sectors.setter
    def sectors(self, codes: list[str]) -> None:
        self._set_codes("sector_links", SolutionSector, "code", codes)

    @property
    def countries_served(self) -> list[str]:
        return [link.country for link in self.country_links]

    @countries_served.setter
    def countries_served(self, countries: list[str]) -> None:
        self._set_codes("country_links", SolutionCountry, "country", countries)


class ReferenceProject(db.Model):
    """A place where the solution already runs: evidence for buyers."""

    __tablename__ = "reference_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), index=True
    )
    place: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    capacity: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(String(500), default="")


class Need(ListingMixin, db.Model):
    __tablename__ = "needs"
    __table_args__ = (CheckConstraint("min_trl BETWEEN 1 AND 9", name="min_trl_range"),)
    kind = "need"

    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[float | None] = mapped_column(Numeric(14, 3, asdecimal=False))
    capacity_unit: Mapped[str | None] = mapped_column(String(16))
    budget_min: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    budget_max: Mapped[float | None] = mapped_column(Numeric(16, 2, asdecimal=False))
    currency: Mapped[str | None] = mapped_column(String(3))
    deadline: Mapped[date | None] = mapped_column(Date)
    min_trl: Mapped[int] = mapped_column(default=1)
    required_certifications: Mapped[list[str]] = mapped_column(JSON, default=list)

    organization: Mapped[Organization] = relationship(back_populates="needs")
    sector_links: Mapped[list[NeedSector]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def sectors(self) -> list[str]:
        return [link.code for link in self.sector_links]

    @sectors.setter
    def sectors(self, codes: list[str]) -> None:
        self._set_codes("sector_links", NeedSector, "code", codes)


class ModerationDecision(db.Model):
    """Every submission and review, kept for the owner's history and for reports."""

    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[str] = mapped_column(String(16))
    listing_id: Mapped[int] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))  # submitted, approved, rejected
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()
