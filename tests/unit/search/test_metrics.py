import math

import pytest

from search.metrics import ndcg_at_k, recall_at_k


def test_perfect_ranking_scores_one():
    assert ndcg_at_k(["a", "b", "x"], {"a", "b"}) == pytest.approx(1.0)
    assert recall_at_k(["a", "b", "x"], {"a", "b"}) == 1.0


def test_ndcg_discounts_by_rank():
    # one relevant item at rank 2 of 1 relevant: 1/log2(3)
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))


def test_recall_is_capped_at_k():
    relevant = {f"r{i}" for i in range(20)}
    ranked = [f"r{i}" for i in range(10)]
    assert recall_at_k(ranked, relevant, k=10) == 1.0
    assert ndcg_at_k(ranked, relevant, k=10) == pytest.approx(1.0)


def test_nothing_relevant_found():
    assert ndcg_at_k(["x", "y"], {"a"}) == 0.0
    assert recall_at_k(["x", "y"], {"a"}) == 0.0
    assert ndcg_at_k(["x"], set()) == 0.0
