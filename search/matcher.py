"""Ranking listings for a listing, and saying why.

Two retrievers run side by side on the search backend: BM25 over the text fields and kNN over
the embeddings.  Their ranked lists are fused in Python with weighted reciprocal rank fusion,
which works on both backends and on the minimal Elasticsearch distribution (no RRF retriever).
A multilingual glossary (search/expansion.py) gives every query the English terms of the
concepts it names: they join the text query, and a combination of the concepts' own vectors
(each concept's English terms embedded once, see ConceptVectors) makes a third (kNN) list.
A structured fit (sectors on the taxonomy tree, capacity, budget, certifications) then nudges
the order, and every result carries the reasons it was matched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from search import evidence as evidence_rule
from search import expansion
from search.backends.base import SearchBackend
from search.documents import Filters, Hit, ListingDocument, Reason
from search.fit import structured_fit

MARK = re.compile(r"<mark>(.*?)</mark>", re.IGNORECASE | re.DOTALL)


@dataclass
class RankingSettings:
    depth: int = 100  # candidates taken from each retriever
    rrf_k: int = 60
    # kNN is the stronger retriever on its own (it also works across languages), so its
    # ranks count for more.  Measured with `flask eval-ranking`; see bench/RESULTS.md.
    text_weight: float = 1.0
    semantic_weight: float = 2.0
    fit_weight: float = 0.01  # structured fit can reorder close calls, not bury relevance
    # Glossary expansion of the text query (search/expansion.py): "add" puts the English
    # terms of the concepts a query names (its translations, or its English synonyms) in front
    # of it; "off" does not.  (Searching a non-English query's English terms alone measured
    # the same as "add", which keeps the query's names and acronyms: bench/RESULTS.md.)
    expansion: str = "add"
    # Text weights (times text_weight) for a non-English query.  With glossary terms added the
    # text list is precise and counts for more; without, the query's own words match an
    # English corpus only by chance ("air" is water in Indonesian) and count for less.
    foreign_text_weight: float = 1.5
    unmatched_text_weight: float = 0.25
    # An extra kNN list for the English terms of the concepts the query names: a short,
    # English, on-topic view of the need that the model places well (whatever the language).
    # Its vector combines the concepts' own vectors, embedded once each (ConceptVectors);
    # embedding the joined terms per query measured about the same, at a model call a query.
    english_knn_weight: float = 1.0
    # How many of the best fused candidates get their evidence measured and reordered by it.
    evidence_depth: int = 40


@dataclass
class MatchQuery:
    text: str
    vector: Sequence[float]
    filters: Filters
    seeker: ListingDocument | None = None  # the listing we match for: enables structured fit


@dataclass
class RankedMatch:
    id: int
    score: float
    text_rank: int | None = None
    semantic_rank: int | None = None
    similarity: float | None = None
    fit: float = 0.0
    highlights: dict[str, list[str]] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    text_score: float | None = None
    evidence: evidence_rule.Evidence | None = None  # the best candidates' (evidence_depth)

    @property
    def delivered(self) -> bool:
        """Whether the delivery rule would send this match to a person."""
        return self.evidence is not None and self.evidence.delivered


def reciprocal_rank_fusion(ranked_lists: Sequence[tuple[Sequence[int], float]],
                           k: int = 60) -> dict[int, float]:
    """Weighted RRF: each list adds weight / (k + rank) for every id it holds (rank from 1)."""
    fused: dict[int, float] = {}
    for ids, weight in ranked_lists:
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


# Words that match everywhere and explain nothing: "Shares the words: with, in, an" helps
# no reader.  The text retriever still scores them; the explanation leaves them out.
EXPLANATION_STOPWORDS = frozenset("""
a an and are as at be been but by can for from has have in into is it its of on or our that
the their this to was we were which will with within without your you also more most such
than then these those using used use per via all any both each other new
""".split())


def matched_terms(highlights: dict[str, list[str]]) -> list[str]:
    """The distinct telling words the highlighter marked, in the order first seen."""
    seen: dict[str, str] = {}
    for fragments in highlights.values():
        for fragment in fragments:
            for word in MARK.findall(fragment):
                key = word.lower()
                if key not in EXPLANATION_STOPWORDS and len(key) > 1:
                    seen.setdefault(key, word)
    return list(seen.values())


class ConceptVectors:
    """One query-role vector per glossary concept, and their combination for a query.

    A concept's vector is its English terms ("wastewater, waste water, sewage, effluent")
    embedded with ``embed``, once per process, on first use.  A query's English view then
    needs no model call: one concept's vector as it is; for several, their mean pulled away
    from the glossary's centre (the mean of every concept's vector) by sqrt(n):

        centre + sqrt(n) * (mean of the n vectors - centre), normalised

    The model's vectors share a large common part (a concept's vector has a cosine of about
    0.92 with the centre), so a plain mean of several drifts towards the centre and loses what
    the concepts say:
    measured, a plain mean lost 0.02 nDCG against embedding the joined terms; scaled by
    sqrt(n) it keeps the distinguishing part at the size of one concept's.  The centre needs
    every concept embedded, once, on the first query that names two or more.

    Pass an ``embed`` that caches (the marketplace's goes through its embedding table) and the
    vectors are reused across processes too; ``embed_many`` embeds a batch in one call.
    """

    def __init__(self, embed: Callable[[str], Sequence[float]],
                 embed_many: Callable[[list[str]], Sequence[Sequence[float]]] | None = None,
                 glossary: Sequence[expansion.Concept] | None = None):
        self.embed = embed
        self.embed_many = embed_many or (lambda texts: [embed(text) for text in texts])
        self.glossary = glossary
        self._vectors: dict[str, tuple[float, ...]] = {}
        self._centre: tuple[float, ...] | None = None
        self._reference = None

    @staticmethod
    def text(concept: expansion.Concept) -> str:
        """What is embedded for a concept: its English terms."""
        return ", ".join(concept.english)

    def __len__(self) -> int:
        return len(self._vectors)

    def _load(self, concepts: Sequence[expansion.Concept]) -> list[tuple[float, ...]]:
        """The concepts' vectors, embedding those not seen yet (a race embeds one twice,
        with the same result: no lock needed)."""
        texts = [self.text(concept) for concept in concepts]
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            vectors = self.embed_many(missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._vectors[text] = tuple(float(x) for x in vector)
        return [self._vectors[text] for text in texts]

    def centre(self) -> tuple[float, ...]:
        """The mean of every glossary concept's vector."""
        if self._centre is None:
            rows = self._load(self.glossary if self.glossary is not None
                              else expansion.load_glossary())
            self._centre = tuple(sum(column) / len(rows)
                                 for column in zip(*rows, strict=True))
        return self._centre

    def reference(self):
        """Every glossary concept's vector, as one matrix: the background a query's cosines
        are read against (search/evidence.py)."""
        if self._reference is None:
            import numpy as np

            self.centre()
            self._reference = np.asarray(list(self._vectors.values()), dtype=np.float32)
        return self._reference

    def vector(self, concepts: Sequence[expansion.Concept]) -> list[float]:
        """The unit-length English view of the concepts ([] for none)."""
        if not concepts:
            return []
        centre = self.centre() if len(concepts) > 1 else ()  # first: all in one batch
        rows = self._load(concepts)
        if len(rows) == 1:
            combined = list(rows[0])
        else:
            if len({len(row) for row in rows} | {len(centre)}) != 1:
                return []
            n = len(rows)
            scale = 1 / math.sqrt(n)  # sqrt(n) * mean = sum / sqrt(n)
            combined = [c + scale * (total - n * c) for c, total in
                        zip(centre, (sum(column) for column in zip(*rows, strict=True)),
                            strict=True)]
        norm = math.sqrt(sum(x * x for x in combined))
        return [x / norm for x in combined] if norm else combined


