from search.backends.base import retrieve_each
from search.documents import Filters, Hit, ListingDocument, SearchResult
from search.fit import structured_fit
from search.matcher import (
    Matcher,
    MatchQuery,
    RankingSettings,
    matched_terms,
    reciprocal_rank_fusion,
)


class FakeBackend:
    """Stands in for a backend in unit tests; the real ones pass tests/contract."""

    def __init__(self, text_ids, knn_ids):
        self.text_ids, self.knn_ids = text_ids, knn_ids

    def text_search(self, kind, text, filters, **_):
        return SearchResult([Hit(i, 10.0 - n, {"title": [f"<mark>w{i}</mark>"]})
                             for n, i in enumerate(self.text_ids)], len(self.text_ids))

    def knn_search(self, kind, vector, filters, **_):
        return SearchResult([Hit(i, 0.9 - n / 100) for n, i in enumerate(self.knn_ids)],
                            len(self.knn_ids))

    def retrieve(self, *args, **kwargs):
        return retrieve_each(self, *args, **kwargs)


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([([1, 2, 3], 1.0), ([3, 1, 4], 1.0)], k=60)
    assert max(fused, key=fused.get) == 1
    assert fused[3] > fused[2]
    assert fused[4] == 1 / 63


def test_rrf_weights():
    fused = reciprocal_rank_fusion([([1], 1.0), ([2], 2.0)])
    assert fused[2] == 2 * fused[1]


def test_matched_terms_from_highlights():
    highlights = {"title": ["<mark>Sludge</mark> drying"], "description": ["dry <mark>sludge</mark>"
                                                                           " and <mark>MBR</mark>"]}
    assert matched_terms(highlights) == ["Sludge", "MBR"]


def test_matcher_fuses_and_explains():
    matcher = Matcher(FakeBackend([1, 2], [2, 3]),
                      RankingSettings(text_weight=1.0, semantic_weight=1.0))

    results = matcher.rank("solution", MatchQuery("w", [0.0], Filters()), size=3)

    assert [r.id for r in results] == [2, 1, 3]
    assert {r.kind for r in results[0].reasons} == {"terms"}  # no evidence without documents
    assert results[0].text_rank == 2 and results[0].semantic_rank == 1
    assert not any(r.delivered for r in results)


def test_evidence_reorders_a_listing_s_candidates_and_decides_delivery():
    """Fused ranks put 3 first; its sector is another family, while 4 shares the need's
    sector, its concepts and its facts: the evidence puts 4 first and delivers only it."""
    need = _need(title="Biogas from livestock manure by anaerobic digestion")
    documents = {
        3: _solution(id=3, title="Air quality monitoring micro-stations", sectors=["AIR"],
                     countries=["VN"]),
        4: _solution(id=4, title="Anaerobic digestion of manure for biogas"),
    }
    matcher = Matcher(FakeBackend([3, 4], [3, 4]), embed=lambda text: [1.0])
    query = MatchQuery(need.title, [1.0], Filters(), seeker=need)

    results = matcher.rank("solution", query, size=2, documents=lambda ids: documents)

    assert [r.id for r in results] == [4, 3]
    assert results[0].delivered and not results[1].delivered
    assert {"anaerobic digestion", "biogas"} <= set(results[0].evidence.concepts)
    kinds = [r.kind for r in results[0].reasons]
    assert "concepts" in kinds and "sectors" in kinds


def test_matcher_without_text_uses_knn_only():
    results = Matcher(FakeBackend([9], [5, 6])).rank("need", MatchQuery("", [0.0], Filters()))
    assert [r.id for r in results] == [5, 6]


def _need(**fields):
    base = dict(id=1, kind="need", title="n", sectors=["WAT", "WAT.MUN"], countries=["VN"],
                capacity_dimension="flow", capacity_min=2000.0, capacity_max=2000.0,
                currency="USD", price_min=100000.0, price_max=500000.0,
                certifications=["ISO 14001"])
    base.update(fields)
    return ListingDocument(**base)


def _solution(**fields):
    base = dict(id=2, kind="solution", title="s", sectors=["WAT", "WAT.MUN"],
                countries=["VN", "TH"], capacity_dimension="flow", capacity_min=500.0,
                capacity_max=5000.0, currency="USD", price_min=200000.0, price_max=900000.0,
                certifications=["ISO 14001", "CE"])
    base.update(fields)
    return ListingDocument(**base)


def test_structured_fit_when_everything_fits():
    score, reasons = structured_fit(_need(), _solution())
    assert score == 1.0
    assert {r.kind for r in reasons} == {"sectors", "country", "capacity", "budget",
                                         "certifications"}
    assert next(r for r in reasons if r.kind == "sectors").detail == {"codes": ["WAT.MUN"],
                                                                      "relation": "same"}


def test_structured_fit_is_symmetric_in_direction():
    assert structured_fit(_solution(), _need()) == structured_fit(_need(), _solution())


def test_structured_fit_penalises_misfits():
    score, reasons = structured_fit(
        _need(capacity_min=90000.0, capacity_max=90000.0, countries=["LA"]),
        _solution(sectors=["AIR", "AIR.MON"], certifications=[]))
    assert score < 0
    capacity = next(r for r in reasons if r.kind == "capacity")
    assert capacity.detail["fits"] is False
    unmet = [r.detail["what"] for r in reasons if r.kind == "unmet"]
    assert sorted(unmet) == ["certifications", "country"]


def test_unknown_facts_are_neutral():
    score, reasons = structured_fit(
        _need(capacity_min=None, currency=None, certifications=[]),
        _solution(capacity_dimension="power"))
    assert score == 1.0  # only sectors and country could be judged, and both fit
    assert {r.kind for r in reasons} == {"sectors", "country"}


def test_fit_reorders_close_calls():
    need = _need()
    docs = {1: _solution(id=1, sectors=["AIR"], countries=["TH"]), 2: _solution(id=2)}
    matcher = Matcher(FakeBackend([1, 2], [1, 2]), RankingSettings(fit_weight=1.0))

    results = matcher.rank("solution", MatchQuery("w", [0.0], Filters(), seeker=need),
                           documents=lambda ids: {i: docs[i] for i in ids})

    assert [r.id for r in results] == [2, 1]


def test_matched_terms_leave_out_words_that_explain_nothing():
    highlights = {"title": ["<mark>Solar</mark> power <mark>with</mark> <mark>an</mark> "
                            "<mark>inverter</mark> <mark>in</mark> <mark>the</mark> field"]}
    assert matched_terms(highlights) == ["Solar", "inverter"]
