"""The delivery rule (search/evidence.py): what clears the bar, and the reasons it gives."""

from search import evidence
from search.documents import ListingDocument
from search.evidence import DELIVERY_BAR, Evidence, reasons, relevant_to_query, weigh


def _strong(**overrides):
    values = {"text": 1.0, "semantic": 4.0, "sector": "same",
              "concepts": ["anaerobic digestion", "biogas"], "fit": 1.0}
    return Evidence(**{**values, **overrides})


def _weak(**overrides):
    values = {"text": 0.1, "semantic": -0.5, "sector": None, "concepts": [], "fit": -0.3}
    return Evidence(**{**values, **overrides})


def test_a_clear_answer_clears_the_bar_and_noise_does_not():
    found = [_strong(), _weak(), _weak(text=0.2)]
    weigh("need", found)
    assert found[0].delivered and found[0].score >= DELIVERY_BAR
    assert not found[1].delivered and not found[2].delivered


def test_the_bar_is_the_one_number_that_decides(monkeypatch):
    found = [_strong(), _weak()]
    weigh("need", found)
    monkeypatch.setattr(evidence, "DELIVERY_BAR", found[0].score + 0.01)
    assert not found[0].delivered
    monkeypatch.setattr(evidence, "DELIVERY_BAR", found[0].score - 0.01)
    assert found[0].delivered


def test_nothing_relevant_in_the_pool_delivers_nothing():
    """The no-answer case: words and meaning near the background, no shared sector."""
    found = [_weak(text=1.0), _weak(semantic=0.5), _weak()]
    for kind in ("need", "solution"):
        weigh(kind, found)
        assert not any(item.delivered for item in found)


def test_a_shared_sector_counts_and_a_wrong_one_does_not():
    same, none = _strong(sector="same"), _strong(sector=None)
    weigh("need", [same, _weak()])
    weigh("need", [none, _weak()])
    assert same.score > none.score


def test_a_concept_every_candidate_shares_counts_for_less_than_a_rare_one():
    rare = _weak(concepts=["anaerobic digestion"])
    common = [_weak(concepts=["energy"]) for _ in range(10)]
    weigh("need", [rare, *common])
    assert rare.concept_weight > common[0].concept_weight


def test_a_clear_leader_scores_above_one_among_equals():
    leader, others = _strong(), [_weak() for _ in range(5)]
    weigh("need", [leader, *others])
    tied = [_strong() for _ in range(3)]
    weigh("need", tied)
    assert leader.margin > 0 and tied[0].margin == 0
    assert leader.score > tied[0].score


def test_reasons_say_what_the_rule_used_in_calibrated_words():
    close = reasons(_strong(semantic=4.0))
    assert {r.kind for r in close} == {"concepts", "semantic"}
    assert [r.detail for r in close if r.kind == "semantic"] == [{"level": "close"}]
    assert [r.detail for r in reasons(_strong(semantic=2.0)) if r.kind == "semantic"] == [
        {"level": "related"}]
    # Near the background: no semantic reason at all, and never a raw cosine.
    assert not [r for r in reasons(_weak()) if r.kind == "semantic"]
    assert all("similarity" not in r.detail for r in close)


def test_the_search_page_bar_keeps_answers_and_drops_mere_neighbours():
    assert relevant_to_query(_weak(text_share=0.8))  # its words
    assert relevant_to_query(_weak(concepts=["biogas"]))  # a concept the query names
    assert relevant_to_query(_weak(semantic=3.5))  # close in meaning
    assert not relevant_to_query(_weak())  # a nearest neighbour and nothing more
    assert not relevant_to_query(None)


def test_sector_relation_on_the_tree():
    def doc(kind, *codes):
        return ListingDocument(id=1, kind=kind, title="", sectors=list(codes))

    need = doc("need", "WAT.MUN", "WAT")
    assert evidence.sector_relation(need, doc("solution", "WAT.MUN", "WAT")) == "same"
    assert evidence.sector_relation(need, doc("solution", "WAT.IND", "WAT")) == "family"
    assert evidence.sector_relation(need, doc("solution", "AIR.IND", "AIR")) is None


def test_a_lone_candidate_is_weighed_on_its_own_evidence():
    alone = [_strong()]
    weigh("solution", alone)
    assert alone[0].margin > 0 and alone[0].delivered
    nothing = [_weak()]
    weigh("solution", nothing)
    assert not nothing[0].delivered
