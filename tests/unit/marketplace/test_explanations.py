"""Every reason kind in words: figures where there are figures, never a similarity number."""

import pytest

from marketplace import create_app
from marketplace.constants import CURRENCIES
from marketplace.discovery.explanations import ORDER, explain
from search import money
from search.documents import ListingDocument
from search.fit import structured_fit


@pytest.fixture(scope="module")
def english():
    # No database: explanations only need the app's Babel set-up.
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _line(kind, **detail):
    lines = explain([{"kind": kind, "detail": detail}])
    assert len(lines) <= 1
    return lines[0] if lines else None


pytestmark = pytest.mark.usefixtures("english")


def test_semantic_levels_in_words():
    assert _line("semantic", level="close") == "Close in meaning"
    assert _line("semantic", level="related") == "Related in meaning"


def test_old_semantic_rows_render_nothing():
    assert _line("semantic", similarity=0.81) is None
    assert explain([{"kind": "semantic", "detail": {"similarity": 0.81}},
                    {"kind": "sectors", "detail": {"codes": ["WAT.MUN"]}}]) == [
        "Same sector: Municipal wastewater"]


def test_concepts_and_terms():
    assert _line("concepts", terms=["anaerobic digestion", "biogas"]) == (
        "Both are about: anaerobic digestion, biogas")
    assert _line("terms", terms=["sludge", "MBR"]) == "Shares the words: sludge, MBR"


def test_the_three_sector_relations():
    assert _line("sectors", codes=["WST.BIO"], relation="same") == (
        "Same sector: Composting and anaerobic digestion")
    assert _line("sectors", codes=["WAT"], relation="family") == "Same sector family: Water"
    assert _line("sectors", codes=["WST.BIO", "ENE.BIO"], relation="crosswalk") == (
        "Related sectors: Composting and anaerobic digestion; Biomass and biogas")


def test_country():
    assert _line("country", country="VN") == "Serves Viet Nam"


def test_capacity_with_figures_in_a_unit_a_reader_uses():
    # 1-50 m³/h and 40 m³/h, stored in m³/day.
    assert _line("capacity", fits=True, dimension="flow", need=960.0, min=24.0,
                 max=1200.0) == "Handles 1–50 m³/h; you need 40 m³/h"
    assert _line("capacity", fits=False, dimension="mass_rate", need=40.0, min=30.0,
                 max=30.0) == "Handles 30 t/day; you need 40 t/day (outside the range)"
    assert _line("capacity", fits=True, dimension="flow", need=20_000.0, min=0.0,
                 max=50_000.0) == "Handles up to 50,000 m³/day; you need 20,000 m³/day"
    assert _line("capacity", fits=True, dimension="power", need=2500.0, min=1000.0,
                 max=5000.0) == "Handles 1–5 MW; you need 2.5 MW"


def test_old_capacity_rows_keep_their_words():
    assert _line("capacity", fits=True, dimension="flow") == (
        "The required capacity is within the solution's range")


def test_budget_across_currencies_names_the_rate_and_its_date():
    assert _line("budget", fits=True, price_min=8000.0, price_currency="USD",
                 budget_min=2_000_000.0, budget_max=5_000_000.0, budget_currency="MYR",
                 converted_min=476_190.48, converted_max=1_190_476.19, rate=4.2,
                 as_of="2026-11-30") == (
        "Indicative price from USD 8,000 fits the budget of MYR 2,000,000–5,000,000 "
        "(≈ USD 476,000–1,190,000; 1 USD = 4.2 MYR, rate of 2026-11-30)")
    assert _line("budget", fits=False, price_min=1_000_000.0, price_currency="CNY",
                 budget_min=None, budget_max=50_000.0, budget_currency="USD",
                 converted_min=None, converted_max=355_000.0, rate=0.140845,
                 as_of="2026-11-30") == (
        "Indicative price from CNY 1,000,000 is above the budget of up to USD 50,000 "
        "(≈ up to CNY 355,000; 1 CNY = 0.141 USD, rate of 2026-11-30)")


def test_budget_in_one_currency_and_old_rows():
    assert _line("budget", fits=True, price_min=200_000.0, price_currency="USD",
                 budget_min=100_000.0, budget_max=500_000.0, budget_currency="USD") == (
        "Indicative price from USD 200,000 fits the budget of USD 100,000–500,000")
    assert _line("budget", fits=False) == "The indicative price is above the budget"


def test_certifications_and_unmet_requirements():
    assert _line("certifications", held=["ISO 14001"]) == (
        "Holds the required certifications: ISO 14001")
    assert _line("certifications", held=[], missing=["CE"]) == (  # an old row
        "Lacks the required certifications: CE")
    assert _line("unmet", what="trl", need=7, offer=5) == "Needs TRL 7; this is TRL 5"
    assert _line("unmet", what="certifications", missing=["ISO 14001"], held=[]) == (
        "Lacks the required certifications: ISO 14001")
    assert _line("unmet", what="country", need="LA") == "Does not serve Lao PDR"


def test_unknown_kinds_and_empty_details_render_nothing():
    assert explain([{"kind": "novel", "detail": {"x": 1}}, {"kind": "terms", "detail": {}},
                    {"kind": "sectors"}]) == []


def test_what_makes_the_match_comes_first():
    reasons = [{"kind": "unmet", "detail": {"what": "trl", "need": 7, "offer": 5}},
               {"kind": "semantic", "detail": {"level": "close"}},
               {"kind": "country", "detail": {"country": "VN"}},
               {"kind": "capacity", "detail": {"fits": True, "dimension": "flow"}},
               {"kind": "concepts", "detail": {"terms": ["biogas"]}},
               {"kind": "sectors", "detail": {"codes": ["WAT"], "relation": "family"}}]
    assert explain(reasons) == [
        "Same sector family: Water", "Both are about: biogas",
        "The required capacity is within the solution's range", "Close in meaning",
        "Serves Viet Nam", "Needs TRL 7; this is TRL 5"]
    assert ORDER[:3] == ("sectors", "concepts", "capacity")


def test_no_reason_the_fit_makes_shows_a_percentage():
    need = ListingDocument(id=1, kind="need", title="n", sectors=["WST", "WST.BIO"],
                           countries=["MY"], capacity_dimension="mass_rate", capacity_min=40.0,
                           capacity_max=40.0, currency="MYR", price_min=2e6, price_max=5e6,
                           certifications=["ISO 14001"], min_trl=7)
    solution = ListingDocument(id=2, kind="solution", title="s", sectors=["ENE", "ENE.BIO"],
                               countries=["MY"], capacity_dimension="mass_rate",
                               capacity_min=10.0, capacity_max=30.0, currency="USD",
                               price_min=8000.0, trl=5)
    _score, reasons = structured_fit(need, solution)
    stored = [{"kind": r.kind, "detail": r.detail} for r in reasons]
    stored.append({"kind": "semantic", "detail": {"similarity": 0.8}})
    lines = explain(stored)
    assert len(lines) == len(reasons)  # every reason the fit gave says something
    assert not any("%" in line for line in lines)
    assert "Needs TRL 7; this is TRL 5" in lines
    assert "Handles 10–30 t/day; you need 40 t/day (outside the range)" in lines


def test_every_listed_currency_has_a_rate():
    assert set(CURRENCIES) <= set(money.rates().per_usd)
