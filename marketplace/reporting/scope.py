"""What a report covers: a period, and optionally a country, a sector (with everything under
it in the taxonomy) and a demonstration base; and the SQL that applies them.

The country, sector and base belong to organisations and listings.  A pair (a match, an
introduction, a meeting request) is in scope when either of its listings is, so choosing
Viet Nam shows every introduction a Vietnamese organisation took part in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Float, Select, String, and_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from marketplace.models import Need, NeedSector, Organization, Solution, SolutionSector
from marketplace.taxonomy import taxonomy


@dataclass(frozen=True)
class Scope:
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive
    country: str | None = None
    sector: str | None = None
    base: str | None = None

    @property
    def filters_organisations(self) -> bool:
        return bool(self.country or self.sector or self.base)

    def within(self, column) -> ColumnElement[bool]:
        """``column`` (a datetime or a date) falls in the period."""
        conditions = []
        is_date = getattr(column.type, "python_type", None) is date
        if self.start:
            conditions.append(column >= (self.start if is_date else _midnight(self.start)))
        if self.end:
            end = self.end + timedelta(days=1)
            conditions.append(column < (end if is_date else _midnight(end)))
        return and_(true(), *conditions)

    def organisations(self) -> Select:
        """The ids of the organisations in scope."""
        query = select(Organization.id)
        if self.country:
            query = query.where(Organization.country == self.country)
        if self.base:
            query = query.where(Organization.base == self.base)
        if self.sector:
            query = query.where(or_(Organization.id.in_(self._solutions_in_sector(
                select(Solution.organization_id))), Organization.id.in_(
                self._needs_in_sector(select(Need.organization_id)))))
        return query

    def organisation_filter(self, column) -> ColumnElement[bool]:
        return column.in_(self.organisations()) if self.filters_organisations else true()

    def solutions(self) -> Select:
        return self._listings(Solution, self._solutions_in_sector)

    def needs(self) -> Select:
        return self._listings(Need, self._needs_in_sector)

    def listing_filter(self, model) -> ColumnElement[bool]:
        if not self.filters_organisations:
            return true()
        return model.id.in_(self.solutions() if model is Solution else self.needs())

    def pair_filter(self, need_id, solution_id) -> ColumnElement[bool]:
        if not self.filters_organisations:
            return true()
        return or_(need_id.in_(self.needs()), solution_id.in_(self.solutions()))

    def _listings(self, model, in_sector) -> Select:
        query = select(model.id)
        if self.country or self.base:
            query = query.where(model.organization_id.in_(
                Scope(country=self.country, base=self.base).organisations()))
        return in_sector(query) if self.sector else query

    def _solutions_in_sector(self, query: Select) -> Select:
        return query.where(Solution.id.in_(select(SolutionSector.solution_id).where(
            SolutionSector.code.in_(taxonomy().descendants(self.sector)))))

    def _needs_in_sector(self, query: Select) -> Select:
        return query.where(Need.id.in_(select(NeedSector.need_id).where(
            NeedSector.code.in_(taxonomy().descendants(self.sector)))))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def months(first: date, last: date) -> list[str]:
    """Every "YYYY-MM" from ``first``'s month to ``last``'s, for time series without gaps."""
    found, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


class month_of(FunctionElement):
    """A UTC datetime's "YYYY-MM", in each database's own words."""
    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_sqlite(element, compiler, **kw):
    # The compiler doubles a literal % for drivers whose placeholders use it.
    percent = "%%" if compiler.dialect.paramstyle in ("format", "pyformat") else "%"
    return f"strftime('{percent}Y-{percent}m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element, compiler, **kw):
    return f"to_char(timezone('UTC', {compiler.process(element.clauses, **kw)}), 'YYYY-MM')"


class days_between(FunctionElement):
    """``later`` minus ``earlier``, in days (fractional)."""
    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - " \
        f"julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(extract(epoch from ({compiler.process(later, **kw)} - " \
        f"{compiler.process(earlier, **kw)})) / 86400.0)"

