"""Matching listings against each other and keeping the match ledger.

When a listing is published or changes, the matcher runs the other way round (a need finds
solutions; a solution finds needs) and upserts ``Match`` rows with their score and reasons.
The same ranking serves the owners' match pages and ``flask eval-ranking``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from tqdm import tqdm

from marketplace import jobs
from marketplace.discovery import indexing
from marketplace.discovery.engine import backend
from marketplace.extensions import db
from marketplace.listings.lifecycle import LISTING_CLASSES, live_filter
from marketplace.models import Match
from marketplace.models._time import utcnow
from marketplace.models.states import MatchState
from search.documents import Filters, ListingDocument
from search.matcher import ConceptVectors, Matcher, MatchQuery, RankedMatch, RankingSettings

OTHER = {"need": "solution", "solution": "need"}
LEDGER_SIZE = 20  # candidates ranked per listing; the delivery rule decides what is kept


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


def documents_loader(kind: str):
    """Loads candidate documents by id for the matcher (structured fit and evidence)."""
    cls = LISTING_CLASSES[kind]
    # Each candidate's organisation, sectors and countries in one query each, not per row.
    options = [selectinload(cls.organization), selectinload(cls.sector_links)]
    if kind == "solution":
        options.append(selectinload(cls.country_links))

    def load(ids: list[int]) -> dict[int, ListingDocument]:
        rows = db.session.scalars(select(cls).where(cls.id.in_(ids)).options(*options))
        return {row.id: indexing.to_document(row) for row in rows}
    return load


def index_documents(kind: str):
    """Loads candidate documents by id from the search index, which ranked them: no database
    work, for rankings that are shown and not kept (the search page, possible matches)."""
    engine = backend()
    return lambda ids: engine.documents(kind, ids)


def rank_for(listing, size: int = LEDGER_SIZE, documents=None) -> list[RankedMatch]:
    """The matcher's ranking for ``listing``.  The ledger's rankings load their candidates
    from the database (``documents_loader``), the freshest source for what is delivered."""
    seeker = indexing.to_document(listing)
    target = OTHER[listing.kind]
    return make_matcher(backend()).rank(target, query_for(seeker), size=size,
                                        documents=documents or documents_loader(target))


def match_listing(kind: str, listing_id: int) -> int:
    """Refresh the ledger for one listing.  Returns how many matches it delivers now."""
    return sum(1 for match in refresh_matches(kind, listing_id) if match.delivered)


def refresh_matches(kind: str, listing_id: int) -> list[RankedMatch]:
    """Rank for one listing and record in the ledger what the delivery rule delivers.

    Returns the ranking.  A pair below the bar is not recorded, but a row already in the ledger
    keeps its verdicts and its history: it is only marked as no longer delivered.
    """
    listing = db.session.get(LISTING_CLASSES[kind], listing_id)
    if listing is None or not listing.is_live:
        return []
    ranked = rank_for(listing)
    for match in ranked:
        need_id, solution_id = (listing_id, match.id) if kind == "need" else (match.id,
                                                                               listing_id)
        _record(need_id, solution_id, match)
    db.session.commit()
    return ranked


def _record(need_id: int, solution_id: int, ranked: RankedMatch) -> None:
    row = db.session.scalar(select(Match).where(Match.need_id == need_id,
                                                Match.solution_id == solution_id))
    if row is None:
        if not ranked.delivered:
            return
        row = Match(need_id=need_id, solution_id=solution_id, first_seen_at=utcnow())
        db.session.add(row)
    _apply(row, ranked)


def _apply(row: Match, ranked: RankedMatch) -> None:
    """Refresh the evidence, but never a side's verdict: dismissed stays dismissed."""
    row.score, row.reasons = ranked.score, [asdict(reason) for reason in ranked.reasons]
    row.evidence = ranked.evidence.score if ranked.evidence else None
    row.delivered = ranked.delivered
    if row.delivered and row.delivered_at is None:
        row.delivered_at = utcnow()


@dataclass
class PossibleMatch:
    """A candidate below the delivery bar, shown on its owner's matches page and never sent."""

    listing: object  # the other side's Solution or Need
    reasons: list[dict]


