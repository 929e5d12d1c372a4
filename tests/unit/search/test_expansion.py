import pytest

from search.backends.base import retrieve_each
from search.documents import Filters, Hit, SearchResult
from search.expansion import (
    Concept,
    expand,
    find_concepts,
    fold,
    guess_language,
    load_glossary,
    new_words,
)
from search.matcher import ConceptVectors, Matcher, MatchQuery, RankingSettings


@pytest.mark.parametrize("text, language", [
    ("污水处理厂需要污泥脱水设备", "zh"),
    ("ระบบบำบัดน้ำเสียสำหรับโรงงาน", "th"),
    ("Chúng tôi cần xử lý nước thải cho khu công nghiệp", "vi"),
    ("Chung toi can giai phap xu ly nuoc thai cho nha may", "vi"),  # no accents typed
    ("Kami membutuhkan panel surya untuk sekolah di desa", "id"),
    ("We need solar panels for the schools in our district", "en"),
])
def test_guess_language(text, language):
    assert guess_language(text) == language


@pytest.mark.parametrize("text", [
    "xử lý nước thải",
    "Xử Lý Nước Thải công nghiệp",
    "xu ly nuoc thai",  # typed without accents
    "污水处理",
    "ระบบบำบัดน้ำเสีย",
    "pengolahan air limbah",
])
def test_wastewater_in_any_language_expands_to_wastewater_terms(text):
    english = expand(text).english
    assert "wastewater" in english and "sewage treatment" in english


def test_longest_term_wins_over_the_terms_inside_it():
    # 太阳能电池板 is a solar panel, not a battery (电池) plus solar energy (太阳能).
    english = expand("屋顶安装太阳能电池板", "zh").english
    assert "solar panels" in english
    assert "batteries" not in english


def test_thai_terms_do_not_fire_inside_other_words():
    # ดิน (soil) is spelled inside เดิน (walk) and ทางเดิน (footpath).
    assert all("soil" not in c.english for c in find_concepts("ทางเดินในสวนสาธารณะ", "th"))
    assert any("soil" in c.english for c in find_concepts("คุณภาพดินในไร่", "th"))


def test_words_match_whole_words_only_in_spaced_languages():
    # "solar" is diesel fuel in Indonesian, but "solarium" is neither.
    assert expand("kami menjual solarium", "id").english == []
    # "as well as" is not about wells (groundwater).
    assert "groundwater" not in expand("pumps as well as filters", "en").english


def test_english_plurals_and_singulars_both_match():
    assert "lithium-ion" in expand("a battery for the farm", "en").english  # "batteries"
    assert "detectors" in expand("wireless sensors", "en").english  # "sensor"


def test_english_queries_only_gain_synonyms():
    text = "Rooftop PV for factories"
    added = new_words(text, expand(text).english)
    assert "photovoltaic" in added
    assert not {"rooftop", "pv", "for", "factories"} & set(added)


def test_an_english_query_without_glossary_terms_is_unchanged():
    assert expand("Quarterly report on staff holidays").english == []


def test_fold_removes_vietnamese_accents_and_keeps_length():
    assert fold("Xử lý nước thải đô thị") == "xu ly nuoc thai do thi"
    assert len(fold("Xử lý nước thải")) == len("Xử lý nước thải")


def test_every_glossary_row_has_english_and_a_translation():
    concepts = load_glossary()
    assert len(concepts) >= 200
    for concept in concepts:
        assert concept.english, concept
        assert sum(bool(concept.terms[lang]) for lang in ("zh", "vi", "th", "id")) >= 3, concept


class RecordingBackend:
    """Records the text query; its text and kNN lists are fixed."""

    def __init__(self):
        self.texts, self.vectors = [], []

    def text_search(self, kind, text, filters, **_):
        self.texts.append(text)
        return SearchResult([Hit(1, 5.0, {})], 1)

    def knn_search(self, kind, vector, filters, **_):
        self.vectors.append(vector)
        return SearchResult([Hit(2, 0.9)], 1)

    def retrieve(self, *args, **kwargs):
        return retrieve_each(self, *args, **kwargs)


