"""`flask eval-matching`: what the ledger delivers, measured on labelled listings.

The labelled needs and solutions (../shared/eval/match-dev) become published listings of a
temporary world - its own SQLite database and search index, never the live ones - and go through
the production path: document building, embeddings, the matcher, the delivery rule and the
ledger.  Each direction is then judged by the same qrels: a need's delivered solutions, and a
solution's delivered needs.
"""

from __future__ import annotations

import csv
import json
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import delete, or_, select
from tqdm import tqdm

from marketplace import create_app
from marketplace.discovery import indexing, matching
from marketplace.discovery.engine import make_backend
from marketplace.extensions import db
from marketplace.listings.lifecycle import LISTING_CLASSES
from marketplace.models import Match, Need, Organization, Solution
from marketplace.models._time import utcnow
from marketplace.models.states import ListingStatus, MatchState
from search.metrics import ndcg_at_k

DIRECTIONS = ("need", "solution")
K = 10


@dataclass
class LabelledWorld:
    solutions: list[dict]
    needs: list[dict]
    grades: dict[tuple[str, str], int]  # (need id, solution id) -> 1 or 2

    @classmethod
    def load(cls, folder: str) -> LabelledWorld:
        root = Path(folder)
        grades: dict[tuple[str, str], int] = {}
        qrels = root / "qrels.tsv"
        if qrels.exists():
            with qrels.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle, delimiter="\t"):
                    if len(row) >= 3 and row[2].strip().isdigit():
                        grades[(row[0], row[1])] = int(row[2])
        return cls(_jsonl(root / "solutions.jsonl"), _jsonl(root / "needs.jsonl"), grades)

    def grade(self, direction: str, seeker: str, found: str) -> int:
        pair = (seeker, found) if direction == "need" else (found, seeker)
        return self.grades.get(pair, 0)

    def relevant(self, direction: str, seeker: str) -> dict[str, int]:
        at = 0 if direction == "need" else 1
        return {pair[1 - at]: grade for pair, grade in self.grades.items()
                if pair[at] == seeker}


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class SeekerResult:
    """What one listing of the labelled world received."""

    label: str
    lang: str
    ranked: list[str]  # the matcher's order
    delivered: list[str]  # what the ledger delivers, best first
    relevant: dict[str, int] = field(default_factory=dict)


# -- the temporary world ----------------------------------------------------------------------


@contextmanager
def temporary_world(backend_name: str) -> Iterator[None]:
    """An app of its own: a throwaway SQLite database and index, and events handled by
    nobody (the evaluation drives indexing and matching itself)."""
    with tempfile.TemporaryDirectory(prefix="est-eval-matching-") as folder:
        app = create_app({**current_app.config,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/world.db",
                          "SEARCH_BACKEND": backend_name,
                          "OUTBOX_PUBLISHER": lambda event_ids: None})
        with app.app_context():
            upgrade()
            backend = make_backend(app.config, prefix=f"evalm-{uuid.uuid4().hex[:8]}")
            backend.ensure_indices()
            app.extensions["search_backend"] = backend
            try:
                yield
            finally:
                backend.drop()
                db.session.remove()
                db.engine.dispose()


