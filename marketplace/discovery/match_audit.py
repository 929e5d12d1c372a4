"""`flask matches audit`: does the live ledger look right to a person?

Two checks a reader would make by hand: do delivered matches share at least a sector family
(Water with Water, not Water with Air), and is any listing left with nothing although the
marketplace holds an obvious candidate: a live listing of the other kind in its sector that
serves its country.  Then what people did with the matches: the stage each introduction made
from a match reached, and why the declined ones were declined - the real outcomes matching
can later be evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.listings.lifecycle import live_filter
from marketplace.models import Introduction, Match, Need, Solution
from marketplace.taxonomy import taxonomy


@dataclass
class AuditReport:
    delivered: int = 0
    same_family: int = 0
    needs_without_match: list[Need] = field(default_factory=list)
    solutions_without_match: list[Solution] = field(default_factory=list)
    # Introductions made from a match: how many reached each stage, and decline reasons.
    introduction_stages: dict[str, int] = field(default_factory=dict)
    decline_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def family_share(self) -> float:
        return self.same_family / self.delivered if self.delivered else 1.0


def _families(codes: list[str]) -> set[str]:
    tree = taxonomy()
    return {tree.ancestors(code)[-1] for code in codes if code in tree}


def _covers(chosen: list[str], other: list[str]) -> bool:
    """Whether ``other`` lies in one of the ``chosen`` sectors (a chosen parent covers its
    children)."""
    tree = taxonomy()
    expanded = {ancestor for code in other if code in tree for ancestor in tree.ancestors(code)}
    return bool(set(chosen) & expanded)


def audit() -> AuditReport:
    report = AuditReport()
    rows = db.session.scalars(select(Match).where(Match.delivered).options(
        selectinload(Match.need).selectinload(Need.sector_links),
        selectinload(Match.solution).selectinload(Solution.sector_links))).all()
    matched_needs, matched_solutions = set(), set()
    for row in rows:
        if not (row.need.is_live and row.solution.is_live):
            continue
        report.delivered += 1
        report.same_family += bool(_families(row.need.sectors) & _families(row.solution.sectors))
        matched_needs.add(row.need_id)
        matched_solutions.add(row.solution_id)
    needs = db.session.scalars(select(Need).where(live_filter(Need))).all()
    solutions = db.session.scalars(select(Solution).where(live_filter(Solution))).all()
    for need in needs:
        if need.id not in matched_needs and any(_serves(s, need) for s in solutions):
            report.needs_without_match.append(need)
    for solution in solutions:
        if solution.id not in matched_solutions and any(_serves(solution, n) for n in needs):
            report.solutions_without_match.append(solution)
    report.introduction_stages, report.decline_reasons = _outcomes()
    return report


def _outcomes() -> tuple[dict[str, int], dict[str, int]]:
    from_matches = Introduction.match_id.is_not(None)
    stages = dict(db.session.execute(select(Introduction.stage, func.count())
                                     .where(from_matches).group_by(Introduction.stage)).all())
    reasons = dict(db.session.execute(
        select(Introduction.decline_reason, func.count())
        .where(from_matches, Introduction.decline_reason.is_not(None))
        .group_by(Introduction.decline_reason)).all())
    return stages, reasons


def _serves(solution: Solution, need: Need) -> bool:
    """An obvious candidate: in the need's sector, serving its country, ready enough, and
    not the need's own organisation."""
    return (need.country in solution.countries_served and solution.trl >= (need.min_trl or 1)
            and solution.organization_id != need.organization_id
            and (_covers(need.sectors, solution.sectors)
                 or _covers(solution.sectors, need.sectors)))
