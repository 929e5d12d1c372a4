"""`flask eval-ranking`: ranking quality measured on the product's real path.

Corpus rows become (unsaved) Solution listings, go through the same document building,
embedding and backend as live listings - but into a temporary index that is dropped
afterwards - and queries are ranked by the same matcher.  See ../shared/eval/README.md.
"""

from __future__ import annotations

import csv
import json
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect
from tqdm import tqdm

from marketplace import create_app
from marketplace.discovery import indexing, matching
from marketplace.discovery.engine import make_backend
from marketplace.extensions import db
from marketplace.models import EmbeddingCache, Need, Organization, Solution
from marketplace.models._time import utcnow
from marketplace.models.states import ListingStatus
from search.documents import Filters
from search.matcher import Matcher
from search.metrics import ndcg_at_k, recall_at_k

BATCH = 64


@dataclass
class EvalQuery:
    qid: str
    lang: str
    text: str
    relevant: set[str]
    exclude: str | None = None  # query-by-example: the row itself


def load_corpus(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def example_queries(corpus: list[dict]) -> list[EvalQuery]:
    """Query by example: every row of a category with at least 3 members."""
    members: dict[str, set[str]] = defaultdict(set)
    for row in corpus:
        members[row["category"]].add(row["id"])
    return [EvalQuery(row["id"], "en", f"{row['title']}. {row['text']}",
                      members[row["category"]] - {row["id"]}, exclude=row["id"])
            for row in corpus if len(members[row["category"]]) >= 3]


def tsv_queries(path: str, corpus: list[dict]) -> list[EvalQuery]:
    by_category: dict[str, set[str]] = defaultdict(set)
    for row in corpus:
        by_category[row["category"]].add(row["id"])
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [EvalQuery(f"q{n}", row["lang"], row["text"],
                      set().union(*(by_category[c] for c in row["categories"].split("|"))))
            for n, row in enumerate(rows)]


def _as_solution(number: int, row: dict, org: Organization) -> Solution:
    # The summary is what a supplier would write: the description's opening, at most 300
    # characters (the form's limit).
    text = row["text"].strip()
    summary = text if len(text) <= 300 else text[:299].rsplit(" ", 1)[0] + "…"
    now = utcnow()
    solution = Solution(id=number, title=row["title"], summary=summary, description=text,
                        keywords=[], trl=9, status=ListingStatus.PUBLISHED, published_at=now,
                        organization=org)
    return solution


def _index(backend, corpus: list[dict]) -> None:
    org = Organization(id=0, name="Evaluation corpus", kind="enterprise", country="CN")
    with tqdm(total=len(corpus), desc="Indexing corpus", unit="doc") as progress:
        for start in range(0, len(corpus), BATCH):
            rows = corpus[start:start + BATCH]
            documents = [indexing.to_document(_as_solution(start + i, row, org))
                         for i, row in enumerate(rows)]
            backend.upsert("solution", indexing.with_embeddings(documents))
            db.session.commit()  # keep the cached embeddings: re-runs are then fast
            progress.update(len(rows))
    backend.refresh("solution")


def _rank(matcher: Matcher, query: EvalQuery, id_of: dict[str, int], k: int) -> list[int]:
    need = Need(id=0, title="", description=query.text, country="VN", min_trl=1,
                organization=Organization(name="", kind="municipality", country="VN"))
    mq = matching.query_for(indexing.to_document(need))
    # The corpus states no countries or TRLs: only the query itself is filtered out.
    mq.filters = Filters(exclude_ids=[id_of[query.exclude]] if query.exclude else [])
    mq.seeker = None
    return [m.id for m in matcher.rank("solution", mq, size=k)]


@contextmanager
def database_with_schema() -> Iterator[bool]:
    """The app's database, or a throwaway SQLite one while it has no tables yet.

    The evaluation only caches embeddings in the database, so it needs no migrated one: before
    `flask db upgrade` it runs against a temporary copy of the schema and leaves the real
    database untouched (creating tables there would break the migrations).  Yields whether it
    fell back.
    """
    if inspect(db.engine).has_table(EmbeddingCache.__tablename__):
        yield False
        return

    with tempfile.TemporaryDirectory(prefix="est-eval-") as folder:
        app = create_app({**current_app.config,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/eval.db"})
        with app.app_context():
            db.create_all()
            try:
                yield True
            finally:
                db.session.remove()
                db.engine.dispose()


def evaluate(corpus_path: str, queries_path: str | None = None, backend_name: str = "local",
             k: int = 10, run_file: str | None = None) -> dict:
    corpus = load_corpus(corpus_path)
    queries = tsv_queries(queries_path, corpus) if queries_path else example_queries(corpus)
    config = {**current_app.config, "SEARCH_BACKEND": backend_name}
    backend = make_backend(config, prefix=f"eval-{uuid.uuid4().hex[:8]}")
    backend.ensure_indices()
    try:
        _index(backend, corpus)
        id_of = {row["id"]: n for n, row in enumerate(corpus)}
        row_of = {n: row["id"] for n, row in enumerate(corpus)}
        matcher = matching.make_matcher(backend)
        scores, lines = _score(matcher, queries, id_of, row_of, k)
    finally:
        backend.drop()
    if run_file:
        Path(run_file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _summary(scores, k, backend_name)


def _score(matcher, queries, id_of, row_of, k):
    scores: list[tuple[str, float, float]] = []
    lines: list[str] = []
    for query in tqdm(queries, desc="Ranking queries", unit="query"):
        ranked = [row_of[i] for i in _rank(matcher, query, id_of, k)]
        scores.append((query.lang, ndcg_at_k(ranked, query.relevant, k),
                       recall_at_k(ranked, query.relevant, k)))
        lines.extend(f"{query.qid} Q0 {doc} {rank} {k - rank + 1} est-marketplace"
                     for rank, doc in enumerate(ranked, start=1))
    return scores, lines


def _summary(scores, k: int, backend_name: str) -> dict:
    def mean(values):
        values = list(values)
        return round(sum(values) / len(values), 4) if values else 0.0

    per_lang = {lang: {f"ndcg@{k}": mean(s[1] for s in scores if s[0] == lang),
                       f"recall@{k}": mean(s[2] for s in scores if s[0] == lang),
                       "queries": count}
                for lang, count in sorted(Counter(s[0] for s in scores).items())}
    return {"backend": backend_name, "queries": len(scores),
            f"ndcg@{k}": mean(s[1] for s in scores), f"recall@{k}": mean(s[2] for s in scores),
            "per_lang": per_lang}
