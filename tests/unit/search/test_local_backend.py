"""What only the local backend has to get right: its file, its snapshots, its text handling.
The behaviour shared with Elasticsearch is in tests/contract."""

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from search.backends.local import LocalBackend, match_expression, query_words, render_fragment
from search.documents import Filters, ListingDocument

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def doc(id, title, **fields):
    fields.setdefault("published_at", NOW - timedelta(days=id))
    fields.setdefault("embedding", [1.0, float(id), 0.0])
    return ListingDocument(id=id, kind="solution", title=title, **fields)


def ids(result):
    return [hit.id for hit in result.hits]


@pytest.fixture
def backend(tmp_path):
    backend = LocalBackend(str(tmp_path / "search"), prefix="unit")
    backend.ensure_indices()
    yield backend
    backend.drop()


def test_index_survives_a_restart(tmp_path):
    first = LocalBackend(str(tmp_path), prefix="est")
    first.upsert("solution", [doc(1, "Biogas digester")])
    first.close()

    second = LocalBackend(str(tmp_path), prefix="est")
    assert ids(second.text_search("solution", "biogas", Filters(now=NOW))) == [1]
    assert set(second.content_hashes("solution")) == {1}
    second.drop()
    assert not os.path.exists(second.path)


def test_prefixes_do_not_share_data(tmp_path):
    live, scratch = LocalBackend(str(tmp_path)), LocalBackend(str(tmp_path), prefix="eval-1")
    live.upsert("solution", [doc(1, "Biogas digester")])
    scratch.upsert("solution", [doc(2, "Biogas flare")])
    scratch.drop()

    assert set(live.content_hashes("solution")) == {1}
    live.drop()


def test_prefix_cannot_escape_the_directory(tmp_path):
    with pytest.raises(ValueError):
        LocalBackend(str(tmp_path), prefix="../elsewhere")


def test_searches_see_the_old_index_until_the_rebuild_swaps(backend):
    backend.upsert("solution", [doc(1, "Old biogas listing")])
    seen_during = []

    def documents():
        yield doc(2, "New biogas listing")
        seen_during.append(ids(backend.text_search("solution", "biogas", Filters(now=NOW))))
        yield doc(3, "Another new biogas listing")

    assert backend.rebuild("solution", documents()) == 2
    assert seen_during == [[1]]
    assert sorted(ids(backend.text_search("solution", "biogas", Filters(now=NOW)))) == [2, 3]


def test_rebuild_keeps_one_copy_of_a_repeated_id(backend):
    assert backend.rebuild("solution", [doc(1, "First"), doc(1, "Second")]) == 1
    assert ids(backend.text_search("solution", "second", Filters(now=NOW))) == [1]


def test_vector_cache_notices_writes_from_another_process(tmp_path):
    reader, writer = LocalBackend(str(tmp_path)), LocalBackend(str(tmp_path))
    reader.upsert("solution", [doc(1, "A", embedding=[1.0, 0.0, 0.0])])
    assert ids(reader.knn_search("solution", [0.0, 1.0, 0.0], Filters(now=NOW))) == [1]

    writer.upsert("solution", [doc(2, "B", embedding=[0.0, 1.0, 0.0])])

    result = reader.knn_search("solution", [0.0, 1.0, 0.0], Filters(now=NOW))
    assert ids(result) == [2, 1]
    assert result.hits[0].score == pytest.approx(1.0)
    writer.close()
    reader.drop()


def test_knn_skips_documents_without_a_usable_vector(backend):
    backend.upsert("solution", [doc(1, "No vector", embedding=None),
                                doc(2, "Zero vector", embedding=[0.0, 0.0, 0.0]),
                                doc(3, "Other model", embedding=[1.0, 0.0]),
                                doc(4, "Good", embedding=[0.0, 0.0, 2.0])])
    result = backend.knn_search("solution", [0.0, 0.0, 1.0], Filters(now=NOW))
    assert ids(result)[0] == 4 and 1 not in ids(result) and 3 not in ids(result)


@pytest.mark.parametrize("text", ['"', "a:b", "NEAR(x y)", "x AND", "*", "-x", "^x", "(",
                                  "title:sewage", "OR OR"])