def test_matcher_searches_the_english_terms_of_a_foreign_query():
    backend = RecordingBackend()
    embedded = []
    matcher = Matcher(backend, RankingSettings(),
                      embed=lambda text: embedded.append(text) or [3.0, 4.0])

    matcher.rank("solution", MatchQuery("xử lý nước thải", [1.0, 0.0], Filters()))

    assert "wastewater" in backend.texts[0] and "xử lý nước thải" in backend.texts[0]
    assert "wastewater" in embedded[0]  # the concept's English terms were embedded ...
    assert backend.vectors[1] == pytest.approx([0.6, 0.8])  # ... and searched, unit length


def test_matcher_embeds_each_concept_once_across_queries_and_matchers():
    embedded = []
    concepts = ConceptVectors(lambda text: embedded.append(text) or [1.0, 0.0])
    for _ in range(2):  # a matcher per ranking, as the marketplace makes them
        matcher = Matcher(RecordingBackend(), RankingSettings(),
                          embed=lambda _: pytest.fail("no per-query embedding"),
                          concept_vectors=concepts)
        matcher.rank("solution", MatchQuery("污水处理", [1.0, 0.0], Filters()))
        matcher.rank("solution", MatchQuery("xử lý nước thải", [1.0, 0.0], Filters()))

    (wastewater_treatment,) = find_concepts("污水处理", "zh")
    assert embedded == [ConceptVectors.text(wastewater_treatment)]
    assert len(concepts) == 1


def test_one_concepts_vector_is_used_as_it_is():
    concepts = ConceptVectors(lambda text: {"a": [3.0, 4.0]}[text],
                              glossary=[Concept(("a",), {})])
    assert concepts.vector([Concept(("a",), {})]) == pytest.approx([0.6, 0.8])
    assert concepts.vector([]) == []


def test_several_concepts_are_pulled_away_from_the_glossary_centre():
    table = {"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0], "c": [0.0, 0.0, 1.0]}
    a, b, c = (Concept((name,), {}) for name in "abc")
    concepts = ConceptVectors(lambda text: table[text], glossary=[a, b, c])

    # centre (1/3, 1/3, 1/3); sqrt(2) * (mean of a and b - centre) added to it
    centre = 1 / 3
    expected = [centre + 2 ** 0.5 * (0.5 - centre)] * 2 + [centre + 2 ** 0.5 * (0 - centre)]
    norm = sum(x * x for x in expected) ** 0.5
    assert concepts.vector([a, b]) == pytest.approx([x / norm for x in expected])
    # a plain mean would give (0.5, 0.5, 0) normalised: the third component would be 0
    assert concepts.vector([a, b])[2] < 0


def test_the_centre_is_embedded_in_one_batch_and_only_once():
    batches = []

    def embed_many(texts):
        batches.append(list(texts))
        return [[1.0, float(len(text))] for text in texts]

    glossary = [Concept((name,), {}) for name in ("a", "bb", "ccc")]
    concepts = ConceptVectors(lambda _: pytest.fail("one at a time"), embed_many,
                              glossary=glossary)
    concepts.vector(glossary[:1])
    concepts.vector(glossary[:2])
    concepts.vector(glossary[1:])

    assert batches == [["a"], ["bb", "ccc"]]  # what was missing, once


def test_concept_vectors_embed_a_concepts_english_terms_together():
    embedded = []
    concepts = ConceptVectors(lambda text: embedded.append(text) or [1.0])
    concepts.vector([Concept(("wastewater", "sewage"), {})])
    assert embedded == ["wastewater, sewage"]


def test_matcher_with_expansion_off_leaves_the_query_alone():
    backend = RecordingBackend()
    matcher = Matcher(backend, RankingSettings(expansion="off"), embed=lambda _: [0.0, 0.0])

    matcher.rank("solution", MatchQuery("xử lý nước thải", [1.0, 0.0], Filters()))

    assert backend.texts[0] == "xử lý nước thải"
    assert len(backend.vectors) == 1


def test_matcher_skips_the_english_view_when_the_model_does_not_fit():
    backend = RecordingBackend()
    matcher = Matcher(backend, RankingSettings(), embed=lambda _: [0.1, 0.2, 0.3])

    results = matcher.rank("solution", MatchQuery("污水处理", [1.0, 0.0], Filters()))

    assert len(backend.vectors) == 1  # a 3-d vector cannot search a 2-d index
    assert {r.id for r in results} == {1, 2}
