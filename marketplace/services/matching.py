"""Matching listings against each other and keeping the match ledger.

When a listing is published or changes, the matcher runs the other way round (a need finds
solutions; a solution finds needs) and upserts ``Match`` rows with their score and reasons.
The same ranking serves the owners' match pages and ``flask eval-ranking``.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Match
from marketplace.models._time import utcnow
from marketplace.services import indexing
from marketplace.services.listings import LISTING_CLASSES
from marketplace.services.search import backend
from search.documents import Filters, ListingDocument
from search.matcher import ConceptVectors, Matcher, MatchQuery, RankedMatch, RankingSettings

OTHER = {"need": "solution", "solution": "need"}
LEDGER_SIZE = 20  # matches kept per listing
# Below this, a pairing is noise rather than a match worth a person's attention.
MIN_SIMILARITY = 0.80


def ranking_settings() -> RankingSettings:
    return current_app.config.get("RANKING_SETTINGS") or RankingSettings()


# Glossary concept vectors per embedding model, kept for the life of the process: each concept
# is embedded (or read from the embedding cache) once, not once per query.
_CONCEPT_VECTORS: dict[str, ConceptVectors] = {}


def concept_vectors() -> ConceptVectors:
    name = indexing.embedder().name
    vectors = _CONCEPT_VECTORS.get(name)
    if vectors is None:
        vectors = _CONCEPT_VECTORS[name] = ConceptVectors(_embed_query, _embed_queries)
    return vectors


def make_matcher(search_backend) -> Matcher:
    """The matcher, embedding the glossary concepts a query names with the model that
    embedded the index, through the database cache, once per process."""
    return Matcher(search_backend, ranking_settings(), embed=_embed_query,
                   concept_vectors=concept_vectors())


def _embed_query(text: str) -> list[float]:
    return indexing.embed_texts([text], role="query")[0].tolist()


def _embed_queries(texts: list[str]) -> list[list[float]]:
    return indexing.embed_texts(texts, role="query").tolist()


def hard_filters(seeker: ListingDocument) -> Filters:
    """DESIGN.md's hard filters, seen from the seeker's side."""
    if seeker.kind == "need":
        return Filters(countries=seeker.countries[:1], min_trl=seeker.min_trl)
    return Filters(countries=seeker.countries, accepts_trl=seeker.trl)


def query_for(seeker: ListingDocument) -> MatchQuery:
    text = " ".join([seeker.title, seeker.summary, seeker.description, " ".join(seeker.keywords)])
    vector = indexing.embed_texts([seeker.embedding_text()], role="query")[0]
    return MatchQuery(text=text[:2000], vector=vector.tolist(), filters=hard_filters(seeker),
                      seeker=seeker)


def _documents(kind: str):
    def load(ids: list[int]) -> dict[int, ListingDocument]:
        cls = LISTING_CLASSES[kind]
        rows = db.session.scalars(select(cls).where(cls.id.in_(ids)))
        return {row.id: indexing.to_document(row) for row in rows}
    return load


def rank_for(listing, size: int = LEDGER_SIZE) -> list[RankedMatch]:
    seeker = indexing.to_document(listing)
    target = OTHER[listing.kind]
    return make_matcher(backend()).rank(target, query_for(seeker), size=size,
                                        documents=_documents(target))


def match_listing(kind: str, listing_id: int) -> int:
    """Refresh the ledger for one listing.  Returns how many matches it now has."""
    listing = db.session.get(LISTING_CLASSES[kind], listing_id)
    if listing is None or not listing.is_live:
        return 0
    ranked = [m for m in rank_for(listing) if (m.similarity or 0) >= MIN_SIMILARITY
              or m.text_rank is not None]
    for match in ranked:
        need_id, solution_id = (listing_id, match.id) if kind == "need" else (match.id,
                                                                               listing_id)
        _upsert(need_id, solution_id, match)
    db.session.commit()
    return len(ranked)


def _upsert(need_id: int, solution_id: int, ranked: RankedMatch) -> None:
    row = db.session.scalar(select(Match).where(Match.need_id == need_id,
                                                Match.solution_id == solution_id))
    reasons = [asdict(reason) for reason in ranked.reasons]
    if row is None:
        db.session.add(Match(need_id=need_id, solution_id=solution_id, score=ranked.score,
                             reasons=reasons, first_seen_at=utcnow()))
    else:
        # Refresh score and reasons, but never a side's verdict: dismissed stays dismissed.
        row.score, row.reasons = ranked.score, reasons


def rebuild_all() -> tuple[int, int]:
    """Index every live listing in bulk, then match every live need (the ledger holds both
    sides of each pair).  Much faster than one event at a time after a bulk load."""
    from tqdm import tqdm

    from marketplace.services.listings import live_filter

    indexed = sum(indexing.rebuild_index(kind) for kind in ("solution", "need"))
    need_cls = LISTING_CLASSES["need"]
    need_ids = list(db.session.scalars(select(need_cls.id).where(live_filter(need_cls))))
    matches = 0
    for need_id in tqdm(need_ids, desc="Matching needs", unit="need"):
        matches += match_listing("need", need_id)
    return indexed, matches


def handle_listing_changed(kind: str, listing_id: int) -> None:
    """The outbox handler: index the listing now, then match it as a job of its own."""
    from marketplace import jobs

    if indexing.index_listing(kind, listing_id):
        jobs.enqueue("matching.listing", kind, listing_id)


def match_and_notify(kind: str, listing_id: int) -> None:
    """The ``matching.listing`` job: refresh the ledger, then send the "immediate" digests,
    so people who asked for them hear about new matches within moments."""
    from marketplace import jobs

    if match_listing(kind, listing_id):
        jobs.enqueue("digests.schedule", "immediate")
