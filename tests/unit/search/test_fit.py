"""Structured fit: each relation and each reason, with the figures an explanation needs."""

from datetime import date

import pytest

from search import money
from search.documents import ListingDocument
from search.fit import sector_relation, structured_fit

# A slice of the taxonomy's crosswalk (marketplace.taxonomy.Taxonomy.crosswalk).
CROSSWALK = {"WST.BIO": {"ENE.BIO"}, "ENE.BIO": {"WST.BIO"}}


def _need(**fields):
    base = dict(id=1, kind="need", title="n", sectors=["WAT", "WAT.MUN"], countries=["VN"])
    base.update(fields)
    return ListingDocument(**base)


def _solution(**fields):
    base = dict(id=2, kind="solution", title="s", sectors=["WAT", "WAT.MUN"],
                countries=["VN", "TH"])
    base.update(fields)
    return ListingDocument(**base)


def _reason(reasons, kind, what=None):
    found = [r for r in reasons if r.kind == kind
             and (what is None or r.detail.get("what") == what)]
    assert len(found) == 1, reasons
    return found[0]


def _reasons(need, solution):
    return structured_fit(need, solution)[1]


# -- sectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("need", "solution", "relation"), [
    (["WAT", "WAT.MUN"], ["WAT", "WAT.MUN", "WAT.REU"], "same"),
    (["CPP"], ["CPP"], "same"),  # a top-level sector with no children
    (["WAT", "WAT.MUN"], ["WAT", "WAT.IND"], "family"),  # siblings
    (["WAT"], ["WAT", "WAT.IND"], "family"),  # a parent and its leaf
    (["WST", "WST.BIO"], ["ENE", "ENE.BIO"], "crosswalk"),
    (["WST", "WST.BIO"], ["AIR", "AIR.MON"], None),
])
def test_sector_relation(need, solution, relation):
    assert sector_relation(need, solution, CROSSWALK) == relation
    assert sector_relation(solution, need, CROSSWALK) == relation


def test_sector_relation_without_a_crosswalk_sees_only_the_tree():
    assert sector_relation(["WST.BIO"], ["ENE.BIO"], {}) is None


def test_same_sector_names_the_sector_the_two_chose():
    reason = _reason(_reasons(_need(), _solution(sectors=["WAT", "WAT.MUN", "WAT.REU"])),
                     "sectors")
    assert reason.detail == {"codes": ["WAT.MUN"], "relation": "same"}


def test_a_family_scores_less_than_the_same_sector_and_names_the_family():
    same, _ = structured_fit(_need(), _solution())
    family, reasons = structured_fit(_need(), _solution(sectors=["WAT", "WAT.IND"]))
    assert _reason(reasons, "sectors").detail == {"codes": ["WAT"], "relation": "family"}
    assert family < same


def test_crosswalk_relation_names_both_sectors(monkeypatch):
    monkeypatch.setattr("search.fit._CROSSWALK", CROSSWALK)
    need = _need(sectors=["WST", "WST.BIO"])
    score, reasons = structured_fit(need, _solution(sectors=["ENE", "ENE.BIO"]))
    assert _reason(reasons, "sectors").detail == {"codes": ["WST.BIO", "ENE.BIO"],
                                                  "relation": "crosswalk"}
    family, _ = structured_fit(need, _solution(sectors=["WST", "WST.LFL"]))
    assert 0 < score < family


def test_unrelated_sectors_count_against_and_give_no_reason():
    score, reasons = structured_fit(_need(countries=[]), _solution(sectors=["AIR", "AIR.MON"]))
    assert score == -1.0
    assert reasons == []


# -- requirements ----------------------------------------------------------------------------


def test_country_served_and_not():
    assert _reason(_reasons(_need(), _solution()), "country").detail == {"country": "VN"}
    reasons = _reasons(_need(countries=["LA"]), _solution())
    assert _reason(reasons, "unmet").detail == {"what": "country", "need": "LA"}


def test_a_readiness_below_the_minimum_is_unmet():
    score, reasons = structured_fit(_need(min_trl=7, countries=[], sectors=[]),
                                    _solution(trl=5))
    assert _reason(reasons, "unmet").detail == {"what": "trl", "need": 7, "offer": 5}
    assert score == -1.0


def test_a_readiness_at_the_minimum_says_nothing():
    assert structured_fit(_need(min_trl=7, countries=[], sectors=[]),
                          _solution(trl=7)) == (0.0, [])


