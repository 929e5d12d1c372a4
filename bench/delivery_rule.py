"""Fit the delivery rule's weights (search/evidence.py) on a labelled matching set.

    python bench/delivery_rule.py ../shared/eval/match-dev [--backend local] [--dump F]

It builds the same temporary world as `flask eval-matching`, measures the evidence of every
seeker's best candidates (both directions), and fits a logistic regression of "grade 2" on the
evidence features (L2-regularised, numpy only).  It prints the weights to paste into
search/evidence.py and, for a range of bars, the precision and recall they would give.
Re-run it when the features change; the weights in the code are the last fit (bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def collect(folder: str, backend_name: str) -> list[dict]:
    from marketplace.discovery import indexing, match_evaluation, matching
    from marketplace.extensions import db
    from marketplace.listings.lifecycle import LISTING_CLASSES

    world = match_evaluation.LabelledWorld.load(folder)
    languages = {row["id"]: row.get("language") or "en" for row in world.solutions + world.needs}
    rows = []
    with match_evaluation.temporary_world(backend_name):
        labels = match_evaluation.populate(world)
        for kind in ("solution", "need"):
            indexing.rebuild_index(kind)
        for direction in match_evaluation.DIRECTIONS:
            other = labels[matching.OTHER[direction]]
            for listing_id, label in labels[direction].items():
                listing = db.session.get(LISTING_CLASSES[direction], listing_id)
                for rank, match in enumerate(matching.rank_for(listing, size=40), start=1):
                    if match.evidence is None:
                        continue
                    found = other[match.id]
                    rows.append({"direction": direction, "seeker": label, "found": found,
                                 "lang": languages[label], "rank": rank,
                                 "grade": world.grade(direction, label, found),
                                 "similarity": match.similarity or 0.0,
                                 "text_rank": match.text_rank or 0,
                                 "semantic_rank": match.semantic_rank or 0,
                                 "fused": match.score, "sector": match.evidence.sector,
                                 "shared": match.evidence.concepts,
                                 **match.evidence.features()})
    return rows


def fit(rows: list[dict], names: list[str], l2: float = 1.0) -> dict[str, float]:
    """Logistic regression of grade / 2 (graded targets: a grade-1 pair counts half) on the
    features, by Newton's method with an L2 penalty (not on the bias)."""
    x = np.hstack([np.ones((len(rows), 1)),
                   np.array([[row[n] for n in names] for row in rows], dtype=float)])
    y = np.array([row["grade"] / 2 for row in rows])
    penalty = l2 * np.diag(np.r_[0.0, np.ones(len(names))])
    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return {"bias": float(w[0]), **{n: float(v) for n, v in zip(names, w[1:], strict=True)}}


def fit_direction(rows: list[dict]) -> dict[str, float]:
    """The weights for one seeker kind.  The margin feature depends on the weights (it is the
    lead of a candidate's score over its rival's), so fit, recompute it, refit: a few rounds
    reach a fixed point."""
    from search.evidence import Evidence, weigh

    by_seeker: dict[str, list[dict]] = {}
    for row in rows:
        by_seeker.setdefault(row["seeker"], []).append(row)
    names = list(Evidence().features())
    weights = {"bias": 0.0, **dict.fromkeys(names, 0.0)}
    for _ in range(6):
        for group in by_seeker.values():
            evidence = [_evidence(row) for row in group]
            _with_weights(weights, lambda g=group, e=evidence: weigh(g[0]["direction"], e))
            for row, item in zip(group, evidence, strict=True):
                row.update(item.features())
        weights = fit(rows, names)
    return weights


def _evidence(row: dict):
    from search.evidence import Evidence

    return Evidence(text=row["text"], semantic=row["semantic"], sector=row["sector"],
                    concepts=list(row["shared"]), fit=row["fit"])


def _with_weights(weights: dict, call) -> None:
    from search import evidence

    kind = "need"  # weigh() reads WEIGHTS[kind]; both kinds get the trial weights
    saved = dict(evidence.WEIGHTS)
    evidence.WEIGHTS.update({kind: weights, "solution": weights})
    try:
        call()
    finally:
        evidence.WEIGHTS.clear()
        evidence.WEIGHTS.update(saved)


def sweep(rows: list[dict], direction: str, bars) -> None:
    picked_rows = [r for r in rows if r["direction"] == direction]
    grade2 = sum(1 for r in picked_rows if r["grade"] == 2)
    for bar in bars:
        picked = [r for r in picked_rows if r["score"] >= bar]
        p1 = sum(r["grade"] >= 1 for r in picked) / max(1, len(picked))
        p2 = sum(r["grade"] == 2 for r in picked) / max(1, len(picked))
        r2 = sum(r["grade"] == 2 for r in picked) / max(1, grade2)
        print(f"bar {bar:.2f} {direction:<9} delivered {len(picked):4d}  P>=1 {p1:.3f}  "
              f"P2 {p2:.3f}  R2 (of the ranked grade-2 pairs) {r2:.3f}")


def _requirements_as_scores() -> None:
    """The alternative to hard filters: every candidate is ranked, and an unserved country or
    a short TRL only counts against it in the structured fit (search/fit.py)."""
    from marketplace.discovery import matching
    from search.documents import Filters

    matching.hard_filters = lambda seeker: Filters()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--backend", default="local")
    parser.add_argument("--dump", help="Write (or read, if it exists) the features as JSON.")
    parser.add_argument("--requirements", choices=["filter", "score"], default="filter",
                        help="A need's country and minimum TRL as hard filters (the product), "
                             "or only as unmet reasons that lower the fit (the alternative).")
    args = parser.parse_args()
    if args.requirements == "score":
        _requirements_as_scores()
    if args.dump and os.path.exists(args.dump):
        rows = json.loads(Path(args.dump).read_text())
    else:
        from marketplace import create_app

        with create_app().app_context():
            rows = collect(args.folder, args.backend)
        if args.dump:
            Path(args.dump).write_text(json.dumps(rows))
    from search.evidence import weigh

    fitted = {}
    for direction in ("need", "solution"):
        group = [r for r in rows if r["direction"] == direction]
        fitted[direction] = fit_direction(group)
        by_seeker: dict[str, list[dict]] = {}
        for row in group:
            by_seeker.setdefault(row["seeker"], []).append(row)
        for seekers in by_seeker.values():
            evidence = [_evidence(row) for row in seekers]
            _with_weights(fitted[direction], lambda d=direction, e=evidence: weigh(d, e))
            for row, item in zip(seekers, evidence, strict=True):
                row["score"] = item.score
        sweep(rows, direction, [0.4, 0.45, 0.5, 0.55, 0.6])
    print(json.dumps({d: {n: round(v, 3) for n, v in w.items()} for d, w in fitted.items()},
                     indent=2))


if __name__ == "__main__":
    main()
