"""`flask eval-ranking` on a small labelled corpus made here."""

import json

from marketplace.discovery.engine import backend
from search.documents import Filters
from tests.factories import SolutionFactory

CORPUS = [
    {"id": "a1", "title": "SludgeCo", "text": "Dries sewage sludge with solar greenhouses.",
     "category": "Sludge"},
    {"id": "a2", "title": "DryWorks", "text": "Thermal drying of municipal sewage sludge.",
     "category": "Sludge"},
    {"id": "a3", "title": "BioSolids", "text": "Turns wastewater sludge into biochar by drying.",
     "category": "Sludge"},
    {"id": "b1", "title": "SunRoof", "text": "Rooftop solar photovoltaic panels for homes.",
     "category": "Solar"},
    {"id": "b2", "title": "PV Farm", "text": "Utility-scale solar photovoltaic power plants.",
     "category": "Solar"},
    {"id": "b3", "title": "Helio", "text": "Solar PV modules and inverters for factories.",
     "category": "Solar"},
    {"id": "c1", "title": "Lonely", "text": "Electric ferries for rivers.", "category": "Boats"},
]


def test_eval_ranking_reports_ndcg_and_recall(runner, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(row) for row in CORPUS))
    queries = tmp_path / "needs.tsv"
    queries.write_text("lang\tcategories\ttext\n"
                       "en\tSolar\tWe want solar panels on the roofs of schools.\n"
                       "vi\tSludge\tXử lý bùn thải từ nhà máy nước thải.\n")
    run_file = tmp_path / "run.txt"
    live = SolutionFactory(published=True, title="Live listing, not part of the evaluation")

    example = runner.invoke(args=["eval-ranking", str(corpus), "--run-file", str(run_file)])
    needs = runner.invoke(args=["eval-ranking", str(corpus), "--queries", str(queries)])

    assert example.exit_code == 0, example.output
    result = json.loads(example.output[example.output.index("{"):])
    assert result["queries"] == 6  # "Boats" has one member: a distractor only
    assert result["ndcg@10"] > 0.8  # these categories are easy to tell apart
    assert 0 < result["recall@10"] <= 1
    assert len(run_file.read_text().splitlines()) == 6 * 6  # 6 queries, 6 others each
    by_lang = json.loads(needs.output[needs.output.index("{"):])["per_lang"]
    assert set(by_lang) == {"en", "vi"}
    assert by_lang["vi"]["ndcg@10"] > 0.5  # found across languages
    # The live index was never touched.
    hits = backend().text_search("solution", "", Filters(live_only=False)).hits
    assert all(hit.id == live.id for hit in hits)


def test_eval_ranking_works_before_the_database_is_migrated(tmp_path):
    # A fresh checkout: `flask db upgrade` has not run, the database has no tables.
    from sqlalchemy import create_engine, inspect

    from marketplace import create_app
    from marketplace.extensions import db

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(row) for row in CORPUS))
    database = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                        "SQLALCHEMY_DATABASE_URI": database})

    result = fresh.test_cli_runner().invoke(args=["eval-ranking", str(corpus)])

    with fresh.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "flask db upgrade" in result.output  # says why it used a temporary database
    assert json.loads(result.output[result.output.index("{"):])["queries"] == 6
    # Nothing was created in the unmigrated database: the migrations can still run on it.
    engine = create_engine(database)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
