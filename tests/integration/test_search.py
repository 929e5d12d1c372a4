"""Search and matching through the app: outbox, indexing, the search page, the ledger."""

import re

from sqlalchemy import select

from marketplace.discovery import index_check
from marketplace.discovery.matching import rank_for
from marketplace.extensions import db
from marketplace.models import Match, OutboxEvent, SavedSearch
from marketplace.outbox import relay
from tests.factories import NeedFactory, SolutionFactory, UserFactory


def _drain():
    """Publish what the test's own session committed (requests do it themselves)."""
    relay.publish_committed()


def test_saving_a_listing_writes_an_outbox_event_in_the_same_transaction(app):
    solution = SolutionFactory()

    events = db.session.scalars(select(OutboxEvent)).all()
    assert [(e.topic, e.payload) for e in events] == [
        ("listing.changed", {"kind": "solution", "id": solution.id})]
    assert events[0].handled_at is None


def test_a_rolled_back_change_writes_no_event(app):
    solution = SolutionFactory()
    _drain()
    solution.title = "Changed then rolled back"
    db.session.flush()
    db.session.rollback()
    db.session.commit()

    assert db.session.query(OutboxEvent).count() == 1


def test_published_listings_are_indexed_and_searchable(client):
    SolutionFactory(published=True, title="Sludge drying with solar greenhouses",
                    summary="Dries sewage sludge", sectors=["WAT.SLU"])
    SolutionFactory(title="Draft sludge plant")  # not live: never indexed
    _drain()

    page = client.get("/search?q=sludge").get_data(as_text=True)

    assert "Sludge drying with solar greenhouses" in page
    assert "Draft sludge plant" not in page
    assert "<mark>" in page  # highlighted snippet
    assert "1 results" in page or "1 result" in page
    assert db.session.scalar(select(OutboxEvent.handled_at).limit(1)) is not None


def test_search_snippets_show_a_markdown_description_as_plain_text(client):
    SolutionFactory(published=True, title="Sludge skid", summary="Dewatering",
                    description="## Scope of *sludge* supply\n\n- **Screw-press** sludge "
                                "dewatering, see [sheet](https://example.org)")
    _drain()

    page = client.get("/search?q=sludge").get_data(as_text=True)

    snippets = " ".join(re.findall(r'<p class="snippet">(.*?)</p>', page, re.S))
    assert "Scope of <mark>sludge</mark> supply. Screw-press <mark>sludge</mark>" in snippets
    assert not re.search(r"##|\*|\]\(|- ", snippets)


def test_matching_works_across_languages(client):
    wastewater = SolutionFactory(published=True, title="Municipal wastewater treatment plant",
                                 summary="Biological treatment of city sewage",
                                 keywords=["sewage"], sectors=["WAT.MUN"])
    SolutionFactory(published=True, title="Rooftop solar panels",
                    summary="Photovoltaic modules for roofs", keywords=["PV"],
                    sectors=["WAT.MUN"])  # same sector on purpose: only meaning separates them
    _drain()
    # Vietnamese for "urban wastewater treatment": no shared words, found by meaning.
    need = NeedFactory(published=True, title="Xử lý nước thải đô thị",
                       description="Nhà máy xử lý nước thải sinh hoạt")

    ranked = rank_for(need)

    assert [match.id for match in ranked][0] == wastewater.id


def test_search_facets_and_filters(client):
    SolutionFactory(published=True, title="Air monitor A", sectors=["AIR.MON"],
                    countries_served=["TH"], trl=9)
    SolutionFactory(published=True, title="Air monitor B", sectors=["AIR.MON"],
                    countries_served=["VN"], trl=6)
    _drain()

    page = client.get("/search?q=monitor").get_data(as_text=True)
    assert "Air monitor A" in page and "Air monitor B" in page
    assert 'href="/search?kind=solution&amp;sort=relevance&amp;q=monitor&amp;country=TH"' in page

    filtered = client.get("/search?q=monitor&country=TH&trl=8").get_data(as_text=True)
    assert "Air monitor A" in filtered and "Air monitor B" not in filtered


def test_search_falls_back_to_the_database_when_the_engine_is_down(app, client):
    from search.backends.base import SearchUnavailable

    SolutionFactory(published=True, title="Biogas upgrading skid")
    _drain()

    class Down:
        def __getattr__(self, name):  # every search call fails, as a down cluster's does
            def unavailable(*args, **kwargs):
                raise SearchUnavailable("connection refused")
            return unavailable

        def drop(self):
            pass

    real = app.extensions.get("search_backend")
    app.extensions["search_backend"] = Down()
    try:
        response = client.get("/search?q=biogas")
    finally:
        app.extensions["search_backend"] = real
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The search engine is not answering right now" in page
    assert "Biogas upgrading skid" in page


def other_listings():
    """Listings of other sectors: a marketplace of one pair is no test of relevance (and its
    words, being in every document, tell BM25 nothing)."""
    SolutionFactory(published=True, title="Rooftop solar photovoltaic panels",
                    summary="PV modules and inverters for factory roofs.", keywords=["PV"],
                    description="Grid-tied solar power.", sectors=["ENE.SOL"],
                    capacity_unit="kW", capacity_min=50, capacity_max=2000)
    SolutionFactory(published=True, title="Air quality monitoring micro-stations",
                    summary="PM2.5 and NO2 sensors for city networks.", keywords=["sensors"],
                    description="Low-cost sensor networks.", sectors=["AIR.MON"],
                    capacity_unit=None, capacity_min=None, capacity_max=None)
    NeedFactory(published=True, title="Electric buses for the city fleet",
                description="We want 40 electric buses with depot charging.",
                sectors=["ENE.TRN"], capacity=None, capacity_unit=None)