def populate(world: LabelledWorld) -> dict[str, dict[int, str]]:
    """Every labelled row as a published listing.  Returns database id -> label, per kind."""
    now = utcnow()
    orgs: dict[tuple[str, str], Organization] = {}

    def org(name: str, kind: str, country: str) -> Organization:
        if (name, country) not in orgs:
            orgs[(name, country)] = Organization(name=name[:200], kind=kind, country=country)
            db.session.add(orgs[(name, country)])
        return orgs[(name, country)]

    solutions = {}
    for row in world.solutions:
        solution = Solution(
            title=row["title"], summary=(row.get("summary") or "")[:300],
            description=row.get("description") or "", keywords=list(row.get("keywords") or []),
            trl=row.get("trl") or 1, capacity_min=row.get("capacity_min"),
            capacity_max=row.get("capacity_max"), capacity_unit=row.get("capacity_unit"),
            price_min=row.get("price_min"), price_max=row.get("price_max"),
            currency=row.get("currency"), languages=[row.get("language") or "en"],
            certifications=list(row.get("certifications") or []), status=ListingStatus.PUBLISHED,
            published_at=now,
            organization=org(row.get("organization") or "Supplier", "enterprise", "CN"))
        solution.sectors = list(row.get("sectors") or [])
        solution.countries_served = list(row.get("countries") or [])
        db.session.add(solution)
        solutions[row["id"]] = solution
    needs = {}
    for row in world.needs:
        need = Need(
            title=row["title"], description=row.get("description") or "",
            country=row["country"], min_trl=row.get("min_trl") or 1,
            capacity=row.get("capacity"), capacity_unit=row.get("capacity_unit"),
            budget_min=row.get("budget_min"), budget_max=row.get("budget_max"),
            currency=row.get("currency"),
            required_certifications=list(row.get("certifications") or []),
            status=ListingStatus.PUBLISHED, published_at=now,
            organization=org(f"Buyer of {row['id']}", "municipality", row["country"]))
        need.sectors = list(row.get("sectors") or [])
        db.session.add(need)
        needs[row["id"]] = need
    db.session.commit()
    return {"solution": {s.id: label for label, s in solutions.items()},
            "need": {n.id: label for label, n in needs.items()}}


def run_direction(direction: str, labels: dict[str, dict[int, str]],
                  languages: dict[str, str], world: LabelledWorld) -> list[SeekerResult]:
    """Match every listing of ``direction`` on an empty ledger, the way publishing does."""
    db.session.execute(delete(Match))
    db.session.commit()
    own, other = labels[direction], labels[matching.OTHER[direction]]
    results = []
    for listing_id, label in tqdm(own.items(), desc=f"Matching {direction}s", unit=direction):
        ranked = matching.refresh_matches(direction, listing_id)
        column = Match.need_id if direction == "need" else Match.solution_id
        found = Match.solution_id if direction == "need" else Match.need_id
        delivered_ids = list(db.session.scalars(
            select(found).where(column == listing_id, Match.delivered)
            .order_by(Match.evidence.desc(), Match.score.desc())))
        results.append(SeekerResult(
            label=label, lang=languages[label], ranked=[other[m.id] for m in ranked],
            delivered=[other[i] for i in delivered_ids],
            relevant=world.relevant(direction, label)))
    return results


# -- the figures ------------------------------------------------------------------------------


def figures(results: list[SeekerResult]) -> dict:
    """The issue's figures for one direction (see ../shared/eval/match-dev/README.md)."""
    delivered = [(r, found) for r in results for found in r.delivered]
    grade2_pairs = sum(1 for r in results for g in r.relevant.values() if g == 2)
    with_answer = [r for r in results if 2 in r.relevant.values()]
    judged = [r for r in results if r.relevant]
    no_answer = [r for r in results if 2 not in r.relevant.values()]

    def share(part, whole):
        return round(part / whole, 4) if whole else 0.0

    return {
        "delivered": len(delivered),
        "precision": share(sum(1 for r, f in delivered if r.relevant.get(f, 0) >= 1),
                           len(delivered)),
        "precision_grade2": share(sum(1 for r, f in delivered if r.relevant.get(f) == 2),
                                  len(delivered)),
        "recall_grade2": share(sum(1 for r, f in delivered if r.relevant.get(f) == 2),
                               grade2_pairs),
        f"ndcg@{K}": share(sum(_ndcg(r) for r in judged), len(judged)),
        "coverage": share(sum(1 for r in with_answer if r.delivered), len(with_answer)),
        "no_answer_delivered": share(sum(len(r.delivered) for r in no_answer), len(no_answer)),
        "listings": len(results),
    }


def _ndcg(result: SeekerResult) -> float:
    return ndcg_at_k(result.ranked, result.relevant, K)


