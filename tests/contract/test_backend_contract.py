"""The behaviour every search backend must share (search.backends.base.SearchBackend)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from search.documents import Filters, ListingDocument

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DIM = 384


def vector(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return (v / np.linalg.norm(v)).tolist()


def doc(id, title, **fields) -> ListingDocument:
    defaults = dict(kind="solution", summary="", description="", sectors=["WAT", "WAT.MUN"],
                    countries=["VN"], trl=8, status="published",
                    published_at=NOW - timedelta(days=id), expires_at=NOW + timedelta(days=300),
                    embedding=vector(id))
    defaults.update(fields)
    return ListingDocument(id=id, title=title, **defaults)


CORPUS = [
    doc(1, "Membrane bioreactor for municipal sewage",
        summary="Hollow fibre MBR package plant", keywords=["MBR", "sewage"], base="yixing",
        certifications=["ISO 14001"]),
    doc(2, "Sludge drying with solar greenhouses", description="Dries sewage sludge in the sun",
        sectors=["WAT", "WAT.SLU"], countries=["TH", "VN"], trl=7, base="yixing"),
    doc(3, "E-waste dismantling line", summary="Recovers copper and gold from circuit boards",
        sectors=["WST", "WST.REC"], countries=["TH"], trl=6, base="wuzhou",
        certifications=["ISO 14001", "ISO 9001"]),
    doc(4, "Air quality monitoring stations", sectors=["AIR", "AIR.MON"],
        countries=["ID", "VN"], trl=9, base="shenzhen"),
    doc(5, "Expired sewage treatment offer", expires_at=NOW - timedelta(days=1)),
    doc(6, "Draft sewage treatment offer", status="draft"),
]


@pytest.fixture
def loaded(backend):
    backend.upsert("solution", CORPUS)
    backend.refresh("solution")
    return backend


def ids(result):
    return [hit.id for hit in result.hits]


def test_text_search_finds_and_ranks_by_bm25_with_field_boosts(loaded):
    result = loaded.text_search("solution", "sewage", Filters(now=NOW))

    # The title match outranks the description match; expired and draft offers are hidden.
    assert ids(result) == [1, 2]
    assert result.total == 2
    assert result.hits[0].score > result.hits[1].score > 0


def test_text_search_highlights_matched_words(loaded):
    result = loaded.text_search("solution", "copper gold", Filters(now=NOW))

    assert ids(result) == [3]
    fragments = " ".join(f for frags in result.hits[0].highlights.values() for f in frags)
    assert "<mark>copper</mark>" in fragments.lower()
    assert "<mark>gold</mark>" in fragments.lower()


def test_empty_text_matches_everything_live(loaded):
    result = loaded.text_search("solution", "", Filters(now=NOW), size=10)
    assert sorted(ids(result)) == [1, 2, 3, 4]


def test_live_only_can_be_switched_off(loaded):
    result = loaded.text_search("solution", "", Filters(now=NOW, live_only=False))
    assert sorted(ids(result)) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(sectors=["WAT"]), [1, 2]),
    (Filters(sectors=["WAT.SLU", "AIR.MON"]), [2, 4]),
    (Filters(countries=["TH"]), [2, 3]),
    (Filters(bases=["yixing"]), [1, 2]),
    (Filters(min_trl=8), [1, 4]),
    (Filters(certifications=["ISO 14001", "ISO 9001"]), [3]),
    (Filters(exclude_ids=[1, 2]), [3, 4]),
    (Filters(only_ids=[1, 3, 5]), [1, 3]),
    (Filters(only_ids=[]), []),
])
def test_filters(loaded, filters, expected):
    filters.now = NOW
    assert sorted(ids(loaded.text_search("solution", "", filters))) == expected


def test_needs_filter_on_accepted_trl(backend):
    backend.upsert("need", [doc(10, "Need A", kind="need", trl=None, min_trl=7),
                            doc(11, "Need B", kind="need", trl=None, min_trl=9)])
    backend.refresh("need")

    result = backend.text_search("need", "", Filters(now=NOW, accepts_trl=8))

    assert ids(result) == [10]


def test_sort_by_newest(loaded):
    result = loaded.text_search("solution", "", Filters(now=NOW), sort="newest")
    assert ids(result) == [1, 2, 3, 4]  # published_at = NOW - id days


def test_pagination(loaded):
    first = loaded.text_search("solution", "", Filters(now=NOW), size=3, sort="newest")
    second = loaded.text_search("solution", "", Filters(now=NOW), size=3, offset=3,
                                sort="newest")
    assert ids(first) == [1, 2, 3] and ids(second) == [4]
    assert first.total == second.total == 4


def test_pages_end_at_the_result_window_on_every_backend(loaded):
    """Elasticsearch refuses from + size > max_result_window with a 400; every backend
    refuses it alike, before asking, so callers see one documented error."""
    from search.backends.base import MAX_RESULT_WINDOW, ResultWindowExceeded

    last = loaded.text_search("solution", "", Filters(now=NOW), size=10,
                              offset=MAX_RESULT_WINDOW - 10)
    assert ids(last) == [] and last.total == 4
    for size, offset in ((10, MAX_RESULT_WINDOW - 9), (1, MAX_RESULT_WINDOW), (1, 2**63)):
        with pytest.raises(ResultWindowExceeded):
            loaded.text_search("solution", "", Filters(now=NOW), size=size, offset=offset)


def test_facets_count_what_the_query_matches(loaded):
    result = loaded.text_search("solution", "", Filters(now=NOW), facets=True)

    assert result.facets["sector"]["WAT"] == 2
    assert result.facets["sector"]["WST.REC"] == 1
    assert result.facets["country"] == {"VN": 3, "TH": 2, "ID": 1}
    assert result.facets["base"] == {"yixing": 2, "wuzhou": 1, "shenzhen": 1}
    assert result.facets["trl"] == {"6": 1, "7": 1, "8": 1, "9": 1}
    assert result.facets["certification"] == {"ISO 14001": 2, "ISO 9001": 1}


def test_knn_returns_nearest_by_cosine(loaded):
    result = loaded.knn_search("solution", vector(3), Filters(now=NOW), size=2)

    assert result.hits[0].id == 3
    assert result.hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert len(result.hits) == 2


def test_knn_applies_the_filters(loaded):
    result = loaded.knn_search("solution", vector(5), Filters(now=NOW), size=10)
    assert 5 not in ids(result) and 6 not in ids(result)

    only_air = loaded.knn_search("solution", vector(3), Filters(now=NOW, sectors=["AIR"]))
    assert ids(only_air) == [4]


def test_retrieve_gives_what_the_single_searches_give(loaded):
    filters = Filters(now=NOW, countries=["VN"])
    found = loaded.retrieve("solution", "sewage sludge", [vector(1), vector(4), [0.0] * DIM],
                            filters, size=3)

    def scored(hits):  # ties may come in either order: compare ids with their scores
        return sorted((hit.id, round(hit.score, 4)) for hit in hits)

    text = loaded.text_search("solution", "sewage sludge", filters, size=3, highlight=False)
    assert scored(found.text) == scored(text.hits) and found.text
    assert [h.id for h in found.text] == [h.id for h in text.hits]  # distinct scores here
    assert len(found.neighbours) == 3  # one list per vector, in order; none near a zero
    for hits, query in zip(found.neighbours, [vector(1), vector(4), [0.0] * DIM],
                           strict=True):
        alone = loaded.knn_search("solution", query, filters, size=3).hits
        assert [(h.id, round(h.score, 3)) for h in hits] \
            == [(h.id, round(h.score, 3)) for h in alone]
    assert found.neighbours[0][0].id == 1 and found.neighbours[2] == []
    assert all(not hit.highlights for hit in found.text)


def test_retrieve_without_text_or_vectors(loaded):
    found = loaded.retrieve("solution", "  ", [], Filters(now=NOW), size=5)
    assert (found.text, found.neighbours) == ([], [])


def test_upsert_replaces_and_delete_removes(loaded):
    loaded.upsert("solution", [doc(1, "Completely different title about biogas")])
    loaded.delete("solution", [2, 999])
    loaded.refresh("solution")

    assert ids(loaded.text_search("solution", "biogas", Filters(now=NOW))) == [1]
    assert ids(loaded.text_search("solution", "sludge", Filters(now=NOW))) == []


def test_content_hashes_report_what_is_indexed(loaded):
    hashes = loaded.content_hashes("solution")

    assert set(hashes) == {1, 2, 3, 4, 5, 6}
    assert hashes[1] == CORPUS[0].content_hash()


def test_rebuild_swaps_in_a_new_index(loaded):
    count = loaded.rebuild("solution", [doc(7, "Biogas upgrading"), doc(8, "Wind turbines")])
    loaded.refresh("solution")

    assert count == 2
    assert sorted(loaded.content_hashes("solution")) == [7, 8]
    assert ids(loaded.text_search("solution", "biogas", Filters(now=NOW))) == [7]


def test_kinds_are_separate(loaded):
    assert loaded.text_search("need", "sewage", Filters(now=NOW)).hits == []


def test_unicode_text(backend):
    backend.upsert("need", [doc(20, "城市污水处理厂提标改造", kind="need"),
                            doc(21, "Xử lý nước thải đô thị", kind="need")])
    backend.refresh("need")

    assert ids(backend.text_search("need", "nước thải", Filters(now=NOW))) == [21]
    # CJK has no spaces: the standard analyzer indexes each ideograph, so a word matches.
    assert ids(backend.text_search("need", "污水", Filters(now=NOW))) == [20]


def test_documents_read_back_as_they_were_stored_without_embeddings(loaded):
    found = loaded.documents("solution", [3, 1, 99, 1])
    assert sorted(found) == [1, 3]  # an id the index lacks is left out, repeats once
    for stored in CORPUS[:1] + CORPUS[2:3]:
        expected = ListingDocument(**{**stored.__dict__, "embedding": None})
        assert found[stored.id] == expected
        assert found[stored.id].content_hash() == stored.content_hash()
    assert loaded.documents("solution", []) == {}
    assert loaded.documents("need", [1]) == {}
