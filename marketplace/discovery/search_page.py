"""The search page's queries: hybrid ranking when the engine is up, with facets, and a
database fallback when it is not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask import current_app

from marketplace.discovery import indexing
from marketplace.discovery.engine import backend
from marketplace.discovery.matching import index_documents, make_matcher
from marketplace.extensions import db
from marketplace.listings import browse
from marketplace.listings.lifecycle import LISTING_CLASSES
from marketplace.taxonomy import taxonomy
from search.backends.base import MAX_RESULT_WINDOW, SearchUnavailable
from search.documents import FACETS, Filters, ListingDocument, SearchResult
from search.evidence import relevant_to_query
from search.matcher import MatchQuery

PER_PAGE = 20
# The deepest page any backend can answer (Elasticsearch's max_result_window).
MAX_PAGE = MAX_RESULT_WINDOW // PER_PAGE


@dataclass
class SearchPage:
    """What the search page shows: ranked listings with highlights, or the fallback."""

    kind: str
    listings: list
    total: int
    page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    highlights: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    degraded: bool = False  # the search engine was down: a database listing is shown
    related: int = 0  # results near the query that do not answer it (hidden unless asked)
    showing_related: bool = False

    @property
    def pages(self) -> int:
        """Pages the links reach: never past MAX_PAGE, even when more listings match."""
        return min(MAX_PAGE, max(1, -(-self.total // PER_PAGE)))


def _filters(args: browse.BrowseFilters, kind: str) -> Filters:
    filters = Filters(
        sectors=[args.sector] if args.sector else [],
        countries=[args.country] if args.country else [],
        bases=[args.base] if args.base and kind == "solution" else [],
    )
    if args.trl:
        if kind == "solution":
            filters.min_trl = args.trl
        else:
            filters.accepts_trl = args.trl
    if args.certification:
        filters.certifications = [args.certification]
    return filters


def search(kind: str, args: browse.BrowseFilters, *, page: int = 1, sort: str = "relevance",
           related: bool = False) -> SearchPage:
    """Search with facets: hybrid (words and meaning) when ranking by relevance, so a query in
    any language finds listings written in another.  If the engine is down, fall back to
    the database."""
    try:
        if args.q and sort == "relevance":
            return _hybrid(kind, args, page, related)
        result: SearchResult = backend().text_search(
            kind, args.q, _filters(args, kind), size=PER_PAGE, offset=(page - 1) * PER_PAGE,
            sort=sort, facets=True, highlight=True)
    except SearchUnavailable:
        current_app.logger.warning("search backend unavailable; showing database listing")
        return _fallback(kind, args, page)
    rows = _load(kind, [hit.id for hit in result.hits])
    return SearchPage(kind=kind, listings=rows, total=result.total, page=page,
                      facets=_sorted_facets(result.facets),
                      highlights={hit.id: hit.highlights for hit in result.hits})


HYBRID_DEPTH = 100


def _hybrid(kind: str, args: browse.BrowseFilters, page: int, related: bool = False) -> SearchPage:
    """The matcher's ranking for a typed query; facets are counted over what it found.

    Nearest neighbours always exist, so only results whose evidence answers the query
    (search/evidence.py: its words, a concept it names, or a close meaning) are results; the
    others are "related", shown only when asked for.
    """
    vector = indexing.embed_texts([args.q], role="query")[0]
    from_index = index_documents(kind)
    candidates: dict[int, ListingDocument] = {}

    def documents(ids: list[int]) -> dict[int, ListingDocument]:
        # Loading a hundred listings from the database was most of a search request's time
        # (bench/web.py); the ones shown are kept for the facets.
        candidates.update(from_index(ids))
        return candidates

    ranked = make_matcher(backend()).rank(
        kind, MatchQuery(args.q, vector.tolist(), _filters(args, kind)), size=HYBRID_DEPTH,
        documents=documents)
    answers = [m for m in ranked if relevant_to_query(m.evidence)]
    shown = ranked if related else answers
    rows = _load(kind, [m.id for m in shown])
    start = (page - 1) * PER_PAGE
    return SearchPage(kind=kind, listings=rows[start:start + PER_PAGE], total=len(rows),
                      page=page, facets=_sorted_facets(_count_facets(
                          [candidates[row.id] for row in rows if row.id in candidates])),
                      highlights={m.id: m.highlights for m in shown},
                      related=len(ranked) - len(answers), showing_related=related)


def _count_facets(docs: list[ListingDocument]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {name: Counter() for name in FACETS}
    for doc in docs:
        counts["sector"].update(doc.sectors)
        counts["country"].update(doc.countries)
        counts["base"].update([doc.base] if doc.base else [])
        trl = doc.trl if doc.kind == "solution" else doc.min_trl
        counts["trl"].update([str(trl)] if trl else [])
        counts["certification"].update(doc.certifications)
    return {name: dict(counter) for name, counter in counts.items() if counter}


def _load(kind: str, ids: list[int]) -> list:
    """Rows in rank order; ids the database no longer has are skipped."""
    cls = LISTING_CLASSES[kind]
    by_id = {row.id: row for row in db.session.scalars(db.select(cls).where(cls.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id and by_id[i].is_live]


def _fallback(kind: str, args: browse.BrowseFilters, page: int) -> SearchPage:
    query = browse.solutions_query(args) if kind == "solution" else browse.needs_query(args)
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return SearchPage(kind=kind, listings=list(pagination.items), total=pagination.total or 0,
                      page=page, degraded=True)


def _sorted_facets(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    tree = taxonomy()
    ordered = {name: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
               for name, values in facets.items()}
    # Sectors read best as the tree: top-level codes only, children are a click away.
    if "sector" in ordered:
        ordered["sector"] = {code: n for code, n in ordered["sector"].items()
                             if code in tree and tree[code].is_top_level}
    return ordered