def report(results: list[SeekerResult]) -> dict:
    by_lang: dict[str, list[SeekerResult]] = defaultdict(list)
    for result in results:
        by_lang[result.lang].append(result)
    return {**figures(results),
            "per_lang": {lang: figures(group) for lang, group in sorted(by_lang.items())}}


def evaluate(folder: str, backend_name: str = "local", directions=DIRECTIONS,
             run_file: str | None = None) -> dict:
    world = LabelledWorld.load(folder)
    languages = {row["id"]: row.get("language") or "en" for row in world.solutions + world.needs}
    summary: dict = {"backend": backend_name}
    runs: dict[str, list[SeekerResult]] = {}
    with temporary_world(backend_name):
        labels = populate(world)
        for kind in ("solution", "need"):
            indexing.rebuild_index(kind)
        for direction in directions:
            runs[direction] = run_direction(direction, labels, languages, world)
            summary[direction] = report(runs[direction])
    if run_file:
        write_run_file(run_file, runs)
    return summary


def write_run_file(path: str, runs: dict[str, list[SeekerResult]]) -> None:
    """TREC lines per direction (the ranked list), and the delivered ones marked."""
    lines = []
    for direction, results in runs.items():
        for result in results:
            delivered = set(result.delivered)
            for rank, found in enumerate(result.ranked, start=1):
                lines.append(f"{direction}\t{result.label}\t{found}\t{rank}\t"
                             f"{int(found in delivered)}\t{result.relevant.get(found, 0)}")
    Path(path).write_text("direction\tseeker\tfound\trank\tdelivered\tgrade\n"
                          + "\n".join(lines) + "\n", encoding="utf-8")


def table(summary: dict) -> str:
    """The figures as a plain-text table, a row per direction and language."""
    names = ["delivered", "precision", "precision_grade2", "recall_grade2", f"ndcg@{K}",
             "coverage", "no_answer_delivered"]
    labels = ["delivered", "precision", "P grade 2", "R grade 2", f"nDCG@{K}", "coverage",
              "no-answer"]
    header = f"{'direction':<10}{'lang':<6}" + "".join(f"{label:>11}" for label in labels)
    rows = [header]
    for direction in DIRECTIONS:
        if direction not in summary:
            continue
        block = summary[direction]
        for lang, values in [("all", block), *block["per_lang"].items()]:
            rows.append(f"{direction:<10}{lang:<6}" + "".join(
                f"{values[n]:>11}" for n in names))
    return "\n".join(rows)


# -- the live ledger --------------------------------------------------------------------------


def dismissed_still_delivered() -> dict:
    """``--from-ledger``: of the pairs people dismissed, how many the current rule would still
    deliver (ranked again from the dismissing side), by dismiss reason."""
    rows = db.session.scalars(select(Match).where(or_(
        Match.buyer_state == MatchState.DISMISSED, Match.supplier_state == MatchState.DISMISSED)))
    judged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rankings: dict[tuple[str, int], set[int]] = {}
    for row in rows.all():
        for kind, state, reason, own, other in (
                ("need", row.buyer_state, row.buyer_dismiss_reason, row.need_id,
                 row.solution_id),
                ("solution", row.supplier_state, row.supplier_dismiss_reason, row.solution_id,
                 row.need_id)):
            if state != MatchState.DISMISSED:
                continue
            if (kind, own) not in rankings:
                listing = db.session.get(LISTING_CLASSES[kind], own)
                rankings[(kind, own)] = {m.id for m in matching.rank_for(listing)
                                         if m.delivered} if listing is not None else set()
            counts = judged[reason or "none"]
            counts[0] += 1
            counts[1] += other in rankings[(kind, own)]
    total = [sum(c[0] for c in judged.values()), sum(c[1] for c in judged.values())]
    return {"dismissed": total[0], "still_delivered": total[1],
            "by_reason": {reason: {"dismissed": c[0], "still_delivered": c[1]}
                          for reason, c in sorted(judged.items())}}
