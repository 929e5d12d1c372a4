"""Is a match worth a person's attention?  The evidence for a pair, and the delivery rule.

Ranking is not delivery (DESIGN.md).  The matcher orders candidates by fused ranks; this module
measures, for each of the best candidates, what actually ties it to the seeker:

- ``text``: its place in the query's BM25 ranking, 1 / (1 + log2 rank), 0 if it shares no
  word (normalised per query, so a long need and a short one are judged alike; ranks also
  agree across the two backends better than BM25 scores do);
- ``semantic``: its cosine above the query's *background*: the query's mean cosine with the
  glossary's concepts, in units of their spread.  e5 cosines crowd between 0.75 and 0.85 for
  any two texts of this field, so only the distance from that crowd says anything;
- ``sector``: "same" (a shared leaf sector), "family" (a shared top-level one), "crosswalk"
  (different sectors that share a CTCN sector or Y02 class), or None: both sides chose them;
- ``concepts``: the glossary concepts both texts name, in any language;
- ``fit``: the structured fit (capacity, budget, certifications, country).

They are combined by one logistic function whose weights were fitted on ../shared/eval/match-dev
(`flask eval-matching`; see README "The delivery rule"), and a match is delivered when the
combination reaches ``DELIVERY_BAR``: the one number that sets how much evidence a person's
attention is worth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from search import expansion, fit
from search.documents import Reason

# The bar: how sure the fitted model must be that a reader would call the match relevant
# (0 not, 1 very).  Chosen on match-dev for precision first (README "The delivery rule").
DELIVERY_BAR = 0.45

# Logistic weights per seeker kind (a need's solutions, a solution's needs), fitted on match-dev
# with graded targets (grade / 2) by bench/delivery_rule.py; see bench/RESULTS.md.
WEIGHTS = {
    "need": {
        "bias": -4.773, "text": 1.259, "semantic": 0.114, "sector_same": 1.962,
        "sector_family": 0.142, "cidf": 0.338, "fit": 0.773, "margin": 0.355,
    },
    "solution": {
        "bias": -4.728, "text": -0.07, "semantic": 0.162, "sector_same": 1.534,
        "sector_family": 0.275, "cidf": 0.228, "fit": 0.962, "margin": 0.621,
    },
}


@dataclass
class Evidence:
    text: float = 0.0
    text_share: float = 0.0  # BM25 score over the query's best: the search page's bar
    semantic: float = 0.0
    sector: str | None = None
    concepts: list[str] = field(default_factory=list)
    fit: float = 0.0
    # Set by weigh(), relative to the seeker's other candidates:
    concept_weight: float = 0.0  # the shared concepts, each by how rare among the candidates
    margin: float = 0.0  # lead over the runner-up (the best) or gap to the best (the others)
    score: float = 0.0  # the combined evidence in (0, 1)

    def features(self) -> dict[str, float]:
        return {
            "text": self.text,
            "semantic": self.semantic,
            "sector_same": float(self.sector == "same"),
            "sector_family": float(self.sector == "family"),
            "cidf": self.concept_weight,
            "fit": self.fit,
            "margin": self.margin,
        }

    @property
    def delivered(self) -> bool:
        return self.score >= DELIVERY_BAR


def weigh(seeker_kind: str, evidence: list[Evidence]) -> None:
    """Score each candidate's evidence against the others of the same seeker.

    Two features are relative.  A shared concept counts for less the more candidates share it
    ("energy" ties everything in an energy query together; "anaerobic digestion" does not).
    And most needs have one right answer: how far the best candidate leads the runner-up, or
    how far a candidate trails the best, says more than its score alone.
    """
    weights = WEIGHTS[seeker_kind]
    n = len(evidence)
    frequency: dict[str, int] = {}
    for item in evidence:
        for concept in item.concepts:
            frequency[concept] = frequency.get(concept, 0) + 1
    for item in evidence:
        item.concepts.sort(key=lambda concept: (frequency[concept], concept))  # rarest first
        item.concept_weight = sum(math.log((n + 1) / (frequency[c] + 0.5))
                                  for c in item.concepts)
        item.margin = 0.0
    base = [_logit(weights, item) for item in evidence]
    order = sorted(range(n), key=lambda i: -base[i])
    for position, i in enumerate(order):
        # A lone candidate's rival is nothing at all: a candidate without any evidence.
        rival = (base[order[1]] if position == 0 else base[order[0]]) if n > 1 \
            else weights["bias"]
        evidence[i].margin = base[i] - rival
        evidence[i].score = 1 / (1 + math.exp(-_logit(weights, evidence[i])))


def _logit(weights: dict[str, float], item: Evidence) -> float:
    return weights["bias"] + sum(weights[name] * value
                                 for name, value in item.features().items())


# Cosines above the query's background, in spreads: what a reader is told.  On match-dev the
# median grade-2 pair stands 2.6 spreads out, the median unrelated one at -0.5.
CLOSE_IN_MEANING = 3.0
RELATED_IN_MEANING = 1.5
# The search page's bar for a typed query (no sectors or facts to weigh): a fair share of the
# best result's words, a glossary concept of the query, or a meaning close to it.
QUERY_TEXT_BAR = 0.3


def relevant_to_query(evidence: Evidence | None) -> bool:
    """Whether a search result answers the typed query, rather than merely being near it."""
    return evidence is not None and (evidence.text_share >= QUERY_TEXT_BAR
                                     or bool(evidence.concepts)
                                     or evidence.semantic >= CLOSE_IN_MEANING)


def reasons(evidence: Evidence) -> list[Reason]:
    """The reasons the rule itself used and a reader can check: the shared concepts (rarest
    first, as the rule weighs them) and the meaning, in calibrated words.  Sectors and facts
    come from the structured fit, words from the highlighter."""
    found = []
    if evidence.concepts:
        found.append(Reason("concepts", {"terms": evidence.concepts[:5]}))
    if evidence.semantic >= RELATED_IN_MEANING:
        level = "close" if evidence.semantic >= CLOSE_IN_MEANING else "related"
        found.append(Reason("semantic", {"level": level}))
    return found


def background(vector, reference) -> tuple[float, float]:
    """The query's mean cosine with the reference vectors, and their spread."""
    import numpy as np

    sims = reference @ np.asarray(vector, dtype=np.float32)
    return float(sims.mean()), float(sims.std()) or 1.0


@lru_cache(maxsize=50_000)
def concepts_of(text: str) -> frozenset[str]:
    """The glossary concepts a text names (by their first English term), in any language.
    Kept per text for the life of the process: spotting them costs a few ms per document.
    (Letting "municipal wastewater" also imply "wastewater" measured worse on match-dev.)"""
    return frozenset(concept.english[0] for concept in expansion.expand(text).concepts)


def sector_relation(seeker, candidate) -> str | None:
    """How the two listings' chosen sectors relate (search/fit.py), whichever is the need."""
    need, solution = (seeker, candidate) if seeker.kind == "need" else (candidate, seeker)
    return fit.sector_relation(need.sectors, solution.sectors)
