"""Structured fit: how well two listings' stated facts agree (sectors, country, capacity,
budget, certifications, readiness), as a score in [-1, 1] and the reasons a reader is shown.

Each check returns None when a fact is unknown on either side (neutral: a listing is not
punished for leaving a field empty), else a score in [-1, 1] and at most one Reason. The fit
is the mean of the checks that could judge. The reasons carry the figures an explanation
needs (marketplace/services/explanations.py words them):

- ``sectors``: {"codes": [...], "relation": "same" | "family" | "crosswalk"}
- ``country``: {"country": "VN"}
- ``capacity``: {"fits", "dimension", "need", "min", "max"}, figures in the dimension's
  base unit (marketplace.constants.CAPACITY_UNITS)
- ``budget``: {"fits", "price_min", "price_currency", "budget_min", "budget_max",
  "budget_currency"} and, across currencies, "converted_min", "converted_max" (the budget in
  the price's currency), "rate" (budget-currency units per price-currency unit), "as_of"
- ``certifications``: {"held": [...]}, every required one held
- ``unmet``: {"what": "trl", "need": 7, "offer": 5} | {"what": "certifications",
  "missing": [...], "held": [...]} | {"what": "country", "need": "LA"}
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import lru_cache

from search import money
from search.documents import ListingDocument, Reason

# Sector code -> the sectors it shares a CTCN sector or Y02 class with. search/ knows no
# taxonomy: the marketplace passes its crosswalk in once (use_crosswalk) at start-up.
Crosswalk = Mapping[str, Collection[str]]
_CROSSWALK: Crosswalk = {}

SECTOR_SCORES = {"same": 1.0, "family": 0.4, "crosswalk": 0.2}
# Prices are indicative and rates drift: only a price clearly above the budget counts
# against a match; between the budget and this multiple of it, the budget says nothing.
BUDGET_TOLERANCE = 1.25


def use_crosswalk(crosswalk: Crosswalk) -> None:
    """Set the crosswalk that structured_fit and sector_relation use by default."""
    global _CROSSWALK
    _CROSSWALK = crosswalk


def _need_and_solution(a: ListingDocument, b: ListingDocument):
    return (a, b) if a.kind == "need" else (b, a)


def structured_fit(seeker: ListingDocument, candidate: ListingDocument
                   ) -> tuple[float, list[Reason]]:
    """A score in [-1, 1] and the reasons, from the fields both listings state."""
    need, solution = _need_and_solution(seeker, candidate)
    parts: list[float] = []
    reasons: list[Reason] = []
    for check in (_sector_fit, _country_fit, _capacity_fit, _budget_fit, _certification_fit,
                  _trl_fit):
        outcome = check(need, solution)
        if outcome is not None:
            score, reason = outcome
            parts.append(score)
            if reason is not None:
                reasons.append(reason)
    return (sum(parts) / len(parts) if parts else 0.0), reasons


# -- sectors ---------------------------------------------------------------------------------


def _family(code: str) -> str:
    return code.partition(".")[0]


def _most_specific(codes: Collection[str]) -> set[str]:
    """The codes a listing chose: documents also carry their ancestors ("WAT" for "WAT.MUN")."""
    parents = {code.rpartition(".")[0] for code in codes if "." in code}
    return {code for code in codes if code not in parents}


def _sector_match(need_sectors: Collection[str], solution_sectors: Collection[str],
                  crosswalk: Crosswalk | None = None) -> tuple[str, list[str]] | None:
    """The closest relation on the tree and the codes that show it, or None."""
    need, offer = _most_specific(need_sectors), _most_specific(solution_sectors)
    same = sorted(need & offer)
    if same:
        return "same", same
    families = sorted({_family(c) for c in need} & {_family(c) for c in offer})
    if families:
        return "family", families
    related = _CROSSWALK if crosswalk is None else crosswalk
    for one in sorted(need):
        for other in sorted(offer):
            if other in related.get(one, ()):
                return "crosswalk", [one, other]
    return None


def sector_relation(need_sectors: Collection[str], solution_sectors: Collection[str],
                    crosswalk: Crosswalk | None = None) -> str | None:
    """"same" (a sector both chose), "family" (the same top-level sector), "crosswalk"
    (sectors that share a CTCN sector or Y02 class) or None."""
    match = _sector_match(need_sectors, solution_sectors, crosswalk)
    return match[0] if match else None


def _sector_fit(need, solution):
    if not need.sectors or not solution.sectors:
        return None
    match = _sector_match(need.sectors, solution.sectors)
    if match is None:
        return -1.0, None
    relation, codes = match
    return SECTOR_SCORES[relation], Reason("sectors", {"codes": codes, "relation": relation})


# -- requirements ----------------------------------------------------------------------------


def _country_fit(need, solution):
    if not need.countries or not solution.countries:
        return None
    country = need.countries[0]
    if country in solution.countries:
        return 1.0, Reason("country", {"country": country})
    return -1.0, Reason("unmet", {"what": "country", "need": country})


def _trl_fit(need, solution):
    # Meeting a minimum is no evidence of relevance, so only a shortfall counts.
    if need.min_trl is None or solution.trl is None or solution.trl >= need.min_trl:
        return None
    return -1.0, Reason("unmet", {"what": "trl", "need": need.min_trl, "offer": solution.trl})


@lru_cache(maxsize=1024)
def _certificate_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _holds(required: str, offered: Collection[str]) -> bool:
    # "ISO 14001:2015" holds "ISO 14001"; spacing and case do not matter.
    key = _certificate_key(required)
    return any(_certificate_key(name).startswith(key) for name in offered)


def _certification_fit(need, solution):
    if not need.certifications:
        return None
    held = [c for c in need.certifications if _holds(c, solution.certifications)]
    missing = [c for c in need.certifications if c not in held]
    score = 2 * len(held) / len(need.certifications) - 1
    if missing:
        return score, Reason("unmet", {"what": "certifications", "missing": missing,
                                       "held": held})
    return score, Reason("certifications", {"held": held})


# -- capacity and budget ---------------------------------------------------------------------


def _capacity_fit(need, solution):
    if (need.capacity_min is None or solution.capacity_min is None
            or need.capacity_dimension != solution.capacity_dimension):
        return None
    wanted = need.capacity_min
    low = solution.capacity_min
    high = solution.capacity_max if solution.capacity_max is not None else low
    detail = {"dimension": need.capacity_dimension, "need": wanted, "min": low, "max": high}
    if low <= wanted <= high:
        return 1.0, Reason("capacity", {"fits": True, **detail})
    # Outside the range: the further off (as a ratio), the worse, down to -1.
    ratio = wanted / low if wanted < low else wanted / high
    distance = abs(ratio - 1) if ratio > 1 else abs(1 / max(ratio, 1e-9) - 1)
    return max(-1.0, 0.5 - distance), Reason("capacity", {"fits": False, **detail})


def _budget_fit(need, solution):
    """A price from ``price_min`` fits when it is at most the budget's maximum.

    A supplier's price may be per unit or per kW and a budget per project, so a price below
    the budget fits however far below; only one clearly above it counts against the match.
    """
    if (need.price_max is None or solution.price_min is None
            or not need.currency or not solution.currency):
        return None
    table = money.rates()
    factor = table.rate(need.currency, solution.currency)  # price units per budget unit
    if factor is None:
        return None  # a currency the table does not know: say nothing
    detail = {"price_min": solution.price_min, "price_currency": solution.currency,
              "budget_min": need.price_min, "budget_max": need.price_max,
              "budget_currency": need.currency}
    if need.currency != solution.currency:
        detail.update(
            converted_min=None if need.price_min is None else round(need.price_min * factor, 2),
            converted_max=round(need.price_max * factor, 2),
            rate=float(f"{1 / factor:.6g}"), as_of=table.as_of.isoformat())
    budget = need.price_max * factor
    if solution.price_min <= budget:
        return 1.0, Reason("budget", {"fits": True, **detail})
    if solution.price_min > BUDGET_TOLERANCE * budget:
        return -0.5, Reason("budget", {"fits": False, **detail})
    return None
