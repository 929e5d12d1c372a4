"""`flask eval-matching` on a labelled slice of match-dev, with real indexing, on both backends.

The figures it prints are recomputed here from its run file (every ranked pair, delivered or
not, with its grade), and held to bars a broken delivery rule would miss: delivering the whole
ranking, or nothing, or the wrong half.
"""

import json
import os
from pathlib import Path

import pytest

from marketplace.discovery import indexing
from marketplace.discovery.engine import backend
from search.documents import Filters
from tests.factories import SolutionFactory

SLICE = Path(__file__).parents[1] / "data" / "match-slice"
NO_ANSWER = "N014"  # coral reef restoration: nothing in the pool addresses it


def _run(runner, tmp_path, backend_name):
    run_file = tmp_path / f"run-{backend_name}.tsv"
    result = runner.invoke(args=["eval-matching", str(SLICE), "--backend", backend_name,
                                 "--run-file", str(run_file)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    rows = [line.split("\t") for line in run_file.read_text().splitlines()[1:]]
    return summary, [dict(zip(["direction", "seeker", "found", "rank", "delivered", "grade"],
                              row, strict=True)) for row in rows]


@pytest.fixture
def elasticsearch_config(app, monkeypatch):
    url = os.environ.get("TEST_ELASTICSEARCH_URL")
    if not url:
        pytest.fail("TEST_ELASTICSEARCH_URL is not set: run the tests with `make test`")
    monkeypatch.setitem(app.config, "ELASTICSEARCH_URL", url)


def _delivered(rows, direction):
    return [r for r in rows if r["direction"] == direction and r["delivered"] == "1"]


@pytest.mark.parametrize("backend_name", ["local", "elasticsearch"])
def test_eval_matching_reports_what_the_ledger_delivers(runner, tmp_path, backend_name,
                                                        request):
    if backend_name == "elasticsearch":
        request.getfixturevalue("elasticsearch_config")
    live = SolutionFactory(published=True, title="Live listing, not part of the evaluation")
    assert indexing.index_listing("solution", live.id)

    summary, rows = _run(runner, tmp_path, backend_name)

    assert summary["backend"] == backend_name
    for direction in ("need", "solution"):
        figures = summary[direction]
        delivered = _delivered(rows, direction)
        # The printed figures are the run's.
        assert figures["delivered"] == len(delivered)
        good = sum(1 for r in delivered if int(r["grade"]) >= 1)
        assert figures["precision"] == round(good / len(delivered), 4)
        assert set(figures["per_lang"]) >= {"en"}
        # A rule worth the name: precise, and finding most of the right answers.
        assert figures["precision"] >= 0.8, figures
        assert figures["recall_grade2"] >= 0.6, figures
        assert figures["ndcg@10"] >= 0.7, figures
    # Delivering the whole ranking would flood each need; the right rule sends a few.
    assert summary["need"]["delivered"] <= 2 * 8
    # The need with no good answer gets nothing.
    assert not [r for r in _delivered(rows, "need") if r["seeker"] == NO_ANSWER]
    assert summary["need"]["no_answer_delivered"] == 0
    # The live index was never touched.
    hits = backend().text_search("solution", "", Filters(live_only=False)).hits
    assert [hit.id for hit in hits] == [live.id]