def test_publishing_fills_the_match_ledger_and_owners_see_reasons(client, auth):
    other_listings()
    buyer = UserFactory(buyer=True)
    solution = SolutionFactory(published=True, countries_served=["VN"], trl=8)
    need = NeedFactory(organization=buyer.organization, published=True, country="VN",
                       min_trl=7)
    _drain()

    [match] = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    assert match.solution_id == solution.id and match.delivered  # only the right one
    kinds = {reason["kind"] for reason in match.reasons}
    assert {"sectors", "country", "capacity", "terms"} <= kinds

    auth.login(buyer)
    page = client.get(f"/needs/{need.id}/matches").get_data(as_text=True)
    assert solution.title in page
    assert "Same sector: Municipal wastewater" in page
    assert "Serves Viet Nam" in page


def test_dismissed_matches_do_not_come_back(client, auth):
    other_listings()
    buyer = UserFactory(buyer=True)
    solution = SolutionFactory(published=True)
    need = NeedFactory(organization=buyer.organization, published=True)
    _drain()
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    auth.login(buyer)

    client.post(f"/matches/{match.id}/dismissed")
    solution.title = solution.title + " (improved)"  # re-matching happens
    db.session.commit()
    _drain()

    db.session.refresh(match)
    assert match.buyer_state == "dismissed"
    assert solution.title not in client.get(f"/needs/{need.id}/matches").get_data(as_text=True)


def test_only_the_two_sides_may_judge_a_match(client, auth):
    other_listings()
    solution = SolutionFactory(published=True)
    need = NeedFactory(published=True)
    _drain()
    match = db.session.scalar(select(Match).where(Match.need_id == need.id))
    auth.login(UserFactory())  # a supplier of another organisation

    assert client.post(f"/matches/{match.id}/interesting").status_code == 403
    assert client.get(f"/solutions/{solution.id}/matches").status_code == 403


def test_saved_search(client, auth):
    user = UserFactory(buyer=True)
    auth.login(user)

    client.post("/search/save", data={"kind": "solution", "q": "biogas", "country": "VN"})

    saved = db.session.scalar(select(SavedSearch))
    assert (saved.user_id, saved.kind, saved.query, saved.filters) == (
        user.id, "solution", "biogas", {"country": "VN"})


def test_search_check_and_repair(runner, app):
    solution = SolutionFactory(published=True)
    _drain()
    assert index_check.check("solution").ok

    from marketplace.discovery.engine import backend

    backend().delete("solution", [solution.id])
    backend().refresh("solution")
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "1 missing" in result.output

    repaired = runner.invoke(args=["search", "check", "--repair"])
    assert "repaired" in repaired.output
    assert index_check.check("solution").ok


def test_the_periodic_repair_drops_expired_listings_from_the_index(app):
    from datetime import timedelta

    from marketplace.listings.lifecycle import expire_overdue_and_commit
    from marketplace.models._time import utcnow

    solution = SolutionFactory(published=True)
    _drain()
    solution.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    relay.mark_committed_as_handled()  # as if the expiry happened in bulk, with no events
    expire_overdue_and_commit()
    assert index_check.check("solution").extra == [solution.id]

    assert index_check.repair_all() == {"solution": 1, "need": 0}
    assert index_check.check("solution").ok


def test_reindex_swaps_in_a_full_index(runner):
    SolutionFactory(published=True)
    NeedFactory(published=True)

    result = runner.invoke(args=["search", "reindex"])

    assert "1 solution(s) indexed." in result.output
    assert "1 need(s) indexed." in result.output
    assert index_check.check("need").ok


def test_the_search_box_works_in_any_language(client):
    SolutionFactory(published=True, title="Municipal wastewater treatment plant",
                    summary="Biological treatment of city sewage", keywords=["sewage"])
    SolutionFactory(published=True, title="Rooftop solar panels",
                    summary="Photovoltaic modules for roofs", keywords=["PV"],
                    sectors=["ENE.SOL"])
    _drain()

    page = client.get("/search?q=xử lý nước thải").get_data(as_text=True)

    assert "Municipal wastewater treatment plant" in page
    assert "Rooftop solar panels" not in page  # not close enough in meaning
    assert "Municipal wastewater" in page.split("class=\"facets\"")[1]  # facet counted


def test_search_results_are_answers_and_neighbours_wait_behind_a_link(client):
    SolutionFactory(published=True, title="Biogas upgrading skid", sectors=["ENE.BIO"],
                    summary="Membrane upgrading of biogas to biomethane.",
                    keywords=["biomethane"], description="From digester gas to grid gas.")
    other_listings()  # solar panels and air monitors: near in vector space, not about biogas
    _drain()

    page = client.get("/search?q=biogas").get_data(as_text=True)
    assert "Biogas upgrading skid" in page
    assert "Rooftop solar photovoltaic panels" not in page
    assert "Air quality monitoring micro-stations" not in page
    assert "1 results" in page and "related results" in page

    related = client.get("/search?q=biogas&related=1").get_data(as_text=True)
    assert "Rooftop solar photovoltaic panels" in related
    assert "Biogas upgrading skid" in related
    assert "Show only the results that answer your search" in related
