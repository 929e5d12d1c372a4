"""`flask search reindex` under a lock, and what is written while it runs."""

import pytest

from marketplace.discovery import index_check, indexing
from marketplace.discovery.engine import backend
from marketplace.extensions import db
from marketplace.models import Solution
from search.documents import Filters
from tests.factories import SolutionFactory
from tests.integration.test_search import _drain


def _write_during_the_rebuild(monkeypatch, write):
    """Run ``write`` after the rebuild has read its first batch: a listing edited and
    re-indexed (as by the outbox handler) while the new index is being loaded."""
    load = indexing.live_documents

    def loading(kind, batch_size=200):
        for number, batch in enumerate(load(kind, batch_size=1)):
            yield batch
            if number == 0:
                write()
    monkeypatch.setattr(indexing, "live_documents", loading)


@pytest.fixture(params=["local", "elasticsearch"])
def either_backend(request, app):
    """The app's search engine: the embedded one, or a real Elasticsearch under a prefix of
    its own (dropped after the test with the app's backend)."""
    if request.param == "elasticsearch":
        import os
        import uuid

        from search.backends.elasticsearch import ElasticsearchBackend

        url = os.environ.get("TEST_ELASTICSEARCH_URL")
        if not url:
            pytest.fail("TEST_ELASTICSEARCH_URL is not set: run the tests with `make test`")
        engine = ElasticsearchBackend(url, prefix=f"reindex-{uuid.uuid4().hex[:8]}")
        engine.ensure_indices()
        app.extensions["search_backend"] = engine
    return request.param


def test_an_upsert_during_a_rebuild_reaches_the_new_index(either_backend, monkeypatch):
    first, second = (SolutionFactory(published=True, title=f"Plant {n}") for n in (1, 2))
    _drain()

    def edit():
        first.title = "Plant 1, renamed during the rebuild"
        db.session.commit()
        indexing.index_listing("solution", first.id)
        archived = db.session.get(Solution, second.id)
        archived.status = "archived"
        db.session.commit()
        indexing.index_listing("solution", second.id)
    _write_during_the_rebuild(monkeypatch, edit)

    indexing.rebuild_index("solution")

    # The index is true to the database: the rename is in it, the archived one is not.
    report = index_check.check("solution")
    assert (report.missing, report.stale, report.extra) == ([], [], [])
    assert [hit.id for hit in backend().text_search("solution", "renamed", Filters()).hits] \
        == [first.id]


def test_a_second_rebuild_of_the_same_index_is_refused(app, runner):
    from marketplace import coordination

    name = indexing.rebuild_lock_name("solution")
    with coordination.exclusive(name) as held:
        assert held
        with pytest.raises(indexing.RebuildRunning):
            indexing.rebuild_index("solution")
        result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code != 0
    assert "already running" in result.output
