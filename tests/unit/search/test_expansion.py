import pytest

from search.documents import Filters, Hit, SearchResult
from search.expansion import expand, find_concepts, fold, guess_language, load_glossary, new_words
from search.matcher import Matcher, MatchQuery, RankingSettings


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


def test_matcher_searches_the_english_terms_of_a_foreign_query():
    backend = RecordingBackend()
    embedded = []
    matcher = Matcher(backend, RankingSettings(),
                      embed=lambda text: embedded.append(text) or [0.5, 0.5])

    matcher.rank("solution", MatchQuery("xử lý nước thải", [1.0, 0.0], Filters()))

    assert "wastewater" in backend.texts[0] and "xử lý nước thải" in backend.texts[0]
    assert "wastewater" in embedded[0]  # the English view was embedded ...
    assert backend.vectors[1] == [0.5, 0.5]  # ... and searched as a second kNN list


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