POSSIBLE_SHOWN = 5


def possible_matches(listing, exclude: set[int]) -> list[PossibleMatch]:
    """The best few candidates the rule does not deliver (ranked now, not kept in the ledger),
    leaving out ``exclude``: the other side's ids already in the ledger for this listing."""
    if not listing.is_live:
        return []
    ranked = [m for m in rank_for(listing, documents=index_documents(OTHER[listing.kind]))
              if not m.delivered and m.id not in exclude]
    cls = LISTING_CLASSES[OTHER[listing.kind]]
    rows = {row.id: row for row in db.session.scalars(
        select(cls).where(cls.id.in_([m.id for m in ranked[:POSSIBLE_SHOWN]])))}
    return [PossibleMatch(rows[m.id], [asdict(reason) for reason in m.reasons])
            for m in ranked[:POSSIBLE_SHOWN] if m.id in rows and rows[m.id].is_live]


def rebuild_all() -> tuple[int, int]:
    """Index every live listing in bulk, then judge every pair both ways, as publishing each
    listing would (``rescore_all``).  Much faster than one event at a time after a bulk load.
    Returns (listings indexed, matches delivered)."""
    indexed = sum(indexing.rebuild_index(kind) for kind in ("solution", "need"))
    return indexed, rescore_all()["delivered"]


def rescore_all() -> dict[str, int]:
    """``flask matches rescore``: re-apply the delivery rule to the whole ledger.

    Every live listing is ranked again (the rule weighs a candidate against the seeker's
    others, so a pair cannot be judged alone), both ways: a pair is delivered if either
    side's ranking delivers it.  Verdicts and dismiss reasons are kept; an undelivered pair
    without a verdict or a past delivery is removed; a pair delivered before but not now
    stays, as history, no longer delivered.
    """
    verdicts: dict[tuple[int, int], RankedMatch] = {}
    for kind in ("need", "solution"):
        cls = LISTING_CLASSES[kind]
        ids = list(db.session.scalars(select(cls.id).where(live_filter(cls))))
        for listing_id in tqdm(ids, desc=f"Ranking {kind}s", unit=kind):
            for match in rank_for(db.session.get(cls, listing_id)):
                pair = (listing_id, match.id) if kind == "need" else (match.id, listing_id)
                best = verdicts.get(pair)  # only delivered ones are kept here
                if match.delivered and (best is None
                                        or match.evidence.score > best.evidence.score):
                    verdicts[pair] = match
    counts = {"delivered": 0, "kept": 0, "removed": 0, "added": 0}
    known = set()
    for row in db.session.scalars(select(Match)).all():
        known.add((row.need_id, row.solution_id))
        match = verdicts.get((row.need_id, row.solution_id))
        if match is not None:
            _apply(row, match)
            counts["delivered"] += 1
        elif _has_history(row):
            row.delivered = False
            counts["kept"] += 1
        else:
            db.session.delete(row)
            counts["removed"] += 1
    for (need_id, solution_id), match in verdicts.items():
        if (need_id, solution_id) not in known:
            row = Match(need_id=need_id, solution_id=solution_id, first_seen_at=utcnow())
            db.session.add(row)
            _apply(row, match)
            counts["added"] += 1
            counts["delivered"] += 1
    db.session.commit()
    return counts


def _has_history(row: Match) -> bool:
    """A verdict from either side, or a past delivery: the row is kept."""
    return (row.delivered_at is not None or row.buyer_state != MatchState.NEW
            or row.supplier_state != MatchState.NEW)


def handle_listing_changed(kind: str, listing_id: int) -> None:
    """The outbox handler: index the listing now, then match it as a job of its own."""
    if indexing.index_listing(kind, listing_id):
        jobs.enqueue("matching.listing", kind, listing_id)


def match_and_notify(kind: str, listing_id: int) -> None:
    """The ``matching.listing`` job: refresh the ledger, then send the "immediate" digests,
    so people who asked for them hear about new matches within moments."""
    if match_listing(kind, listing_id):
        jobs.enqueue("digests.schedule", "immediate")