@dataclass
class _Expanded:
    text: str  # what the text retriever searches
    found: expansion.Expansion


class Matcher:
    def __init__(self, backend: SearchBackend, settings: RankingSettings | None = None,
                 fit: Callable[[ListingDocument, ListingDocument], tuple[float, list[Reason]]]
                 | None = None, embed: Callable[[str], Sequence[float]] | None = None,
                 concept_vectors: ConceptVectors | None = None):
        self.backend = backend
        self.settings = settings or RankingSettings()
        self.fit = fit or structured_fit
        # Embeds the glossary concepts a query names; it must be the model that embedded the
        # index.  The concept vectors are kept: share a ConceptVectors between matchers (of
        # the same model) to embed each concept once per process.
        self.embed = embed or _library_embed
        if concept_vectors is None:
            concept_vectors = _library_concepts() if embed is None else ConceptVectors(embed)
        self.concept_vectors = concept_vectors

    def rank(self, kind: str, query: MatchQuery, *, size: int = 10,
             documents: Callable[[list[int]], dict[int, ListingDocument]] | None = None,
             ) -> list[RankedMatch]:
        """Rank listings of ``kind`` for the query.  ``documents`` loads candidate documents by
        id when structured fit is wanted (the caller knows where they live)."""
        s = self.settings
        expanded = self._expand(query.text)
        query = replace(query, text=expanded.text)
        text_weight = self._text_weight(expanded)
        # Highlighting all candidates is most of a text search's cost: only the final results
        # are highlighted, below.
        vectors = [query.vector]
        english = self._english_vector(query, expanded)
        if english:
            vectors.append(english)
        # One retrieval for the three lists: on Elasticsearch one request, run side by side.
        found = self.backend.retrieve(kind, query.text, vectors, query.filters, size=s.depth)
        text_hits, knn_hits = found.text, found.neighbours[0]
        extra = found.neighbours[1] if english else []
        fused = reciprocal_rank_fusion(
            [([h.id for h in text_hits], text_weight),
             ([h.id for h in knn_hits], s.semantic_weight),
             ([h.id for h in extra], s.english_knn_weight)], k=s.rrf_k)
        matches = self._combine(fused, text_hits, knn_hits)
        candidates = documents([m.id for m in matches]) if documents and matches else {}
        if query.seeker is not None and candidates:
            self._apply_fit(query.seeker, matches, candidates)
        matches.sort(key=lambda m: (-m.score, m.id))
        if candidates:
            matches = self._weigh_evidence(query, expanded, matches, candidates, size)
        top = matches[:size]
        self._explain_terms(kind, query, top)
        return top

    def _weigh_evidence(self, query: MatchQuery, expanded: _Expanded,
                        matches: list[RankedMatch], candidates: dict[int, ListingDocument],
                        size: int) -> list[RankedMatch]:
        """Measure the evidence of the best candidates (search/evidence.py).  For a listing,
        weigh it and put them in its order, what clears the delivery bar first; for a typed
        query (no seeker) the order stays the ranking's."""
        seeker = query.seeker
        best = matches[:self.settings.evidence_depth if seeker is not None else size]
        top_text = max((m.text_score or 0.0 for m in matches), default=0.0) or 1.0
        reference = self.concept_vectors.reference()
        mean, spread = (evidence_rule.background(query.vector, reference)
                        if reference.shape[-1] == len(query.vector) else (0.0, 1.0))
        query_concepts = {concept.english[0] for concept in expanded.found.concepts}
        for match in best:
            candidate = candidates.get(match.id)
            if candidate is None:
                continue
            match.evidence = evidence_rule.Evidence(
                text=1 / (1 + math.log2(match.text_rank)) if match.text_rank else 0.0,
                text_share=(match.text_score or 0.0) / top_text,
                semantic=((match.similarity - mean) / spread
                          if match.similarity is not None else 0.0),
                sector=evidence_rule.sector_relation(seeker, candidate) if seeker else None,
                concepts=sorted(query_concepts
                                & evidence_rule.concepts_of(candidate.full_text())),
                fit=match.fit)
        if seeker is None:
            return matches
        weighed = [m.evidence for m in best if m.evidence]
        evidence_rule.weigh(seeker.kind, weighed)
        for match in best:
            if match.evidence is not None:
                match.reasons[:0] = evidence_rule.reasons(match.evidence)
        best.sort(key=lambda m: (-(m.evidence.score if m.evidence else 0.0), -m.score, m.id))
        return best + matches[len(best):]

    def _expand(self, text: str) -> _Expanded:
        """The text query, led by the English terms of the glossary concepts it names."""
        if not text.strip():
            return _Expanded(text, expansion.Expansion("en"))
        found = expansion.expand(text)
        if self.settings.expansion == "off" or not found.english:
            return _Expanded(text, found)
        # First, not last: the local backend keeps only a long query's first 128 words.
        added = " ".join(expansion.new_words(text, found.english))
        return _Expanded(f"{added}\n{text}" if added else text, found)

    def _text_weight(self, expanded: _Expanded) -> float:
        s = self.settings
        if expanded.found.language == "en":
            return s.text_weight
        if expanded.found.english and s.expansion != "off":
            return s.text_weight * s.foreign_text_weight
        return s.text_weight * s.unmatched_text_weight

    def _english_vector(self, query: MatchQuery, expanded: _Expanded) -> list[float]:
        """The vector of the query's glossary concepts alone, for a third (kNN) list, from
        their kept vectors (ConceptVectors; embedding the concepts' terms together with the
        original text measured worse: the original dominates).  [] when there is none."""
        s = self.settings
        if s.expansion == "off" or not (s.english_knn_weight and expanded.found.concepts):
            return []
        vector = self.concept_vectors.vector(expanded.found.concepts)
        if len(vector) != len(query.vector):
            return []  # not the index's model (a test's stand-in vector, say): skip
        return vector

    def _explain_terms(self, kind: str, query: MatchQuery, matches: list[RankedMatch]) -> None:
        """Highlight the final text matches and name the words they share with the query."""
        ids = [m.id for m in matches if m.text_rank is not None]
        if not ids:
            return
        filters = replace(query.filters, only_ids=ids, exclude_ids=[])
        hits = self.backend.text_search(kind, query.text, filters, size=len(ids),
                                        highlight=True).hits
        highlights = {hit.id: hit.highlights for hit in hits}
        for match in matches:
            match.highlights = highlights.get(match.id, {})
            terms = matched_terms(match.highlights)
            if terms:
                match.reasons.insert(0, Reason("terms", {"terms": terms[:8]}))

    def _combine(self, fused: dict[int, float], text_hits: list[Hit],
                 knn_hits: list[Hit]) -> list[RankedMatch]:
        by_id = {item: RankedMatch(id=item, score=score) for item, score in fused.items()}
        for rank, hit in enumerate(text_hits, start=1):
            by_id[hit.id].text_rank, by_id[hit.id].text_score = rank, hit.score
        for rank, hit in enumerate(knn_hits, start=1):
            match = by_id[hit.id]
            match.semantic_rank, match.similarity = rank, hit.score
        return list(by_id.values())

    def _apply_fit(self, seeker: ListingDocument, matches: list[RankedMatch],
                   candidates: dict[int, ListingDocument]) -> None:
        for match in matches:
            candidate = candidates.get(match.id)
            if candidate is None:
                continue
            match.fit, reasons = self.fit(seeker, candidate)
            match.score += self.settings.fit_weight * match.fit
            match.reasons.extend(reasons)


def _library_embed(text: str) -> Sequence[float]:
    """The library's query embedder: the model the marketplace indexes with by default."""
    from search.embeddings import default_embedder  # numpy and the model only when needed

    return default_embedder().query(text)


_LIBRARY_CONCEPTS: ConceptVectors | None = None


def _library_concepts() -> ConceptVectors:
    """The concept vectors of the library's embedder, shared by the matchers that use it."""
    global _LIBRARY_CONCEPTS
    if _LIBRARY_CONCEPTS is None:
        _LIBRARY_CONCEPTS = ConceptVectors(_library_embed)
    return _LIBRARY_CONCEPTS
