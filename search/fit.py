"""Structured fit: how well two listings' stated facts agree (sectors, country, capacity,
budget, certifications), as a score in [-1, 1] and the reasons a reader is shown."""

from __future__ import annotations

from search.documents import ListingDocument, Reason


def _need_and_solution(a: ListingDocument, b: ListingDocument):
    return (a, b) if a.kind == "need" else (b, a)


def structured_fit(seeker: ListingDocument, candidate: ListingDocument
                   ) -> tuple[float, list[Reason]]:
    """A score in [-1, 1] and the reasons, from the fields both listings state.

    Unknown facts are neutral: a listing is not punished for leaving a field empty.
    """
    need, solution = _need_and_solution(seeker, candidate)
    parts: list[float] = []
    reasons: list[Reason] = []
    for check in (_sector_fit, _country_fit, _capacity_fit, _budget_fit, _certification_fit):
        outcome = check(need, solution)
        if outcome is not None:
            score, reason = outcome
            parts.append(score)
            if reason is not None:
                reasons.append(reason)
    return (sum(parts) / len(parts) if parts else 0.0), reasons


def _sector_fit(need, solution):
    shared = sorted(set(need.sectors) & set(solution.sectors))
    if not need.sectors or not solution.sectors:
        return None
    if not shared:
        return -1.0, None
    # Codes carry their ancestors; a shared leaf ("WAT.MUN") is worth more than a shared root.
    leaves = [code for code in shared if "." in code]
    return (1.0 if leaves else 0.4), Reason("sectors", {"codes": leaves or shared})


def _country_fit(need, solution):
    if not need.countries or not solution.countries:
        return None
    country = need.countries[0]
    if country in solution.countries:
        return 1.0, Reason("country", {"country": country})
    return -1.0, None


def _capacity_fit(need, solution):
    if (need.capacity_min is None or solution.capacity_min is None
            or need.capacity_dimension != solution.capacity_dimension):
        return None
    wanted = need.capacity_min
    low = solution.capacity_min
    high = solution.capacity_max if solution.capacity_max is not None else low
    if low <= wanted <= high:
        return 1.0, Reason("capacity", {"fits": True, "dimension": need.capacity_dimension})
    # Outside the range: the further off (as a ratio), the worse, down to -1.
    ratio = wanted / low if wanted < low else wanted / high
    distance = abs(ratio - 1) if ratio > 1 else abs(1 / max(ratio, 1e-9) - 1)
    return max(-1.0, 0.5 - distance), Reason(
        "capacity", {"fits": False, "dimension": need.capacity_dimension})


def _budget_fit(need, solution):
    if need.currency is None or need.currency != solution.currency:
        return None  # no exchange rates here: only compare like with like
    if need.price_max is None or solution.price_min is None:
        return None
    if solution.price_min <= need.price_max:
        return 1.0, Reason("budget", {"fits": True})
    return -0.5, Reason("budget", {"fits": False})


def _certification_fit(need, solution):
    if not need.certifications:
        return None
    held = [c for c in need.certifications if c.lower() in {h.lower() for h in
                                                             solution.certifications}]
    share = len(held) / len(need.certifications)
    return (2 * share - 1), Reason("certifications", {"held": held,
                                                      "missing": [c for c in need.certifications
                                                                  if c not in held]})