def test_query_syntax_in_user_text_is_just_words(backend, text):
    backend.upsert("solution", [doc(1, "x near a b title sewage or")])
    backend.text_search("solution", text, Filters(now=NOW))  # must not raise


def test_punctuation_only_query_finds_nothing(backend):
    backend.upsert("solution", [doc(1, "Biogas")])
    result = backend.text_search("solution", "?!", Filters(now=NOW))
    assert result.hits == [] and result.total == 0


def test_match_expression_quotes_and_ors_distinct_words():
    assert match_expression(query_words('Sludge, "sludge" & 污水')) == '"Sludge" OR "污" OR "水"'


def test_highlights_are_escaped_and_cjk_marks_merge(backend):
    backend.upsert("solution", [doc(1, "<script>污水</script> & sludge",
                                    keywords=["wet sludge", "MBR"])])
    hit = backend.text_search("solution", "污水 sludge", Filters(now=NOW)).hits[0]

    assert hit.highlights["title"] == [
        "&lt;script&gt;<mark>污水</mark>&lt;/script&gt; &amp; <mark>sludge</mark>"]
    assert hit.highlights["keywords"] == ["wet <mark>sludge</mark>"]  # only the matched one


def test_render_fragment_drops_private_markers():
    assert render_fragment("a\x02b\x03\u2063\u2063\x02c\x03 <") == "a<mark>bc</mark> &lt;"


def test_naive_times_are_utc(backend):
    backend.upsert("solution", [doc(1, "Biogas", expires_at=datetime(2026, 11, 2))])
    assert ids(backend.text_search("solution", "", Filters(now=datetime(2026, 11, 1)))) == [1]
    assert ids(backend.text_search("solution", "", Filters(now=datetime(2026, 11, 3)))) == []


def test_needs_without_a_minimum_trl_accept_any(backend):
    backend.upsert("need", [ListingDocument(id=1, kind="need", title="Any TRL")])
    assert ids(backend.text_search("need", "", Filters(now=NOW, accepts_trl=3))) == [1]


def test_unknown_kind_is_refused(backend):
    with pytest.raises(ValueError):
        backend.text_search("solution; DROP TABLE x", "", Filters())


def test_threads_can_write_and_search_at_once(backend):
    errors = []

    def work(n):
        try:
            for i in range(20):
                backend.upsert("solution", [doc(n * 100 + i, f"Biogas plant {n} {i}")])
                backend.text_search("solution", "biogas", Filters(now=NOW), facets=True)
                backend.knn_search("solution", [1.0, 0.0, 0.0], Filters(now=NOW))
        except Exception as error:  # collected: an assert in a thread would be lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert backend.text_search("solution", "biogas", Filters(now=NOW)).total == 80


def test_long_queries_skip_words_most_documents_have(backend):
    backend.rebuild("solution", [doc(1, "the biogas plant"), doc(2, "the solar farm"),
                                 doc(3, "the wind farm")])
    listing_as_query = "the biogas digester for the pig farm with a gas engine and the flare"

    result = backend.text_search("solution", listing_as_query, Filters(now=NOW))

    # "the" and "farm" are in at least half the listings, so BM25 gives them no weight.
    assert ids(result) == [1]
    assert result.hits[0].highlights == {"title": ["the <mark>biogas</mark> plant"]}
    # A short query is what a person typed: every word counts, as in Elasticsearch.
    assert backend.text_search("solution", "the farm", Filters(now=NOW)).total == 3


def test_a_page_of_size_zero_still_counts_and_facets(backend):
    backend.upsert("solution", [doc(1, "Biogas", base="yixing"), doc(2, "Biogas flare")])
    result = backend.text_search("solution", "biogas", Filters(now=NOW), size=0, facets=True)
    assert result.hits == [] and result.total == 2
    assert result.facets["base"] == {"yixing": 1}


def test_rebuild_gives_the_old_copy_back_to_the_disk(backend):
    docs = [doc(i, f"Biogas plant number {i}", description="word " * 200) for i in range(300)]
    backend.upsert("solution", docs)

    def on_disk():
        return sum(os.path.getsize(backend.path + end) for end in ("", "-wal")
                   if os.path.exists(backend.path + end))

    before = on_disk()
    backend.rebuild("solution", docs)
    assert on_disk() < before * 1.2
