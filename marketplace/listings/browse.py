"""Database-backed browsing: filters, counts and pages of live listings.

Ranked full-text search lives in the search backend; this is the listing that always works.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from marketplace.extensions import db
from marketplace.listings.lifecycle import live_filter
from marketplace.models import (
    Need,
    NeedSector,
    Organization,
    Solution,
    SolutionCountry,
    SolutionSector,
)
from marketplace.taxonomy import taxonomy

PER_PAGE = 20


@dataclass
class BrowseFilters:
    q: str = ""
    sector: str = ""
    country: str = ""
    base: str = ""
    trl: int | None = None
    certification: str = ""  # only the search engine filters on this

    @classmethod
    def from_args(cls, args) -> BrowseFilters:
        trl = args.get("trl", type=int)
        sector = args.get("sector", "")
        return cls(
            q=args.get("q", "").strip()[:200],
            sector=sector if sector in taxonomy() else "",
            country=args.get("country", "")[:2].upper(),
            base=args.get("base", ""),
            trl=trl if trl and 1 <= trl <= 9 else None,
            certification=args.get("certification", "").strip()[:100],
        )

    def as_args(self) -> dict:
        return {k: v for k, v in vars(self).items() if v}


def _text_condition(q: str, *columns):
    pattern = f"%{q.replace('%', '').replace('_', '')}%"
    return or_(*(column.ilike(pattern) for column in columns))


def solutions_query(filters: BrowseFilters):
    query = select(Solution).join(Solution.organization).where(live_filter(Solution))
    if filters.q:
        query = query.where(_text_condition(filters.q, Solution.title, Solution.summary,
                                            Solution.description))
    if filters.sector:
        query = query.where(Solution.sector_links.any(
            SolutionSector.code.in_(taxonomy().descendants(filters.sector))))
    if filters.country:
        query = query.where(Solution.country_links.any(SolutionCountry.country == filters.country))
    if filters.base:
        query = query.where(Organization.base == filters.base)
    if filters.trl:
        query = query.where(Solution.trl >= filters.trl)
    return query.order_by(Solution.published_at.desc(), Solution.id.desc())


def needs_query(filters: BrowseFilters):
    query = select(Need).join(Need.organization).where(live_filter(Need))
    if filters.q:
        query = query.where(_text_condition(filters.q, Need.title, Need.description))
    if filters.sector:
        query = query.where(Need.sector_links.any(
            NeedSector.code.in_(taxonomy().descendants(filters.sector))))
    if filters.country:
        query = query.where(Need.country == filters.country)
    if filters.trl:
        query = query.where(Need.min_trl <= filters.trl)
    return query.order_by(Need.published_at.desc(), Need.id.desc())


def latest(cls, limit: int = 6):
    return list(db.session.scalars(
        select(cls).where(live_filter(cls)).order_by(cls.published_at.desc()).limit(limit)
    ))


def counts_by_top_sector() -> list[tuple[str, int, int]]:
    """(top-level sector code, live solutions, live needs), biggest first."""
    tree = taxonomy()
    totals: dict[str, list[int]] = {root.code: [0, 0] for root in tree.roots()}
    for index, (link, cls) in enumerate(((SolutionSector, Solution), (NeedSector, Need))):
        owner = link.solution_id if cls is Solution else link.need_id
        rows = db.session.execute(
            select(link.code, func.count(func.distinct(owner)))
            .join(cls, cls.id == owner)
            .where(live_filter(cls))
            .group_by(link.code)
        )
        for code, count in rows:
            if code in tree:
                totals[tree.ancestors(code)[-1]][index] += count
    # A listing tagged with two children of one root is counted once per child: good enough
    # for a chart of where activity is.
    return sorted(((c, s, n) for c, (s, n) in totals.items()), key=lambda r: -(r[1] + r[2]))


def counts_by_country() -> list[tuple[str, int, int]]:
    """(country, live solutions serving it, live needs in it)."""
    served = dict(db.session.execute(
        select(SolutionCountry.country, func.count())
        .join(Solution, Solution.id == SolutionCountry.solution_id)
        .where(live_filter(Solution))
        .group_by(SolutionCountry.country)
    ).all())
    needed = dict(db.session.execute(
        select(Need.country, func.count()).where(live_filter(Need)).group_by(Need.country)
    ).all())
    countries = sorted(set(served) | set(needed),
                       key=lambda c: -(served.get(c, 0) + needed.get(c, 0)))
    return [(c, served.get(c, 0), needed.get(c, 0)) for c in countries]
