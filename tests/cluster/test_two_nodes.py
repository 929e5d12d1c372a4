"""A search cluster that survives a node (issue 15).

Two Elasticsearch nodes on loopback form one cluster; the app is given both addresses
(``ELASTICSEARCH_URL=http://a,http://b``) and creates its indices behind aliases with one
replica.  The data node, which holds every primary, is killed while listings are being saved
(indexed and matched through the outbox, as in production) and a thread keeps searching:
every search answers, every write lands, and once the node is back `flask search check`
finds nothing missing, stale or extra - on the rejoined node's own copy too.

Runs once, in the SQLite pass of `make test` (the database plays no part in it).
"""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from sqlalchemy import func, select

from marketplace.discovery import index_check
from marketplace.discovery.engine import make_backend
from marketplace.extensions import db
from marketplace.models import OutboxEvent, Solution
from marketplace.outbox import relay
from search.documents import KINDS, Filters
from tests.factories import SolutionFactory
from tests.support.es_cluster import move_primary, shard_copies, two_nodes, wait_for_health

BEFORE, DURING, AFTER = 8, 6, 6  # listings saved before the kill, around it, after it


@pytest.fixture(scope="module")
def cluster():
    first, second = two_nodes()
    try:
        first.start()
        second.start()
        wait_for_health(first.client(), nodes=2, status="green")
        yield first, second
    finally:
        second.stop()
        first.stop()


@pytest.fixture
def engine(app, cluster):
    """The app's search backend on both nodes, built from the settings as in production."""
    first, second = cluster
    config = {**app.config, "SEARCH_BACKEND": "elasticsearch",
              "ELASTICSEARCH_URL": f"{first.url},{second.url}", "ELASTICSEARCH_TIMEOUT": 5.0}
    backend = make_backend(config, prefix=f"cluster-{uuid.uuid4().hex[:8]}")
    backend.ensure_indices()
    app.extensions["search_backend"] = backend  # the app fixture drops it after the test
    wait_for_health(first.client(), nodes=2, status="green")  # the replicas are copied
    return backend


def save_listing(number: int) -> Solution:
    """A published solution, indexed and matched by the outbox handlers, as a request would."""
    solution = SolutionFactory(published=True, title=f"Biogas digester {number}")
    relay.publish_committed()
    return solution


class Searcher(threading.Thread):
    """Searches without pause until stopped, keeping every answer and every failure."""

    def __init__(self, backend) -> None:
        super().__init__(daemon=True)
        self.backend = backend
        self.totals: list[int] = []
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.totals.append(self.backend.text_search(
                    "solution", "biogas digester", Filters(), size=20).total)
            except Exception as error:  # noqa: BLE001 - any failure is what the test counts
                self.failures.append(repr(error))

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=60)


def test_indices_are_aliases_with_a_replica_on_the_other_node(engine, cluster):
    es = cluster[0].client()
    for kind in KINDS:
        (index,) = es.indices.get_alias(name=engine.alias(kind))
        assert index.startswith(f"{engine.alias(kind)}-")
        settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert settings["auto_expand_replicas"] == "0-1"
        copies = shard_copies(es, index)
        assert set(copies) == {"p", "r"} and copies["p"] != copies["r"], copies


def test_a_node_dies_during_writes_and_searches_and_nothing_is_lost(
        app, runner, engine, cluster, caplog):
    first, second = cluster
    es = first.client()
    for kind in KINDS:  # the node about to die holds every primary: writes go there first
        move_primary(es, next(iter(es.indices.get_alias(name=engine.alias(kind)))), "node-b")

    for number in range(BEFORE):
        save_listing(number)
    engine.refresh("solution")
    searcher = Searcher(engine)
    searcher.start()
    caplog.set_level(logging.WARNING, logger="marketplace")
    for number in range(BEFORE, BEFORE + DURING + AFTER):
        if number == BEFORE + DURING // 2:
            second.kill()
        save_listing(number)
    engine.refresh("solution")
    searcher.stop()

    # Search answered throughout, and never lost sight of what was indexed before the kill.
    assert searcher.failures == []
    assert len(searcher.totals) > 10 and min(searcher.totals) >= BEFORE
    # Every write landed at its first attempt: no job failed, nothing waits for a retry.
    assert [r.getMessage() for r in caplog.records if "retry" in r.getMessage()] == []
    pending = db.session.scalar(select(func.count()).select_from(OutboxEvent)
                                .where(OutboxEvent.handled_at.is_(None)))
    assert pending == 0
    # The surviving node alone holds all of it.
    assert es.cluster.health()["number_of_nodes"] == 1
    report = index_check.check("solution")
    assert (len(report.missing), report.stale, report.extra) == (0, [], [])
    assert engine.text_search("solution", "biogas digester", Filters()).total \
        == BEFORE + DURING + AFTER

    second.start(keep_data=True)
    wait_for_health(es, nodes=2, status="green")
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["solutions: 0 missing, 0 stale, 0 extra",
                                          "needs: 0 missing, 0 stale, 0 extra"]
    # The rejoined node's own copy caught up with the writes it missed.
    local = second.client().count(index=engine.alias("solution"), preference="_only_local")
    assert local["count"] == BEFORE + DURING + AFTER