def test_required_certifications_held_in_other_spelling():
    reasons = _reasons(_need(certifications=["ISO 14001"]),
                       _solution(certifications=["iso14001:2015", "CE"]))
    assert _reason(reasons, "certifications").detail == {"held": ["ISO 14001"]}


def test_missing_certifications_are_unmet():
    score, reasons = structured_fit(
        _need(certifications=["ISO 14001", "ISO 9001"], countries=[], sectors=[]),
        _solution(certifications=["ISO 9001"]))
    assert _reason(reasons, "unmet").detail == {
        "what": "certifications", "missing": ["ISO 14001"], "held": ["ISO 9001"]}
    assert score == 0.0  # half held


# -- capacity --------------------------------------------------------------------------------


def test_capacity_reason_carries_the_figures():
    # 1-50 m³/h and 40 m³/h, in the base unit (m³/day).
    reasons = _reasons(_need(capacity_dimension="flow", capacity_min=960.0),
                       _solution(capacity_dimension="flow", capacity_min=24.0,
                                 capacity_max=1200.0))
    assert _reason(reasons, "capacity").detail == {
        "fits": True, "dimension": "flow", "need": 960.0, "min": 24.0, "max": 1200.0}


def test_capacity_outside_the_range():
    score, reasons = structured_fit(
        _need(capacity_dimension="mass_rate", capacity_min=40.0, countries=[], sectors=[]),
        _solution(capacity_dimension="mass_rate", capacity_min=30.0))
    detail = _reason(reasons, "capacity").detail
    assert detail["fits"] is False and (detail["need"], detail["max"]) == (40.0, 30.0)
    assert score < 1.0


def test_capacity_in_another_dimension_is_neutral():
    assert structured_fit(
        _need(capacity_dimension="flow", capacity_min=40.0, countries=[], sectors=[]),
        _solution(capacity_dimension="power", capacity_min=30.0)) == (0.0, [])


# -- budget ----------------------------------------------------------------------------------


def _budget(need_currency, low, high, price_currency, price):
    reasons = _reasons(_need(currency=need_currency, price_min=low, price_max=high),
                       _solution(currency=price_currency, price_min=price))
    found = [r for r in reasons if r.kind == "budget"]
    return found[0].detail if found else None


def test_exchange_table_is_dated_and_converts():
    assert money.rates().as_of == date(2026, 11, 30)
    assert money.convert(4.2, "MYR", "USD") == pytest.approx(1.0)
    assert money.convert(7.1, "cny", "usd") == pytest.approx(1.0)
    assert money.convert(1.0, "XYZ", "USD") is None


def test_a_price_in_dollars_against_a_budget_in_ringgit():
    detail = _budget("MYR", 2_000_000.0, 5_000_000.0, "USD", 8000.0)
    assert detail["fits"] is True
    assert detail["as_of"] == "2026-11-30"
    assert detail["rate"] == pytest.approx(4.2)  # ringgit per dollar
    assert detail["converted_min"] == pytest.approx(476_190.48)
    assert detail["converted_max"] == pytest.approx(1_190_476.19)
    assert (detail["price_currency"], detail["budget_currency"]) == ("USD", "MYR")


def test_a_per_unit_price_far_below_a_project_budget_fits():
    assert _budget("VND", None, 25_400_000_000.0, "CNY", 50.0)["fits"] is True


def test_a_price_clearly_above_the_budget():
    # 1,000,000 CNY is about 141,000 USD: far above a budget of 50,000 USD.
    detail = _budget("USD", None, 50_000.0, "CNY", 1_000_000.0)
    assert detail["fits"] is False
    assert detail["rate"] == pytest.approx(1 / 7.1, rel=1e-5)


def test_a_price_just_above_the_budget_says_nothing():
    assert _budget("USD", None, 100_000.0, "USD", 110_000.0) is None


def test_same_currency_needs_no_rate():
    detail = _budget("USD", 100_000.0, 500_000.0, "USD", 200_000.0)
    assert detail == {"fits": True, "price_min": 200_000.0, "price_currency": "USD",
                      "budget_min": 100_000.0, "budget_max": 500_000.0,
                      "budget_currency": "USD"}


def test_an_unknown_currency_is_neutral():
    assert structured_fit(
        _need(currency="XYZ", price_max=10.0, countries=[], sectors=[]),
        _solution(currency="USD", price_min=1.0)) == (0.0, [])


def test_a_table_with_two_dates_is_refused(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("currency,units_per_usd,as_of\nUSD,1,2026-11-30\nCNY,7,2026-10-31\n")
    with pytest.raises(ValueError, match="one as_of date"):
        money.load_rates(path)
